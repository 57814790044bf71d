#include "cache/publish.h"

#include <unistd.h>

#include <algorithm>
#include <set>

#include "cache/digest.h"
#include "cache/record_codec.h"

namespace kb::cache {
namespace {

struct Item {
  std::uint32_t bucket;
  std::string card_no;
  std::string json;
};

bool before(const Item& a, std::uint32_t bucket, std::string_view card_no) {
  return a.bucket < bucket || (a.bucket == bucket && a.card_no < card_no);
}

std::uint64_t fileBytes(std::string_view manifest, const BodyInfo& body) {
  return kBundleMagic.size() + 4 + manifest.size() + body.stored_bytes;
}

// A body file next to the bundle, removed when it goes out of scope.
struct TempBody {
  std::filesystem::path path;
  TempBody() = default;
  TempBody(const TempBody&) = delete;
  TempBody& operator=(const TempBody&) = delete;
  ~TempBody() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

// Streams `items` (in body order) into a compressed body file.
Result<BodyInfo> writeBody(TempBody& tmp, const std::filesystem::path& path,
                           const std::vector<Item>& items) {
  tmp.path = path;
  auto w = BodyWriter::create(path, Compression::Zstd);
  if (!w) return std::unexpected(w.error());
  for (const auto& i : items)
    if (auto r = (*w)->add(i.json); !r) return std::unexpected(r.error());
  return (*w)->finish();
}

// Keeps the base's bucket geometry when it still suits the new record count,
// so that a delta is possible.
std::uint32_t chooseBucketCount(std::uint64_t records, std::optional<std::uint32_t> base) {
  if (base && (*base == 1 || *base <= 2 * records) && records / *base <= 64) return *base;
  return bucketCountFor(records);
}

}  // namespace

Result<PublishResult> publish(std::vector<roster::CardRecord> records, const trust::TrustRoot& root,
                              const std::vector<crypto::SigningKey>& keys,
                              const PublishOptions& o) {
  if (keys.empty()) return fail(Errc::Usage, "no signing key given");
  std::set<std::string> ids;
  for (const auto& k : keys) {
    std::string id = k.publicKey().keyId();
    if (!root.key(trust::Role::Snapshot, id))
      return fail(Errc::UnknownKey,
                  "key " + id + " is not listed for role snapshot in the trust root");
    ids.insert(id);
  }
  if (static_cast<int>(ids.size()) < root.role(trust::Role::Snapshot).threshold)
    return fail(Errc::ThresholdNotMet,
                std::to_string(ids.size()) + " snapshot key(s) given, the trust root requires " +
                    std::to_string(root.role(trust::Role::Snapshot).threshold));
  if (o.serial < 1 || o.serial > kMaxSerial)
    return fail(Errc::Usage, "serial must be between 1 and " + std::to_string(kMaxSerial));
  if (o.expires_at <= o.signed_at)
    return fail(Errc::Usage, "expiry must be after the signing time");

  // Encode first (and check each record as a kiosk would: a staff-only field
  // in a kiosk bundle is a privacy leak, caught here rather than on site).
  std::vector<Item> items;
  items.reserve(records.size());
  for (auto& r : records) {
    std::string json = encodeRecord(r);
    if (auto d = decodeRecord(json, o.profile); !d)
      return fail(Errc::Malformed, "card " + r.card_no + ": " + d.error().message);
    items.push_back({0, std::move(r.card_no), std::move(json)});
    r = {};
  }
  records.clear();
  records.shrink_to_fit();
  const std::uint64_t n = items.size();

  std::optional<Manifest> base;
  std::vector<Item> delta;
  std::uint32_t bucket_count = bucketCountFor(n);
  auto place = [&](std::uint32_t count) {
    bucket_count = count;
    for (auto& i : items) i.bucket = bucketOf(i.card_no, count);
    std::sort(items.begin(), items.end(),
              [](const Item& a, const Item& b) { return before(a, b.bucket, b.card_no); });
  };

  if (o.base) {
    auto src = openFileSource(*o.base);
    if (!src) return std::unexpected(src.error());
    ReadOptions ro;
    ro.limits = o.limits;
    ro.check_expiry = false;  // an expired base is still a fine base
    bool same_geometry = false;
    ro.on_manifest = [&](const Manifest& m) -> Result<void> {
      if (m.type != BundleType::Snapshot)
        return fail(Errc::WrongBase, "--base must be a snapshot bundle");
      if (m.profile != o.profile)
        return fail(Errc::WrongBase,
                    "--base is a " + std::string(profileName(m.profile)) + " snapshot");
      if (m.serial >= o.serial)
        return fail(Errc::Rollback, "serial " + std::to_string(o.serial) +
                                        " is not newer than the base's " +
                                        std::to_string(m.serial));
      place(chooseBucketCount(n, m.bucket_count));
      same_geometry = bucket_count == m.bucket_count;
      return {};
    };
    // Merge join: base entries and new items share one order.
    std::size_t next = 0;
    auto sink = [&](const Entry& e) -> Result<void> {
      if (!same_geometry) return {};
      while (next < items.size() && before(items[next], e.bucket, e.card_no))
        delta.push_back(items[next++]);
      if (next < items.size() && items[next].bucket == e.bucket &&
          items[next].card_no == e.card_no) {
        if (items[next].json != e.json) delta.push_back(items[next]);
        ++next;
      } else {
        delta.push_back({e.bucket, std::string(e.card_no), encodeDeletion(e.card_no)});
      }
      return {};
    };
    auto m = readBundle(**src, root, o.signed_at, ro, sink);
    if (!m) return fail(m.error().code, o.base->string() + ": " + m.error().message);
    if (same_geometry) {
      while (next < items.size()) delta.push_back(items[next++]);
      base = std::move(*m);
    }
  } else {
    place(bucket_count);
  }
  for (std::size_t i = 1; i < items.size(); ++i)
    if (items[i].bucket == items[i - 1].bucket && items[i].card_no == items[i - 1].card_no)
      return fail(Errc::Malformed, "card " + items[i].card_no + " appears twice");

  BucketDigester digester(bucket_count);
  for (const auto& i : items) digester.add(i.bucket, i.json);
  BundleSpec spec;
  spec.type = BundleType::Snapshot;
  spec.profile = o.profile;
  spec.serial = o.serial;
  spec.signed_at = o.signed_at;
  spec.expires_at = o.expires_at;
  spec.record_count = n;
  spec.bucket_count = bucket_count;
  spec.content_digest = stateDigest(digester.finish());

  PublishResult result;
  result.records = n;
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  const std::string stem = std::to_string(o.serial);
  TempBody snapshot_body, delta_body;
  auto snapshot_info =
      writeBody(snapshot_body, o.out_dir / (".snapshot-" + stem + ".body.tmp"), items);
  if (!snapshot_info) return std::unexpected(snapshot_info.error());
  std::string snapshot_manifest = signManifest(spec, *snapshot_info, keys);
  // The same checks a kiosk will make, before anything is written.
  if (auto m = parseManifest(snapshot_manifest, root); !m) return std::unexpected(m.error());

  std::string delta_manifest;
  BodyInfo delta_info;
  if (base) {
    BundleSpec ds = spec;
    ds.type = BundleType::Delta;
    ds.base_serial = base->serial;
    ds.base_content_digest = base->content_digest;
    auto info = writeBody(delta_body, o.out_dir / (".delta-" + stem + ".body.tmp"), delta);
    if (!info) return std::unexpected(info.error());
    delta_info = std::move(*info);
    delta_manifest = signManifest(ds, delta_info, keys);
  } else if (o.base) {
    result.note =
        "no delta written: the record count changed too much to keep the base's bucket count";
  }

  result.snapshot = o.out_dir / ("snapshot-" + std::to_string(o.serial) + ".kbs");
  if (auto w = writeBundleFile(result.snapshot, snapshot_manifest, snapshot_body.path); !w)
    return std::unexpected(w.error());
  result.snapshot_bytes = fileBytes(snapshot_manifest, *snapshot_info);
  if (base) {
    result.delta = o.out_dir / ("delta-" + std::to_string(base->serial) + "-" +
                                std::to_string(o.serial) + ".kbs");
    if (auto w = writeBundleFile(*result.delta, delta_manifest, delta_body.path); !w)
      return std::unexpected(w.error());
    result.delta_entries = delta_info.entry_count;
    result.delta_bytes = fileBytes(delta_manifest, delta_info);
  }
  return result;
}

}  // namespace kb::cache
