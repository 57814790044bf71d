#include "cache/cache.h"

#include <sys/stat.h>

#include <memory>
#include <mutex>
#include <vector>

#include "cache/digest.h"
#include "cache/errors.h"
#include "cache/record_codec.h"
#include "cache/store.h"
#include "cache/trust_state.h"
#include "common/encoding.h"
#include "trust/errors.h"

namespace kb::cache {

namespace {
// Which file a path names right now: an import renames a new file over the
// old one, so a different inode means "replaced". {0, 0} when missing.
std::pair<dev_t, ino_t> fileIdentity(const std::filesystem::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return {0, 0};
  return {st.st_dev, st.st_ino};
}
// SQLite's page cache per connection: enough for every interior page of the
// records tree at 10^6 records (about 3 MiB with 8 KiB pages), so a lookup
// reads only its leaf pages from the file.
constexpr int kReaderCacheKiB = 8 * 1024;

// One more read-only connection to the served file with its bucket statement;
// a lookup uses one at a time, so lookups on several threads run in parallel.
struct Reader {
  sql::Db db;
  sql::Stmt select_bucket;  // finalized before db is closed (member order)
};

Result<std::unique_ptr<Reader>> openReader(const std::filesystem::path& p) {
  auto db = sql::Db::openReplacedByRename(p.string());
  if (!db) return std::unexpected(db.error());
  if (auto r = db->exec("PRAGMA cache_size = -" + std::to_string(kReaderCacheKiB)); !r)
    return std::unexpected(r.error());
  auto s = db->prepare(kSelectBucketSql);
  if (!s) return std::unexpected(s.error());
  return std::make_unique<Reader>(Reader{std::move(*db), std::move(*s)});
}

constexpr std::size_t kMaxIdleReaders = 8;

}  // namespace

struct Cache::Impl {
  Impl(std::filesystem::path db, trust::TrustRoot r, CacheOptions o)
      : db_path(std::move(db)), root(std::move(r)), options(o) {}

  std::filesystem::path db_path;
  trust::TrustRoot root;
  CacheOptions options;
  mutable std::mutex mu;
  // Guarded by mu. A lookup holds its own reference to `file` and a reader
  // taken from `idle` while it reads without the lock; a reader goes back only
  // if `file` is still the one it reads.
  std::shared_ptr<VerifiedFile> file;
  std::vector<std::unique_ptr<Reader>> idle;  // connections to file, not in use
  std::string reason;
  std::pair<dev_t, ino_t> loaded_identity{0, 0};

  void close() {
    idle.clear();
    file.reset();
  }

  // A reader of `file` (lock held): an idle one, or a new connection. A new
  // one is opened by path, so it is used only if the path still names the
  // file loaded (after a swap the caller's refresh() reloads instead).
  Result<std::unique_ptr<Reader>> takeReader() {
    if (!idle.empty()) {
      auto r = std::move(idle.back());
      idle.pop_back();
      return r;
    }
    auto r = openReader(file->path);
    if (!r) return r;
    if (fileIdentity(db_path) != loaded_identity && file->path == db_path)
      return fail(CacheErrc::Unverifiable, db_path.string() + ": replaced while opening");
    return r;
  }

  std::string code;
  std::optional<CacheFloor> floor;
  bool raise_pending = false;  ///< the served file's serial is not in the trust state yet

  Result<VerifiedFile> tryOpen(const std::filesystem::path& p) {
    auto f = openVerified(p, root);
    if (!f) return f;
    if (options.profile && f->manifest.profile != *options.profile)
      return fail(CacheErrc::Unverifiable,
                  p.string() + ": holds " + std::string(profileName(f->manifest.profile)) +
                      " data, this node serves " + std::string(profileName(*options.profile)));
    if (floor && f->manifest.serial < floor->serial)
      return fail(TrustErrc::Rollback, p.string() + ": holds serial " +
                                           std::to_string(f->manifest.serial) +
                                           ", below the highest serial this node accepted, " +
                                           std::to_string(floor->serial));
    return f;
  }

  void refuse(std::string_view c, std::string why) {
    close();
    code = std::string(c);
    reason = std::string(c) + ": " + std::move(why);
  }

