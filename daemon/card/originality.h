#pragma once
/// NXP originality signature of NTAG21x chips (AN11350): ECDSA on secp128r1 over
/// the 7-byte UID used directly as the "digest" (no hash), returned by READ_SIG
/// as 32 bytes r || s. It proves an NXP-made chip, not the original card: an
/// emulator can replay it. One signal among others, never a verdict alone.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace kb::card {

enum class Originality { Valid, Invalid, NotSupported };
std::string_view originalityName(Originality o);  ///< "VALID", "INVALID", "NOT_SUPPORTED"

/// NXP's published NTAG21x originality key (AN11350), uncompressed point, 33 bytes.
std::string nxpNtag21xPublicKey();

class OriginalityKey {
 public:
  /// From an uncompressed secp128r1 point (0x04 || X || Y). MALFORMED if not on the curve.
  static Result<OriginalityKey> fromPoint(std::string_view point);
  /// From a PEM "PUBLIC KEY" (SubjectPublicKeyInfo) on secp128r1.
  static Result<OriginalityKey> fromPem(std::string_view pem);
  static Result<OriginalityKey> nxpNtag21x();

  std::string point() const;  ///< uncompressed point, 33 bytes
  std::string toPem() const;
  /// True if `signature` (32 bytes r || s) signs `uid`.
  bool verify(std::string_view uid, std::string_view signature) const;

 private:
  friend class OriginalitySigningKey;
  explicit OriginalityKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}
  std::shared_ptr<EVP_PKEY> key_;
};

/// A secp128r1 private key playing NXP's part, for tests and the PN532 emulator.
class OriginalitySigningKey {
 public:
  static Result<OriginalitySigningKey> generate();
  static Result<OriginalitySigningKey> fromPem(std::string_view pem);
  std::string toPem() const;  ///< PKCS#8
  OriginalityKey publicKey() const;
  /// 32 bytes r || s over the raw UID, as READ_SIG returns it.
  Result<std::string> sign(std::string_view uid) const;

 private:
  explicit OriginalitySigningKey(std::shared_ptr<EVP_PKEY> key) : key_(std::move(key)) {}
  std::shared_ptr<EVP_PKEY> key_;
};

/// Convenience for the emulator: signs `uid` with a PEM private key.
Result<std::string> signOriginality(std::string_view private_key_pem, std::string_view uid);

/// VALID if any key verifies, INVALID if none does, NOT_SUPPORTED without a signature.
Originality checkOriginality(const std::vector<OriginalityKey>& keys, std::string_view uid,
                             const std::optional<std::string>& signature);

}  // namespace kb::card
