#pragma once
/// The only place that talks to OpenSSL: Ed25519 keys and signatures, SHA-256,
/// HMAC-SHA-256. Raw byte strings in and out; encodings live elsewhere.

#include <memory>
#include <string>
#include <string_view>

#include "common/error.h"

typedef struct evp_pkey_st EVP_PKEY;
typedef struct evp_md_ctx_st EVP_MD_CTX;
typedef struct evp_mac_ctx_st EVP_MAC_CTX;

namespace kb::crypto {

struct PkeyDeleter {
  void operator()(EVP_PKEY* k) const;
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

/// An Ed25519 public key (32 raw bytes).
class PublicKey {
 public:
  static Result<PublicKey> fromRaw(std::string_view raw32);
  static Result<PublicKey> fromPem(std::string_view pem);

  const std::string& raw() const { return raw_; }
  std::string toPem() const;
  /// Stable identifier: hex of the first 16 bytes of SHA-256(raw key).
  std::string keyId() const;
  bool verify(std::string_view message, std::string_view signature) const;

 private:
  PublicKey(std::string raw, PkeyPtr key) : raw_(std::move(raw)), key_(std::move(key)) {}
  std::string raw_;
  std::shared_ptr<EVP_PKEY> key_;  // shared: keys are copied into trust roots freely
};

/// An Ed25519 private key.
class SigningKey {
 public:
  static Result<SigningKey> generate();
  static Result<SigningKey> fromPem(std::string_view pem);

  std::string toPem() const;  ///< PKCS#8, unencrypted (the file mode protects it)
  PublicKey publicKey() const;
  std::string sign(std::string_view message) const;  ///< 64 bytes

 private:
  explicit SigningKey(PkeyPtr key) : key_(std::move(key)) {}
  std::shared_ptr<EVP_PKEY> key_;  // shared: an immutable key is cheap to copy
};

std::string sha256(std::string_view data);                            ///< 32 raw bytes
std::string hmacSha256(std::string_view key, std::string_view data);  ///< 32 raw bytes

/// HMAC-SHA-256 under one key, set up once. OpenSSL 3 looks HMAC and SHA-256
/// up by name whenever a context is set up, under a lock that request threads
/// then contend for; mac() only copies the set-up context.
class HmacSha256 {
 public:
  explicit HmacSha256(std::string_view key);
  std::string mac(std::string_view data) const;  ///< 32 raw bytes

 private:
  std::shared_ptr<EVP_MAC_CTX> ctx_;  // shared: never changed after set-up
};

/// Incremental SHA-256 for data that arrives in pieces.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view data);
  std::string finish();  ///< 32 raw bytes; the object is reset afterwards

 private:
  EVP_MD_CTX* ctx_;
};

}  // namespace kb::crypto
