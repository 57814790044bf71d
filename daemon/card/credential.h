#pragma once
/// The Kartu Bahagia card credential: a compact signed binding of card number,
/// chip UID and issue date to a `card` key of the trust root. It is stored as
/// one NDEF external-type record and fits NTAG213's 144 user bytes.
///
/// Version 1 layout (all integers big-endian), 83 + N bytes (N = card number length):
///   0      1   version (1)
///   1      1   N, card number length (6..24)
///   2      N   card number, [0-9A-Z-]
///   2+N    7   chip UID
///   9+N    2   issue date, days since 1970-01-01
///   11+N   8   issuer key id prefix: first 8 bytes of the card key's key id
///   19+N   64  Ed25519 signature over kCredentialDomain || bytes 0 .. 18+N
///
/// The key id prefix is only a lookup hint: the signature decides. Eight bytes
/// keep a 24-character card number inside NTAG213 (NDEF TLV ≤ 143 of 144 bytes)
/// and cannot collide by accident among the handful of card keys a root lists;
/// if two keys ever share a prefix, every matching key is tried.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/time.h"
#include "crypto/crypto.h"
#include "schema/schema.h"

namespace kb::trust {
class TrustRoot;
}

namespace kb::card {

inline constexpr std::uint8_t kCredentialVersion = 1;
inline constexpr std::size_t kUidSize = 7;
inline constexpr std::size_t kKeyPrefixSize = 8;
inline constexpr std::size_t kSignatureSize = 64;
inline constexpr std::size_t kMaxCardNo = schema::kCardNoMax;
inline constexpr std::size_t kMaxCredentialSize = 83 + kMaxCardNo;
/// Prepended to the signed bytes so that a card signature can never be replayed as
/// (or forged from) a signature over any other document signed by the same key.
inline constexpr std::string_view kCredentialDomain = "kartubahagia card credential v1\n";
/// NDEF external type (TNF 4) of the record holding the credential.
inline constexpr std::string_view kRecordType = "kartubahagia.jambikota.go.id:c";

struct Credential {
  std::uint8_t version = kCredentialVersion;
  std::string card_no;
  std::string uid;  ///< 7 raw bytes
  EpochDay issued = 0;
  std::string key_prefix;  ///< 8 raw bytes
  std::string signature;   ///< 64 raw bytes
};

/// True for a card number of the form [0-9A-Z-]{6,24} (docs/contracts.md §1).
bool validCardNo(std::string_view card_no);

/// Serialises all fields; the caller guarantees their sizes (issueCredential does).
std::string encodeCredential(const Credential& credential);
/// Parses a credential. MALFORMED for an unknown version, a bad card number or a
/// wrong length; never reads past `bytes`.
Result<Credential> decodeCredential(std::string_view bytes);
/// The exact bytes the signature covers.
std::string signedBytes(const Credential& credential);

/// Creates and signs a credential. MALFORMED for a bad card number, a UID that is
/// not 7 bytes or an issue date outside 1970..2149.
Result<Credential> issueCredential(const crypto::SigningKey& key, std::string_view card_no,
                                   std::string_view uid, EpochDay issued);

enum class CredentialCheck {
  Genuine,  ///< signed by a card key of the root and bound to this UID
  Cloned,   ///< signed correctly but bound to another UID
  Forged,   ///< bad signature, or the issuer key is not a card key of the root
};

/// Checks a decoded credential against the root's `card` role and the chip's UID.
CredentialCheck verifyCredential(const trust::TrustRoot& root, std::string_view uid,
                                 const Credential& credential);

}  // namespace kb::card
