#include "trust/trust.h"

#include <algorithm>
#include <limits>
#include <optional>
#include <set>

#include "common/encoding.h"
#include "common/files.h"
#include "trust/errors.h"

namespace kb::trust {
namespace {

using nlohmann::json;

constexpr std::string_view kRootType = "kartu-bahagia/root";
constexpr std::uint64_t kMaxRootBytes = 1 << 20;

// Signed documents nest a few levels; the walks below (and dump) recurse, and
// run before any signature is checked, so deeper input is refused up front.
constexpr int kMaxNesting = 32;

bool nestsTooDeep(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxNesting) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

// The member `key` of an object, or nullptr. Callers check its type: nlohmann's
// value() throws on a present key of another type, and these documents are
// parsed before their signatures are checked.
const json* member(const json& j, std::string_view key) {
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

// A positive integer that fits an int, or nullopt (get<int>() would wrap 2^32 + 1 to 1).
std::optional<int> positiveInt(const json* v) {
  if (!v || !v->is_number_integer()) return std::nullopt;
  constexpr auto kMax = std::numeric_limits<int>::max();
  if (v->is_number_unsigned()) {
    const auto u = v->get<std::uint64_t>();
    if (u < 1 || u > static_cast<std::uint64_t>(kMax)) return std::nullopt;
    return static_cast<int>(u);
  }
  const auto n = v->get<std::int64_t>();
  if (n < 1 || n > kMax) return std::nullopt;
  return static_cast<int>(n);
}

Result<void> requireIntegersOnly(const json& j) {
  if (j.is_number_float()) return fail(Errc::Malformed, "signed documents hold integers only");
  if (j.is_structured())
    for (const auto& v : j)
      if (auto r = requireIntegersOnly(v); !r) return r;
  return {};
}

const std::pair<Role, std::string_view> kRoles[] = {{Role::Root, "root"},
                                                    {Role::Snapshot, "snapshot"},
                                                    {Role::Card, "card"},
                                                    {Role::Timestamp, "timestamp"}};

json roleJson(const std::vector<crypto::PublicKey>& keys, int threshold) {
  json ids = json::array();
  for (const auto& k : keys) ids.push_back(k.keyId());
  return {{"keyids", ids}, {"threshold", threshold}};
}

}  // namespace

std::string_view roleName(Role role) {
  for (auto [r, name] : kRoles)
    if (r == role) return name;
  return "unknown";
}

std::string canonicalJson(const json& value) {
  // nlohmann's object type is a std::map, so keys come out sorted by byte value.
  return value.dump(-1, ' ', false, json::error_handler_t::strict);
}

Result<SignedDocument> parseSigned(std::string_view text) {
  if (nestsTooDeep(text))
    return fail(Errc::Malformed,
                "signed document nests deeper than " + std::to_string(kMaxNesting) + " levels");
  json envelope = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (envelope.is_discarded() || !envelope.is_object())
    return fail(Errc::Malformed, "not a JSON signed document");
  auto body = envelope.find("signed");
  auto sigs = envelope.find("signatures");
  if (body == envelope.end() || !body->is_object() || sigs == envelope.end() || !sigs->is_array())
    return fail(Errc::Malformed,
                "a signed document needs 'signed' (object) and 'signatures' (array)");
  if (auto r = requireIntegersOnly(*body); !r) return std::unexpected(r.error());
  SignedDocument doc;
  for (const auto& s : *sigs) {
    if (!s.is_object() || !s.contains("keyid") || !s.contains("sig") || !s["keyid"].is_string() ||
        !s["sig"].is_string())
      return fail(Errc::Malformed, "each signature needs 'keyid' and 'sig' strings");
    auto raw = base64Decode(s["sig"].get<std::string>());
    if (!raw || raw->size() != 64)
      return fail(Errc::Malformed, "a signature is 64 bytes in base64");
    doc.signatures.push_back({s["keyid"].get<std::string>(), std::move(*raw)});
  }
  doc.canonical = canonicalJson(*body);
  doc.body = std::move(*body);
  return doc;
}

std::string signDocument(const json& body, const std::vector<crypto::SigningKey>& keys) {
  std::string canonical = canonicalJson(body);
  json sigs = json::array();
  std::set<std::string> seen;
  for (const auto& k : keys) {
    std::string id = k.publicKey().keyId();
    if (!seen.insert(id).second) continue;  // one key signs once
    sigs.push_back({{"keyid", id}, {"sig", base64Encode(k.sign(canonical))}});
  }
  return json{{"signed", body}, {"signatures", sigs}}.dump(1, ' ', false,
                                                           json::error_handler_t::strict) +
         "\n";
}

Result<void> TrustRoot::verify(Role role, const SignedDocument& doc) const {
  const RoleKeys& rk = roles_.at(role);
  std::set<std::string, std::less<>> seen;
  int valid = 0;
  bool bad = false;
  bool unknown = false;
  for (const auto& s : doc.signatures) {
    if (!seen.insert(s.keyid).second)
      return fail(TrustErrc::DuplicateSignature,
                  "key " + s.keyid + " signed twice; a key counts once towards a threshold");
    const crypto::PublicKey* k = key(role, s.keyid);
    if (!k) {
      unknown = true;
    } else if (k->verify(doc.canonical, s.sig)) {
      ++valid;
    } else {
      bad = true;
    }
  }
  if (valid >= rk.threshold) return {};
  std::string role_s(roleName(role));
  if (bad)
    return fail(TrustErrc::BadSignature, "a signature by a " + role_s + " key does not verify");
  if (unknown && valid == 0)
    return fail(TrustErrc::UnknownKey,
                "signed by a key the trust root does not list for role " + role_s);
  return fail(TrustErrc::ThresholdNotMet, std::to_string(valid) + " valid " + role_s +
                                              " signature(s), " + std::to_string(rk.threshold) +
                                              " required");
}

const crypto::PublicKey* TrustRoot::key(Role role, std::string_view keyid) const {
  const auto& ids = roles_.at(role).keyids;
  if (std::find(ids.begin(), ids.end(), keyid) == ids.end()) return nullptr;
  auto it = keys_.find(keyid);
  return it == keys_.end() ? nullptr : &it->second;
}

Result<TrustRoot> TrustRoot::parse(std::string_view text, UnixSeconds now) {
  auto doc = parseSigned(text);
  if (!doc) return std::unexpected(doc.error());
  auto root = fromBody(doc->body, std::string(text));
  if (!root) return root;
  if (auto r = root->verify(Role::Root, *doc); !r) return std::unexpected(r.error());
  if (now > root->expires_)
    return fail(TrustErrc::RootExpired, "trust root version " + std::to_string(root->version_) +
                                            " expired at " + formatUtc(root->expires_));
  return root;
}

Result<TrustRoot> TrustRoot::load(const std::string& path, UnixSeconds now) {
  auto text = readFile(path, kMaxRootBytes);
  if (!text) return std::unexpected(text.error());
  auto root = parse(*text, now);
  if (!root) return fail(root.error().code, path + ": " + root.error().message);
  return root;
}

Result<TrustRoot> TrustRoot::update(std::string_view next_text, UnixSeconds now) const {
  auto doc = parseSigned(next_text);
  if (!doc) return std::unexpected(doc.error());
  auto next = fromBody(doc->body, std::string(next_text));
  if (!next) return next;
  if (next->version_ <= version_)
    return fail(TrustErrc::Rollback, "root version " + std::to_string(next->version_) +
                                         " is not newer than installed " +
                                         std::to_string(version_));
  if (next->version_ != version_ + 1)
    return fail(Errc::Malformed, "root versions must be installed one at a time");
  // Both the outgoing and the incoming root keys must agree on the new root.
  if (auto r = verify(Role::Root, *doc); !r) return std::unexpected(r.error());
  if (auto r = next->verify(Role::Root, *doc); !r) return std::unexpected(r.error());
  if (now > next->expires_)
    return fail(TrustErrc::RootExpired, "the new trust root is already expired");
  return next;
}

Result<TrustRoot> TrustRoot::fromBody(const json& body, std::string text) {
  auto bad = [](const std::string& what) { return fail(Errc::Malformed, "trust root: " + what); };
  const json* type = member(body, "type");
  if (!type || !type->is_string() || type->get_ref<const std::string&>() != kRootType)
    return bad("type must be kartu-bahagia/root");
  const auto version = positiveInt(member(body, "version"));
  if (!version) return bad("version must be a positive integer");
  const json* dev = member(body, "dev");
  if (dev && !dev->is_boolean()) return bad("dev must be true or false");
  auto expires = body.contains("expires") && body["expires"].is_string()
                     ? parseUtc(body["expires"].get<std::string>())
                     : std::nullopt;
  if (!expires) return bad("expires must be a UTC time like 2027-01-01T00:00:00Z");
  if (!body.contains("keys") || !body["keys"].is_object()) return bad("keys must be an object");
  if (!body.contains("roles") || !body["roles"].is_object()) return bad("roles must be an object");

  TrustRoot root;
  root.version_ = *version;
  root.expires_ = *expires;
  root.dev_ = dev && dev->get<bool>();
  root.text_ = std::move(text);
  for (const auto& [id, k] : body["keys"].items()) {
    const json* alg = k.is_object() ? member(k, "alg") : nullptr;
    if (!alg || !alg->is_string() || alg->get_ref<const std::string&>() != "ed25519" ||
        !k.contains("public") || !k["public"].is_string())
      return bad("key " + id + " must be {alg: ed25519, public: base64}");
    auto raw = base64Decode(k["public"].get<std::string>());
    if (!raw) return bad("key " + id + " is not base64");
    auto pub = crypto::PublicKey::fromRaw(*raw);
    if (!pub) return bad("key " + id + ": " + pub.error().message);
    if (pub->keyId() != id) return bad("key id " + id + " does not match its public key");
    root.keys_.emplace(id, std::move(*pub));
  }
  for (auto [role, name] : kRoles) {
    RoleKeys rk;
    auto it = body["roles"].find(std::string(name));
    if (it == body["roles"].end()) {
      if (role == Role::Timestamp) {  // optional role: no keys, so nothing verifies for it
        root.roles_[role] = rk;
        continue;
      }
      return bad("role " + std::string(name) + " is missing");
    }
    if (!it->is_object() || !it->contains("keyids") || !(*it)["keyids"].is_array() ||
        !it->contains("threshold") || !(*it)["threshold"].is_number_integer())
      return bad("role " + std::string(name) + " needs keyids and threshold");
    for (const auto& id : (*it)["keyids"]) {
      if (!id.is_string() || !root.keys_.contains(id.get<std::string>()))
        return bad("role " + std::string(name) + " names a key that is not listed");
      rk.keyids.push_back(id.get<std::string>());
    }
    const auto threshold = positiveInt(&(*it)["threshold"]);
    rk.threshold = threshold.value_or(0);
    std::set<std::string> unique(rk.keyids.begin(), rk.keyids.end());
    if (rk.threshold < 1 || static_cast<std::size_t>(rk.threshold) > unique.size())
      return bad("role " + std::string(name) +
                 " threshold must be between 1 and its number of keys");
    // A card credential has room for one signature (NTAG213 holds 144 bytes).
    if (role == Role::Card && rk.threshold != 1)
      return bad("role card threshold must be 1: a card credential carries one signature");
    root.roles_[role] = rk;
  }
  return root;
}

std::string makeRoot(const RootSpec& spec, const std::vector<crypto::SigningKey>& signers) {
  json keys = json::object();
  for (const auto* list :
       {&spec.root_keys, &spec.snapshot_keys, &spec.card_keys, &spec.timestamp_keys})
    for (const auto& k : *list)
      keys[k.keyId()] = {{"alg", "ed25519"}, {"public", base64Encode(k.raw())}};
  json roles = {{"root", roleJson(spec.root_keys, spec.root_threshold)},
                {"snapshot", roleJson(spec.snapshot_keys, spec.snapshot_threshold)},
                {"card", roleJson(spec.card_keys, spec.card_threshold)}};
  if (!spec.timestamp_keys.empty()) roles["timestamp"] = roleJson(spec.timestamp_keys, 1);
  json body = {{"type", kRootType},
               {"version", spec.version},
               {"expires", formatUtc(spec.expires)},
               {"dev", spec.dev},
               {"keys", keys},
               {"roles", roles}};
  return signDocument(body, signers);
}

}  // namespace kb::trust
