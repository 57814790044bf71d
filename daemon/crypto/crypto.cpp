#include "crypto/crypto.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>

#include <stdexcept>

#include "common/encoding.h"

namespace kb::crypto {
namespace {
// Hashing fails only when OpenSSL cannot allocate: a broken invariant, so it throws.
void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(what);
}

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

std::string bioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(n));
}

BioPtr memBio(std::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

Result<std::string> rawPublic(EVP_PKEY* key) {
  std::string raw(32, '\0');
  std::size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &len) != 1 ||
      len != 32)
    return fail(Errc::Malformed, "not an Ed25519 key");
  return raw;
}
}  // namespace

void PkeyDeleter::operator()(EVP_PKEY* k) const {
  EVP_PKEY_free(k);
}

Result<PublicKey> PublicKey::fromRaw(std::string_view raw32) {
  if (raw32.size() != 32) return fail(Errc::Malformed, "an Ed25519 public key has 32 bytes");
  PkeyPtr key(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw32.data()), 32));
  if (!key) return fail(Errc::Malformed, "invalid Ed25519 public key");
  return PublicKey(std::string(raw32), std::move(key));
}

Result<PublicKey> PublicKey::fromPem(std::string_view pem) {
  auto bio = memBio(pem);
  PkeyPtr key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key || EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519)
    return fail(Errc::Malformed, "not a PEM Ed25519 public key");
  auto raw = rawPublic(key.get());
  if (!raw) return std::unexpected(raw.error());
  return PublicKey(std::move(*raw), std::move(key));
}

std::string PublicKey::toPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PUBKEY(bio.get(), key_.get());
  return bioText(bio.get());
}

std::string PublicKey::keyId() const {
  return hexEncode(sha256(raw_).substr(0, 16));
}

bool PublicKey::verify(std::string_view message, std::string_view signature) const {
  if (signature.size() != 64) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                          message.size()) == 1;
}

Result<SigningKey> SigningKey::generate() {
  EVP_PKEY* raw = nullptr;
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr), &EVP_PKEY_CTX_free);
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1)
    return fail(Errc::Internal, "Ed25519 key generation failed");
  return SigningKey(PkeyPtr(raw));
}

Result<SigningKey> SigningKey::fromPem(std::string_view pem) {
  auto bio = memBio(pem);
  // A callback that supplies no password: an encrypted key fails instead of
  // prompting on a terminal that a daemon or CI does not have.
  auto no_password = [](char*, int, int, void*) { return 0; };
  PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr));
  if (!key || EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519)
    return fail(Errc::Malformed, "not a PEM Ed25519 private key");
  return SigningKey(std::move(key));
}

std::string SigningKey::toPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return bioText(bio.get());
}

PublicKey SigningKey::publicKey() const {
  auto raw = rawPublic(key_.get());
  return *PublicKey::fromRaw(*raw);  // an Ed25519 private key always has a public half
}

std::string SigningKey::sign(std::string_view message) const {
  MdCtxPtr ctx(EVP_MD_CTX_new());
  std::string sig(64, '\0');
  std::size_t len = sig.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1)
    throw std::runtime_error("Ed25519 signing failed");  // cannot happen with a valid key
  return sig;
}

std::string sha256(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.finish();
}

std::string hmacSha256(std::string_view key, std::string_view data) {
  return HmacSha256(key).mac(data);
}

HmacSha256::HmacSha256(std::string_view key) {
  static EVP_MAC* const kHmac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);  // fetched once
  require(kHmac != nullptr, "HMAC");
  ctx_.reset(EVP_MAC_CTX_new(kHmac), EVP_MAC_CTX_free);
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_construct_end()};
  require(ctx_ && EVP_MAC_init(ctx_.get(), reinterpret_cast<const unsigned char*>(key.data()),
                               key.size(), params) == 1,
          "HMAC-SHA-256 key");
}

std::string HmacSha256::mac(std::string_view data) const {
  const std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(EVP_MAC_CTX_dup(ctx_.get()),
                                                                      EVP_MAC_CTX_free);
  std::string out(32, '\0');
  std::size_t len = 0;
  require(ctx &&
              EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(data.data()),
                             data.size()) == 1 &&
              EVP_MAC_final(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                            out.size()) == 1 &&
              len == out.size(),
          "HMAC-SHA-256");
  return out;
}

namespace {
// Fetched once: EVP_sha256() makes every EVP_DigestInit_ex look the provider's
// implementation up by name again, which cost more than hashing a card number.
const EVP_MD* sha256Md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  return md != nullptr ? md : EVP_sha256();
}
}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(ctx_, sha256Md(), nullptr);
}
Sha256::~Sha256() {
  EVP_MD_CTX_free(ctx_);
}
void Sha256::update(std::string_view data) {
  EVP_DigestUpdate(ctx_, data.data(), data.size());
}
std::string Sha256::finish() {
  std::string out(32, '\0');
  require(EVP_DigestFinal_ex(ctx_, reinterpret_cast<unsigned char*>(out.data()), nullptr) == 1 &&
              EVP_DigestInit_ex(ctx_, sha256Md(), nullptr) == 1,
          "SHA-256 final");
  return out;
}

}  // namespace kb::crypto
