#include "sync/sync.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "cache/errors.h"
#include "cache/trust_state.h"
#include "common/encoding.h"
#include "common/files.h"
#include "crypto/crypto.h"
#include "trust/errors.h"

namespace kb::sync {

SyncOptions nodeSyncOptions(const std::filesystem::path& db, std::vector<std::string> mirrors,
                            std::string mirror_ca, const std::filesystem::path& state_dir,
                            roster::Profile profile) {
  SyncOptions so;
  so.db = db;
  so.mirrors = std::move(mirrors);
  so.http.ca_file = std::move(mirror_ca);
  so.root_dir = state_dir;
  so.import.trust_state = cache::trustStatePath(db);
  so.import.root_chain_dir = state_dir;
  so.import.profile = profile;
  return so;
}
namespace {

namespace fs = std::filesystem;

Result<std::string> fileSha256(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::Io, path.string() + ": cannot be read");
  crypto::Sha256 sha;
  std::string buf(1 << 20, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    sha.update(std::string_view(buf.data(), static_cast<std::size_t>(in.gcount())));
  }
  if (in.bad()) return fail(Errc::Io, path.string() + ": read failed");
  return sha.finish();
}

// One sync at a time per cache (the daemon and a kbctl sync share the .part files).
class SyncLock {
 public:
  Result<void> take(const fs::path& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd_ < 0) return fail(Errc::Io, path.string() + ": " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0)
      return fail(Errc::Io, "another sync of this cache is running (" + path.string() + ")");
    return {};
  }
  ~SyncLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  int fd_ = -1;
};

struct Installed {
  std::int64_t serial = 0;  ///< 0: nothing verifiable installed
};

Installed installedState(const fs::path& db, const trust::TrustRoot& root) {
  std::error_code ec;
  if (!fs::exists(db, ec)) return {};
  auto f = cache::openVerified(db, root);
  if (!f) return {};
  return {f->manifest.serial};
}

struct Context {
  const SyncOptions& o;
  trust::TrustRoot& root;
  UnixSeconds now;
  fs::path work_dir;
  fs::path root_dir;
};

// Downloads one announced file and checks it against the timestamp.
Result<fs::path> fetchBundle(Context& c, const std::string& base, const FileRef& ref,
                             SyncReport& report) {
  const fs::path part = c.work_dir / (ref.name + ".part");
  const fs::path done = c.work_dir / ref.name;
  std::error_code ec;
  // A verified download left by an import that did not finish (the process was
  // killed, the power cut): used again if it is still what the timestamp names.
  if (fs::is_regular_file(done, ec) && fs::file_size(done, ec) == ref.length && !ec) {
    if (auto kept = fileSha256(done); kept && *kept == ref.sha256) {
      report.resumed = true;
      return done;
    }
    fs::remove(done, ec);
  }
  auto got = download(base + ref.name, part, ref.length, c.o.http);
  if (!got) return std::unexpected(got.error());
  report.bytes += got->downloaded;
  report.resumed = report.resumed || got->resumed_from > 0;
  auto sha = fileSha256(part);
  if (!sha) return std::unexpected(sha.error());
  if (*sha != ref.sha256) {
    std::filesystem::remove(part);
    return fail(CacheErrc::DigestMismatch, base + ref.name + ": SHA-256 " + hexEncode(*sha) +
                                               " is not the " + hexEncode(ref.sha256) +
                                               " that the timestamp names");
  }
  fs::rename(part, done, ec);
  if (ec) return fail(Errc::Io, done.string() + ": " + ec.message());
  return done;
}

Result<cache::ImportResult> importFile(Context& c, const fs::path& file) {
  auto r = cache::importBundle(c.o.db, file, c.root, c.now, c.o.import);
  std::error_code ec;
  fs::remove(file, ec);  // verified or refused: either way not needed again
  return r;
}

