#include "card/credential.h"

#include "common/encoding.h"
#include "schema/schema.h"
#include "trust/trust.h"

namespace kb::card {
namespace {

constexpr std::size_t kFixedSize = 2 + kUidSize + 2 + kKeyPrefixSize + kSignatureSize;
constexpr EpochDay kMaxIssued = 0xFFFF;

}  // namespace

bool validCardNo(std::string_view card_no) {
  return schema::isCardNo(card_no);
}

std::string signedBytes(const Credential& credential) {
  std::string out(kCredentialDomain);
  out.push_back(static_cast<char>(credential.version));
  out.push_back(static_cast<char>(credential.card_no.size()));
  out += credential.card_no;
  out += credential.uid;
  const auto issued = static_cast<std::uint16_t>(credential.issued);
  out.push_back(static_cast<char>(issued >> 8));
  out.push_back(static_cast<char>(issued & 0xFF));
  out += credential.key_prefix;
  return out;
}

std::string encodeCredential(const Credential& credential) {
  return signedBytes(credential).substr(kCredentialDomain.size()) + credential.signature;
}

Result<Credential> decodeCredential(std::string_view bytes) {
  if (bytes.size() < 2) return fail(Errc::Malformed, "credential too short");
  const auto version = static_cast<std::uint8_t>(bytes[0]);
  if (version != kCredentialVersion)
    return fail(Errc::Malformed,
                "credential version " + std::to_string(version) + " is not supported");
  const std::size_t n = static_cast<std::uint8_t>(bytes[1]);
  if (bytes.size() != kFixedSize + n)
    return fail(Errc::Malformed,
                "credential length " + std::to_string(bytes.size()) + " does not match");
  Credential c;
  c.version = version;
  std::size_t pos = 2;
  c.card_no = std::string(bytes.substr(pos, n));
  if (!validCardNo(c.card_no)) return fail(Errc::Malformed, "credential card number is not valid");
  pos += n;
  c.uid = std::string(bytes.substr(pos, kUidSize));
  pos += kUidSize;
  c.issued = static_cast<EpochDay>((static_cast<std::uint8_t>(bytes[pos]) << 8) |
                                   static_cast<std::uint8_t>(bytes[pos + 1]));
  pos += 2;
  c.key_prefix = std::string(bytes.substr(pos, kKeyPrefixSize));
  pos += kKeyPrefixSize;
  c.signature = std::string(bytes.substr(pos, kSignatureSize));
  return c;
}

Result<Credential> issueCredential(const crypto::SigningKey& key, std::string_view card_no,
                                   std::string_view uid, EpochDay issued) {
  if (!validCardNo(card_no)) return fail(Errc::Malformed, "card number must match [0-9A-Z-]{6,24}");
  if (uid.size() != kUidSize) return fail(Errc::Malformed, "chip UID must be 7 bytes");
  if (issued < 0 || issued > kMaxIssued) return fail(Errc::Malformed, "issue date out of range");
  Credential c;
  c.card_no = std::string(card_no);
  c.uid = std::string(uid);
  c.issued = issued;
  auto key_id = hexDecode(key.publicKey().keyId());
  if (!key_id || key_id->size() < kKeyPrefixSize) return fail(Errc::Internal, "key id is not hex");
  c.key_prefix = key_id->substr(0, kKeyPrefixSize);
  c.signature = key.sign(signedBytes(c));
  return c;
}

CredentialCheck verifyCredential(const trust::TrustRoot& root, std::string_view uid,
                                 const Credential& credential) {
  const std::string prefix_hex = hexEncode(credential.key_prefix);
  const std::string message = signedBytes(credential);
  bool signature_ok = false;
  for (const auto& keyid : root.role(trust::Role::Card).keyids) {
    if (keyid.size() < prefix_hex.size() || keyid.compare(0, prefix_hex.size(), prefix_hex) != 0)
      continue;
    const crypto::PublicKey* key = root.key(trust::Role::Card, keyid);
    if (key && key->verify(message, credential.signature)) {
      signature_ok = true;
      break;
    }
  }
  if (!signature_ok) return CredentialCheck::Forged;
  // The UID binding is checked only after the signature: a clone carries a real
  // signature, a forgery does not, and the verdicts must not be confused.
  return credential.uid == uid ? CredentialCheck::Genuine : CredentialCheck::Cloned;
}

}  // namespace kb::card
