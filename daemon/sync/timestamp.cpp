#include "sync/timestamp.h"

#include <charconv>
#include <fstream>
#include <regex>

#include "cache/bundle.h"
#include "common/encoding.h"
#include "sync/errors.h"
#include "trust/errors.h"

namespace kb::sync {
namespace {

using nlohmann::json;

std::optional<std::int64_t> intMember(const json& obj, const char* key, std::int64_t lo,
                                      std::int64_t hi) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number_integer()) return std::nullopt;
  auto v = it->get<std::int64_t>();
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

std::optional<UnixSeconds> timeMember(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return std::nullopt;
  return parseUtc(it->get<std::string>());
}

constexpr std::int64_t kMaxLength = std::int64_t{1} << 53;

Result<FileRef> fileRef(const json& j, bool delta, std::int64_t serial) {
  auto bad = [](const std::string& what) { return fail(Errc::Malformed, "timestamp: " + what); };
  if (!j.is_object()) return bad("a file entry must be an object");
  FileRef f;
  auto sha = j.find("sha256");
  auto raw = sha != j.end() && sha->is_string() ? hexDecode(sha->get<std::string>()) : std::nullopt;
  if (!raw || raw->size() != 32) return bad("sha256 must be 64 hex digits");
  f.sha256 = std::move(*raw);
  auto length = intMember(j, "length", 1, kMaxLength);
  if (!length) return bad("length must be a positive integer");
  f.length = static_cast<std::uint64_t>(*length);
  std::size_t members = 2;
  f.serial = serial;
  if (delta) {
    auto base = intMember(j, "base_serial", 1, serial - 1);
    if (!base) return bad("a delta's base_serial must be below the serial");
    f.base_serial = *base;
    f.name = deltaName(*base, serial);
    ++members;
  } else {
    auto s = intMember(j, "serial", serial, serial);
    if (!s) return bad("the snapshot's serial must be the timestamp's serial");
    f.name = snapshotName(serial);
    ++members;
  }
  if (j.size() != members) return bad("unexpected member in a file entry");
  return f;
}

json refJson(const FileRef& f, bool delta) {
  json j = {{"sha256", hexEncode(f.sha256)}, {"length", f.length}};
  if (delta)
    j["base_serial"] = f.base_serial;
  else
    j["serial"] = f.serial;
  return j;
}

Result<FileRef> describeFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::Io, path.string() + ": cannot be read");
  crypto::Sha256 sha;
  std::string buf(1 << 20, '\0');
  std::uint64_t length = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    auto n = static_cast<std::size_t>(in.gcount());
    sha.update(std::string_view(buf.data(), n));
    length += n;
  }
  if (in.bad()) return fail(Errc::Io, path.string() + ": read failed");
  FileRef f;
  f.name = path.filename().string();
  f.sha256 = sha.finish();
  f.length = length;
  return f;
}

}  // namespace

std::string snapshotName(std::int64_t serial) {
  return "snapshot-" + std::to_string(serial) + ".kbs";
}
std::string deltaName(std::int64_t base, std::int64_t serial) {
  return "delta-" + std::to_string(base) + "-" + std::to_string(serial) + ".kbs";
}
std::string rootName(int version) {
  return "root-" + std::to_string(version) + ".json";
}

Result<int> peekRootVersion(std::string_view text) {
  auto doc = trust::parseSigned(text);
  if (!doc) return std::unexpected(doc.error());
  auto v = intMember(doc->body, "root_version", 1, 1 << 30);
  if (!v) return fail(Errc::Malformed, "timestamp: root_version must be a positive integer");
  return static_cast<int>(*v);
}

Result<Timestamp> parseTimestamp(std::string_view text, const trust::TrustRoot& root,
                                 UnixSeconds now, std::int64_t floor_serial) {
  auto bad = [](const std::string& what) { return fail(Errc::Malformed, "timestamp: " + what); };
  auto doc = trust::parseSigned(text);
  if (!doc) return std::unexpected(doc.error());
  const json& b = doc->body;
  auto type = b.find("type");
  if (type == b.end() || !type->is_string() || type->get<std::string>() != kTimestampType)
    return bad("type must be kartu-bahagia/timestamp");
  if (intMember(b, "format", 1, 1) != 1) return bad("format must be 1");
  Timestamp ts;
  auto serial = intMember(b, "serial", 1, cache::kMaxSerial);
  auto rv = intMember(b, "root_version", 1, 1 << 30);
  auto signed_at = timeMember(b, "signed_at");
  auto expires_at = timeMember(b, "expires_at");
  if (!serial) return bad("serial must be an integer from 1");
  if (!rv) return bad("root_version must be a positive integer");
  if (!signed_at || !expires_at || *expires_at <= *signed_at)
    return bad("signed_at and expires_at must be UTC times, expires_at later");
  if (b.size() != 8) return bad("unexpected or missing members");
  ts.serial = *serial;
  ts.root_version = static_cast<int>(*rv);
  ts.signed_at = *signed_at;
  ts.expires_at = *expires_at;
  auto snap = b.find("snapshot");
  if (snap == b.end()) return bad("snapshot is missing");
  auto s = fileRef(*snap, false, ts.serial);
  if (!s) return std::unexpected(s.error());
  ts.snapshot = std::move(*s);
  auto deltas = b.find("deltas");
  if (deltas == b.end() || !deltas->is_array()) return bad("deltas must be an array");
  for (const auto& d : *deltas) {
    auto f = fileRef(d, true, ts.serial);
    if (!f) return std::unexpected(f.error());
    for (const auto& seen : ts.deltas)
      if (seen.base_serial == f->base_serial) return bad("two deltas from one base");
    ts.deltas.push_back(std::move(*f));
  }
  // Signatures first: nothing unsigned decides anything below.
  if (ts.root_version != root.version())
    return fail(Errc::Malformed, "timestamp names root version " + std::to_string(ts.root_version) +
                                     ", verified with version " + std::to_string(root.version()));
  if (auto r = root.verify(trust::Role::Timestamp, *doc); !r)
    return fail(r.error().code, "timestamp: " + r.error().message);
  if (now > ts.expires_at)
    return fail(SyncErrc::Freeze, "the mirror's timestamp (serial " + std::to_string(ts.serial) +
                                      ") expired at " + formatUtc(ts.expires_at) +
                                      ": no newer data is reaching this kiosk");
  if (ts.serial < floor_serial)
    return fail(TrustErrc::Rollback, "the mirror offers serial " + std::to_string(ts.serial) +
                                         ", below serial " + std::to_string(floor_serial) +
                                         " already accepted");
  ts.text = std::string(text);
  return ts;
}