  void load() {
    close();
    code.clear();
    floor.reset();
    raise_pending = false;
    // Taken before opening: a swap in between only causes one more reload.
    loaded_identity = fileIdentity(db_path);
    if (options.trust_state) {
      auto state = loadTrustState(*options.trust_state);
      if (!state) return refuse(kCodeTrustState, state.error().message);
      if (auto r = checkRootChain(*state, root, options.root_chain_dir); !r)
        return refuse(kCodeRoot, std::string(codeName(r.error().code)) + ": " + r.error().message);
      auto merged = withTpmFloor(state->floorOf(db_path), options.tpm_tcti);
      if (!merged) return refuse(kCodeTrustState, merged.error().message);
      floor = *merged;
    }
    auto current = tryOpen(db_path);
    if (current) {
      file = std::make_shared<VerifiedFile>(std::move(*current));
      reason = "current state verified";
    } else {
      auto prev = tryOpen(withSuffix(db_path, ".prev"));
      if (prev) {
        file = std::make_shared<VerifiedFile>(std::move(*prev));
        code = kCodeFallback;
        reason = "FALLBACK: serving the previous state: " + current.error().message;
      } else {
        const bool rollback =
            current.error().code == TrustErrc::Rollback || prev.error().code == TrustErrc::Rollback;
        const bool none = !std::filesystem::exists(db_path) &&
                          !std::filesystem::exists(withSuffix(db_path, ".prev"));
        refuse(rollback ? kCodeRollback
               : none   ? kCodeNoCache
                        : kCodeUnverifiable,
               "no verifiable cache: " + current.error().message + "; " + prev.error().message);
        return;
      }
    }
    auto first = openReader(file->path);
    if (!first)
      return refuse(kCodeUnverifiable,
                    "cannot read " + file->path.string() + ": " + first.error().message);
    idle.push_back(std::move(*first));
    raise_pending = options.trust_state && options.raise_trust_state;
    raiseServed();
  }

  // Start-up and every reload: what is served now is the floor from here on.
  // Never waits for the trust state's lock: load() runs where taps are
  // answered, and an import (the daemon's sync thread, kbctl, a USB stick)
  // holds that lock across its write and fsyncs, seconds on a busy disk. While
  // it is held the raise stays pending and refresh() tries again; the importer
  // is raising the state to what it installed meanwhile.
  void raiseServed() {
    if (!raise_pending || !file) return;
    TrustRaise raise{db_path, file->manifest.serial,
                     std::max(file->newest_signed_seen, file->manifest.signed_at), &root};
    auto r = tryRaiseTrustState(*options.trust_state, raise);
    if (r && !*r) return;  // busy: next refresh()
    raise_pending = false;
    if (!r) {
      code = kCodeTrustState;
      reason =
          std::string(kCodeTrustState) + ": cannot raise the trust state: " + r.error().message;
    } else if (auto t = raiseTpmCounter(options.tpm_tcti, file->manifest.serial); !t) {
      code = kCodeTrustState;
      reason =
          std::string(kCodeTrustState) + ": cannot raise the TPM counter: " + t.error().message;
    }
  }

  SnapshotInfo snapshot() const {
    return {file->manifest.serial, file->manifest.signed_at, file->manifest.expires_at};
  }
};

Cache::Cache(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Cache::Cache(Cache&&) noexcept = default;
Cache& Cache::operator=(Cache&&) noexcept = default;
Cache::~Cache() {
  if (impl_) impl_->close();
}

Cache Cache::open(std::filesystem::path db, trust::TrustRoot root, UnixSeconds now,
                  CacheOptions options) {
  auto impl = std::make_unique<Impl>(std::move(db), std::move(root), options);
  Cache c(std::move(impl));
  c.reopen(now);
  return c;
}

void Cache::reopen(UnixSeconds) {
  std::lock_guard lock(impl_->mu);
  impl_->load();
}

void Cache::reopen(trust::TrustRoot root, UnixSeconds now) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->root = std::move(root);
  }
  reopen(now);
}

bool Cache::refresh() {
  const auto identity = fileIdentity(impl_->db_path);  // a syscall: not under the lock
  std::lock_guard lock(impl_->mu);
  if (identity == impl_->loaded_identity) {
    impl_->raiseServed();  // a raise an import's lock put off, if any
    return false;
  }
  impl_->load();
  return true;
}

