#include "card/originality.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <array>

#include "common/encoding.h"

// OpenSSL's EVP interface throughout: the EC_KEY/ECDSA_do_* calls are deprecated in
// OpenSSL 3. EVP_PKEY_verify with no digest set runs ECDSA on the bytes given,
// which is exactly AN11350's "sign the UID itself".

namespace kb::card {
namespace {

constexpr const char* kCurve = "secp128r1";
constexpr std::size_t kCoordSize = 16;
constexpr std::size_t kPointSize = 1 + 2 * kCoordSize;
constexpr std::size_t kOriginalitySigSize = 2 * kCoordSize;

// AN11350, NTAG21x originality key (cross-checked against the Proxmark3 key table).
constexpr std::string_view kNxpNtag21xKeyHex =
    "04494E1A386D3D3CFE3DC10E5DE68A499B1C202DB5B132393E89ED19FE5BE8BC61";

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct CtxDeleter {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
};
struct ParamBldDeleter {
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
};
struct ParamDeleter {
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
struct SigDeleter {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
struct BnDeleter {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;
using CtxPtr = std::unique_ptr<EVP_PKEY_CTX, CtxDeleter>;
using SigPtr = std::unique_ptr<ECDSA_SIG, SigDeleter>;
using BnPtr = std::unique_ptr<BIGNUM, BnDeleter>;

std::shared_ptr<EVP_PKEY> own(EVP_PKEY* key) {
  return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

bool onCurve(EVP_PKEY* key) {
  std::array<char, 32> group{};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group.data(), group.size(),
                                     &len) != 1 ||
      std::string_view(group.data(), len) != kCurve)
    return false;
  CtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  return ctx && EVP_PKEY_public_check(ctx.get()) == 1;
}

std::string bioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

std::string_view originalityName(Originality o) {
  switch (o) {
    case Originality::Valid:
      return "VALID";
    case Originality::Invalid:
      return "INVALID";
    case Originality::NotSupported:
      return "NOT_SUPPORTED";
  }
  return "NOT_SUPPORTED";
}

std::string nxpNtag21xPublicKey() {
  return *hexDecode(kNxpNtag21xKeyHex);
}

Result<OriginalityKey> OriginalityKey::fromPoint(std::string_view point) {
  if (point.size() != kPointSize || point[0] != '\x04')
    return fail(Errc::Malformed,
                "originality key must be an uncompressed secp128r1 point (33 bytes)");
  std::unique_ptr<OSSL_PARAM_BLD, ParamBldDeleter> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, kCurve, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1)
    return fail(Errc::Internal, "OpenSSL parameter build failed");
  std::unique_ptr<OSSL_PARAM, ParamDeleter> params(OSSL_PARAM_BLD_to_param(bld.get()));
  CtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    return fail(Errc::Malformed, "originality key is not a point on secp128r1");
  auto key = own(raw);
  if (!onCurve(key.get()))
    return fail(Errc::Malformed, "originality key is not a point on secp128r1");
  return OriginalityKey(std::move(key));
}

Result<OriginalityKey> OriginalityKey::fromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return fail(Errc::Internal, "BIO_new_mem_buf failed");
  auto key = own(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key || !onCurve(key.get()))
    return fail(Errc::Malformed, "not a secp128r1 public key in PEM");
  return OriginalityKey(std::move(key));
}

Result<OriginalityKey> OriginalityKey::nxpNtag21x() {
  return fromPoint(nxpNtag21xPublicKey());
}

std::string OriginalityKey::point() const {
  std::array<unsigned char, 2 * kPointSize> buf{};
  std::size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key_.get(), OSSL_PKEY_PARAM_PUB_KEY, buf.data(), buf.size(),
                                      &len) != 1)
    return {};
  return std::string(reinterpret_cast<const char*>(buf.data()), len);
}

std::string OriginalityKey::toPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) return {};
  return bioText(bio.get());
}

bool OriginalityKey::verify(std::string_view uid, std::string_view signature) const {
  if (signature.size() != kOriginalitySigSize || uid.empty()) return false;
  SigPtr sig(ECDSA_SIG_new());
  BnPtr r(BN_bin2bn(bytes(signature), static_cast<int>(kCoordSize), nullptr));
  BnPtr s(BN_bin2bn(bytes(signature.substr(kCoordSize)), static_cast<int>(kCoordSize), nullptr));
  if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) return false;
  (void)r.release();  // owned by sig now
  (void)s.release();
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(sig.get(), &der);
  if (der_len <= 0) return false;
  std::unique_ptr<unsigned char, void (*)(unsigned char*)> der_owner(
      der, [](unsigned char* p) { OPENSSL_free(p); });
  CtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
  return ctx && EVP_PKEY_verify_init(ctx.get()) == 1 &&
         EVP_PKEY_verify(ctx.get(), der, static_cast<std::size_t>(der_len), bytes(uid),
                         uid.size()) == 1;
}

Result<OriginalitySigningKey> OriginalitySigningKey::generate() {
  auto key = own(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", kCurve));
  if (!key) return fail(Errc::Internal, "secp128r1 key generation failed");
  return OriginalitySigningKey(std::move(key));
}

Result<OriginalitySigningKey> OriginalitySigningKey::fromPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return fail(Errc::Internal, "BIO_new_mem_buf failed");
  auto key = own(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key || !onCurve(key.get()))
    return fail(Errc::Malformed, "not a secp128r1 private key in PEM");
  return OriginalitySigningKey(std::move(key));
}

std::string OriginalitySigningKey::toPem() const {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return {};
  return bioText(bio.get());
}

OriginalityKey OriginalitySigningKey::publicKey() const {
  return OriginalityKey(key_);
}

Result<std::string> OriginalitySigningKey::sign(std::string_view uid) const {
  CtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
  std::size_t der_len = 0;
  if (!ctx || EVP_PKEY_sign_init(ctx.get()) != 1 ||
      EVP_PKEY_sign(ctx.get(), nullptr, &der_len, bytes(uid), uid.size()) != 1)
    return fail(Errc::Internal, "ECDSA sign init failed");
  std::string der(der_len, '\0');
  auto* der_data = reinterpret_cast<unsigned char*>(der.data());
  if (EVP_PKEY_sign(ctx.get(), der_data, &der_len, bytes(uid), uid.size()) != 1)
    return fail(Errc::Internal, "ECDSA sign failed");
  const unsigned char* p = der_data;
  SigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  if (!sig) return fail(Errc::Internal, "ECDSA signature decode failed");
  std::string out(kOriginalitySigSize, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), o, static_cast<int>(kCoordSize)) < 0 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), o + kCoordSize, static_cast<int>(kCoordSize)) < 0)
    return fail(Errc::Internal, "ECDSA signature does not fit 16 bytes");
  return out;
}

Result<std::string> signOriginality(std::string_view private_key_pem, std::string_view uid) {
  auto key = OriginalitySigningKey::fromPem(private_key_pem);
  if (!key) return std::unexpected(key.error());
  return key->sign(uid);
}

Originality checkOriginality(const std::vector<OriginalityKey>& keys, std::string_view uid,
                             const std::optional<std::string>& signature) {
  if (!signature) return Originality::NotSupported;
  for (const auto& key : keys)
    if (key.verify(uid, *signature)) return Originality::Valid;
  return Originality::Invalid;
}

}  // namespace kb::card