std::string signTimestamp(const Timestamp& ts, const std::vector<crypto::SigningKey>& keys) {
  json deltas = json::array();
  for (const auto& d : ts.deltas) deltas.push_back(refJson(d, true));
  json body = {{"type", kTimestampType},
               {"format", 1},
               {"serial", ts.serial},
               {"signed_at", formatUtc(ts.signed_at)},
               {"expires_at", formatUtc(ts.expires_at)},
               {"root_version", ts.root_version},
               {"snapshot", refJson(ts.snapshot, false)},
               {"deltas", deltas}};
  return trust::signDocument(body, keys);
}

Result<Timestamp> describeMirror(const std::filesystem::path& dir, const trust::TrustRoot& root,
                                 UnixSeconds now, UnixSeconds expires_at) {
  static const std::regex kSnapshotName(R"(snapshot-([1-9][0-9]{0,9})\.kbs)");
  static const std::regex kDeltaName(R"(delta-([1-9][0-9]{0,9})-([1-9][0-9]{0,9})\.kbs)");
  static const std::regex kRootName(R"(root-([1-9][0-9]{0,5})\.json)");
  std::error_code ec;
  std::int64_t newest = 0;
  int root_version = root.version();
  std::vector<std::pair<std::int64_t, std::int64_t>> delta_names;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    std::smatch m;
    if (std::regex_match(name, m, kSnapshotName)) {
      newest = std::max<std::int64_t>(newest, std::stoll(m[1]));
    } else if (std::regex_match(name, m, kDeltaName)) {
      delta_names.emplace_back(std::stoll(m[1]), std::stoll(m[2]));
    } else if (std::regex_match(name, m, kRootName)) {
      root_version = std::max(root_version, std::stoi(m[1]));
    }
  }
  if (ec) return fail(Errc::Io, dir.string() + ": " + ec.message());
  if (newest == 0) return fail(Errc::NotFound, dir.string() + ": no snapshot-N.kbs to announce");
  if (root_version != root.version())
    return fail(Errc::Usage, dir.string() + " holds root version " + std::to_string(root_version) +
                                 ": sign the timestamp with that root (--root)");

  Timestamp ts;
  ts.serial = newest;
  ts.signed_at = now;
  ts.expires_at = expires_at;
  ts.root_version = root_version;
  auto check = [&](const std::filesystem::path& p) -> Result<cache::Manifest> {
    auto src = cache::openFileSource(p);
    if (!src) return std::unexpected(src.error());
    auto m = cache::readBundle(**src, root, now, {});
    if (!m) return fail(m.error().code, p.string() + ": " + m.error().message);
    return m;
  };
  auto snap_path = dir / snapshotName(newest);
  auto m = check(snap_path);
  if (!m) return std::unexpected(m.error());
  if (m->serial != newest || m->type != cache::BundleType::Snapshot)
    return fail(Errc::Malformed, snap_path.string() + " holds " +
                                     std::string(cache::bundleTypeName(m->type)) + " serial " +
                                     std::to_string(m->serial));
  auto f = describeFile(snap_path);
  if (!f) return std::unexpected(f.error());
  ts.snapshot = std::move(*f);
  ts.snapshot.serial = newest;
  std::sort(delta_names.begin(), delta_names.end());
  for (auto [base, serial] : delta_names) {
    if (serial != newest || base >= serial) continue;
    auto path = dir / deltaName(base, serial);
    auto dm = check(path);
    if (!dm) return std::unexpected(dm.error());
    if (dm->type != cache::BundleType::Delta || dm->serial != serial || dm->base_serial != base)
      return fail(Errc::Malformed, path.string() + ": its manifest does not match its name");
    auto d = describeFile(path);
    if (!d) return std::unexpected(d.error());
    d->base_serial = base;
    d->serial = serial;
    ts.deltas.push_back(std::move(*d));
  }
  return ts;
}

}  // namespace kb::sync
