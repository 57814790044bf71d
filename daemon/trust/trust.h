#pragma once
/// The root of trust: which keys may sign what, how many must agree, until when.
/// Signed documents are JSON: {"signed": {...}, "signatures": [{"keyid", "sig"}]}.
/// See docs/formats.md for the exact bytes that are signed.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/time.h"
#include "crypto/crypto.h"

namespace kb::trust {

enum class Role { Root, Snapshot, Card, Timestamp };
std::string_view roleName(Role role);

/// The bytes that are signed: compact JSON, object keys sorted by byte value,
/// UTF-8 as-is, integers only.
std::string canonicalJson(const nlohmann::json& value);

struct Signature {
  std::string keyid;
  std::string sig;  ///< 64 raw bytes
};

struct SignedDocument {
  nlohmann::json body;    ///< the "signed" object
  std::string canonical;  ///< canonicalJson(body): what the signatures cover
  std::vector<Signature> signatures;
};

/// Parses the envelope; MALFORMED on anything unexpected.
Result<SignedDocument> parseSigned(std::string_view text);
/// Signs `body` with every key given and returns the envelope as JSON text.
std::string signDocument(const nlohmann::json& body, const std::vector<crypto::SigningKey>& keys);

struct RoleKeys {
  std::vector<std::string> keyids;
  int threshold = 1;
};

class TrustRoot {
 public:
  /// Parses a root document and checks that it is signed by a threshold of its
  /// own root keys and not expired at `now`.
  static Result<TrustRoot> parse(std::string_view text, UnixSeconds now);
  static Result<TrustRoot> load(const std::string& path, UnixSeconds now);

  /// Accepts `next` only if it has version + 1 and is signed by a threshold of
  /// this root's root keys and a threshold of its own.
  Result<TrustRoot> update(std::string_view next_text, UnixSeconds now) const;

  /// Checks that `doc` carries at least `threshold` valid signatures by keys of
  /// `role`. Errors: DUPLICATE_SIGNATURE, BAD_SIGNATURE, UNKNOWN_KEY, THRESHOLD_NOT_MET.
  Result<void> verify(Role role, const SignedDocument& doc) const;

  int version() const { return version_; }
  UnixSeconds expires() const { return expires_; }
  bool dev() const { return dev_; }
  const std::string& text() const { return text_; }
  const RoleKeys& role(Role r) const { return roles_.at(r); }
  /// The public key of `keyid` if the root lists it for `role`.
  const crypto::PublicKey* key(Role role, std::string_view keyid) const;

 private:
  static Result<TrustRoot> fromBody(const nlohmann::json& body, std::string text);

  int version_ = 0;
  UnixSeconds expires_ = 0;
  bool dev_ = false;
  std::string text_;
  std::map<std::string, crypto::PublicKey, std::less<>> keys_;
  std::map<Role, RoleKeys> roles_;
};

struct RootSpec {
  int version = 1;
  UnixSeconds expires = 0;
  bool dev = false;
  int root_threshold = 1;
  std::vector<crypto::PublicKey> root_keys, snapshot_keys, card_keys, timestamp_keys;
  int snapshot_threshold = 1, card_threshold = 1;
};
/// Builds the signed root document (what `kbctl root init` and `rotate` write).
std::string makeRoot(const RootSpec& spec, const std::vector<crypto::SigningKey>& signers);

}  // namespace kb::trust