Verdict Cache::lookup(std::string_view card_no, UnixSeconds now) {
  refresh();  // one stat(): a tap right after an import already sees the new data
  Impl& d = *impl_;
  const auto& policy = d.options.freshness;  // set at open, never changed
  std::shared_ptr<const VerifiedFile> file;
  std::unique_ptr<Reader> reader;
  SnapshotInfo snap;
  {
    // Only to take the file and a connection: the read and the hashing below
    // run without the lock, on as many threads as look up at once.
    std::lock_guard lock(d.mu);
    if (!d.file) return unverifiable(d.reason, std::nullopt, now, policy);
    snap = d.snapshot();
    // A daemon runs for months: the root it loaded at start can expire under it.
    if (now > d.root.expires())
      return unverifiable("trust root expired at " + formatUtc(d.root.expires()), snap, now,
                          policy);
    auto r = d.takeReader();
    if (!r)
      return unverifiable("cannot read " + d.file->path.string() + ": " + r.error().message, snap,
                          now, policy);
    reader = std::move(*r);
    file = d.file;
  }
  const auto bucket = bucketOf(card_no, file->manifest.bucket_count);
  auto read = readBucket(reader->select_bucket, bucket, card_no);
  {
    std::lock_guard lock(d.mu);
    if (d.file == file && d.idle.size() < kMaxIdleReaders) d.idle.push_back(std::move(reader));
  }
  if (!read) return unverifiable("integrity: " + read.error().message, snap, now, policy);
  if (read->digest != file->bucket_digests[bucket])
    return unverifiable("integrity: stored records differ from the signed data", snap, now, policy);
  std::optional<roster::CardRecord> card;
  if (read->body) {
    auto rec = decodeRecord(*read->body, file->manifest.profile);
    if (!rec || rec->card_no != card_no)
      return unverifiable("integrity: stored record does not decode", snap, now, policy);
    card = std::move(*rec);
  }
  return decide(std::move(card), snap, now, policy);
}

CacheInfo Cache::info(UnixSeconds now) const {
  std::lock_guard lock(impl_->mu);
  const Impl& d = *impl_;
  CacheInfo i;
  i.reason = d.reason;
  i.code = d.code;
  if (!d.file) return i;
  const Manifest& m = d.file->manifest;
  i.serving = true;
  i.file = d.file->path;
  i.snapshot = d.snapshot();
  i.freshness = freshnessAt(*i.snapshot, now, d.options.freshness);
  i.age_seconds = now - m.signed_at;
  i.profile = m.profile;
  i.arrived_as = m.type;
  i.record_count = m.record_count;
  i.bucket_count = m.bucket_count;
  i.content_digest = hexEncode(m.content_digest);
  i.bundle_sha256 = d.file->bundle_sha256;
  i.imported_at = d.file->imported_at;
  i.newest_signed_seen = d.file->newest_signed_seen;
  return i;
}

Result<void> Cache::checkAll() {
  std::lock_guard lock(impl_->mu);
  if (!impl_->file) return fail(CacheErrc::Unverifiable, impl_->reason);
  return checkAllBuckets(*impl_->file);
}

nlohmann::json toJson(const CacheInfo& i) {
  nlohmann::json j = {{"serving", i.serving},
                      {"reason", i.reason},
                      {"code", i.code.empty() ? nlohmann::json(nullptr) : nlohmann::json(i.code)}};
  if (!i.serving) return j;
  j["file"] = i.file.string();
  j["snapshot"] = {{"serial", i.snapshot->serial},
                   {"signed_at", formatUtc(i.snapshot->signed_at)},
                   {"expires_at", formatUtc(i.snapshot->expires_at)},
                   {"age_seconds", i.age_seconds}};
  j["freshness"] = freshnessName(i.freshness);
  j["profile"] = profileName(i.profile);
  j["arrived_as"] = bundleTypeName(i.arrived_as);
  j["record_count"] = i.record_count;
  j["bucket_count"] = i.bucket_count;
  j["content_digest"] = i.content_digest;
  j["bundle_sha256"] = i.bundle_sha256;
  j["imported_at"] = formatUtc(i.imported_at);
  j["newest_signed_seen"] = formatUtc(i.newest_signed_seen);
  return j;
}

}  // namespace kb::cache