Result<SyncReport> syncFrom(Context& c, const std::string& base) {
  SyncReport report;
  report.mirror = base;
  // Appended, not operator+: GCC 12 warns -Wstringop-overflow on the latter in
  // the release build (a false positive, GCC bug 105329).
  std::string ts_url = base;
  ts_url.append(kTimestampFile);
  auto ts_text = fetchText(ts_url, kMaxTimestampBytes, c.o.http);
  if (!ts_text) return std::unexpected(ts_text.error());
  auto target = peekRootVersion(*ts_text);
  if (!target) return fail(target.error().code, base + "timestamp.json: " + target.error().message);
  if (*target < c.root.version())
    return fail(TrustErrc::Rollback, base + "timestamp.json is for root version " +
                                         std::to_string(*target) + ", older than trusted version " +
                                         std::to_string(c.root.version()));
  // Walk the chain one version at a time; each accepted root is kept locally.
  while (c.root.version() < *target) {
    const std::string name = rootName(c.root.version() + 1);
    auto text = fetchText(base + name, kMaxRootBytes, c.o.http);
    if (!text) return std::unexpected(text.error());
    auto next = c.root.update(*text, c.now);
    if (!next) return fail(next.error().code, base + name + ": " + next.error().message);
    if (auto w = writeFileAtomic(c.root_dir / name, *text); !w) return std::unexpected(w.error());
    c.root = std::move(*next);
  }
  report.root_version = c.root.version();
  const Installed installed = installedState(c.o.db, c.root);
  std::int64_t floor = std::max(installed.serial, c.o.floor_serial);
  if (c.o.import.trust_state) {  // what this node accepted, even if the cache file is gone
    auto state = cache::loadTrustState(*c.o.import.trust_state);
    if (!state) return std::unexpected(state.error());
    if (auto f = state->floorOf(c.o.db)) floor = std::max(floor, f->serial);
  }
  auto ts = parseTimestamp(*ts_text, c.root, c.now, floor);
  if (!ts) return fail(ts.error().code, base + "timestamp.json: " + ts.error().message);
  report.serial = ts->serial;
  report.timestamp_signed_at = ts->signed_at;
  report.timestamp_expires_at = ts->expires_at;
  if (installed.serial == ts->serial) return report;  // current

  // The cheapest path: the delta from what is installed, else the snapshot.
  if (installed.serial > 0) {
    for (const auto& d : ts->deltas) {
      if (d.base_serial != installed.serial) continue;
      auto file = fetchBundle(c, base, d, report);
      if (!file) return std::unexpected(file.error());
      auto r = importFile(c, *file);
      if (r) {
        report.outcome = SyncOutcome::Updated;
        report.via_delta = true;
        report.previous_serial = r->previous_serial;
        return report;
      }
      if (r.error().code != CacheErrc::WrongBase)
        return fail(r.error().code, base + d.name + ": " + r.error().message);
      break;  // installed state is not the delta's base after all: take the snapshot
    }
  }
  auto file = fetchBundle(c, base, ts->snapshot, report);
  if (!file) return std::unexpected(file.error());
  auto r = importFile(c, *file);
  if (!r) return fail(r.error().code, base + ts->snapshot.name + ": " + r.error().message);
  report.outcome = SyncOutcome::Updated;
  report.previous_serial = r->previous_serial;
  return report;
}

}  // namespace

std::string mirrorBase(std::string url) {
  if (url.empty() || url.back() != '/') url += '/';
  return url;
}

trust::TrustRoot newestLocalRoot(trust::TrustRoot root, const fs::path& dir, UnixSeconds now) {
  for (;;) {
    auto text = readFile(dir / rootName(root.version() + 1), kMaxRootBytes);
    if (!text) return root;
    auto next = root.update(*text, now);
    if (!next) return root;
    root = std::move(*next);
  }
}

Result<SyncReport> syncOnce(const SyncOptions& options, trust::TrustRoot& root, UnixSeconds now) {
  if (options.mirrors.empty()) return fail(Errc::Config, "no mirror configured");
  Context c{options, root, now, options.work_dir, options.root_dir};
  if (c.work_dir.empty()) c.work_dir = cache::withSuffix(options.db, ".sync");
  if (c.root_dir.empty())
    c.root_dir = options.db.parent_path().empty() ? "." : options.db.parent_path();
  std::error_code ec;
  fs::create_directories(c.work_dir, ec);
  if (ec) return fail(Errc::Io, c.work_dir.string() + ": " + ec.message());
  SyncLock lock;
  if (auto l = lock.take(c.work_dir / "lock"); !l) return std::unexpected(l.error());

  std::vector<Error> failures;
  for (const auto& m : options.mirrors) {
    auto r = syncFrom(c, mirrorBase(m));
    if (r) {
      r->failed_mirrors = std::move(failures);
      return r;
    }
    failures.push_back(r.error());
  }
  Error last = failures.back();
  if (failures.size() > 1) {
    std::string all;
    for (const auto& e : failures) all += (all.empty() ? "" : "; ") + formatError(e).substr(7);
    last.message = "every mirror failed: " + all;
  }
  return std::unexpected(last);
}

}  // namespace kb::sync
