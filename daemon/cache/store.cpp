#include "cache/store.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "cache/digest.h"
#include "cache/errors.h"
#include "cache/record_codec.h"
#include "cache/trust_state.h"
#include "common/encoding.h"
#include "common/fd.h"
#include "common/files.h"
#include "trust/errors.h"

namespace kb::cache {
namespace {

struct Migration {
  const char* name;
  const char* sql;
};
constexpr Migration kMigrations[] = {
#include "cache/migrations.inc"
};

int migrationNumber(const Migration& m) {
  int n = 0;
  std::string_view name = m.name;
  std::from_chars(name.data(), name.data() + name.size(), n);
  return n;
}

Result<void> migrate(sql::Db& db, int target) {
  auto current = db.scalar("PRAGMA user_version");
  if (!current) return std::unexpected(current.error());
  if (*current > schemaVersion())
    return fail(CacheErrc::Unverifiable, "schema version " + std::to_string(*current) +
                                             " is newer than this build's " +
                                             std::to_string(schemaVersion()));
  for (const auto& m : kMigrations) {
    const int n = migrationNumber(m);
    if (n <= 0) return fail(Errc::Internal, std::string(m.name) + ": migration without a number");
    if (n <= *current || n > target) continue;
    // One transaction per step: a crash leaves the file at a whole version, and a
    // step that fails is rolled back.
    auto step_failed = [&m](const Error& e) {
      return fail(e.code, std::string(m.name) + ": " + e.message);
    };
    auto txn = db.begin();
    if (!txn) return step_failed(txn.error());
    for (const std::string& sql :
         {std::string(m.sql), "PRAGMA user_version = " + std::to_string(n)})
      if (auto r = db.exec(sql); !r) return step_failed(r.error());
    if (auto r = txn->commit(); !r) return step_failed(r.error());
  }
  return {};
}

Error unverifiable(const std::filesystem::path& p, const std::string& why) {
  return Error{CacheErrc::Unverifiable, p.string() + ": " + why};
}

// Keeps the whole-file SHA-256 of a bundle as it streams past (stored in meta).
class HashingSource final : public ByteSource {
 public:
  explicit HashingSource(ByteSource& inner) : inner_(inner) {}
  std::uint64_t size() const override { return inner_.size(); }
  Result<void> read(std::string& out, std::size_t n) override {
    auto r = inner_.read(out, n);
    if (r) sha_.update(out);
    return r;
  }
  std::string finish() { return sha_.finish(); }

 private:
  ByteSource& inner_;
  crypto::Sha256 sha_;
};

class ImportLock {
 public:
  ImportLock() = default;
  ImportLock(const ImportLock&) = delete;
  ImportLock& operator=(const ImportLock&) = delete;
  ~ImportLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the flock; so does a crash
  }
  Result<void> acquire(const std::filesystem::path& p) {
    // O_NOFOLLOW: a planted symlink must not make root create or touch its target.
    fd_ = ::open(p.c_str(), O_RDONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd_ < 0)
      return fail(Errc::Io, p.string() + ": cannot open lock file: " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0)
      return fail(Errc::Io, p.string() + ": another import is in progress");
    return {};
  }

 private:
  int fd_ = -1;
};

// DISK_FULL for the errors a full disk or a file size limit give, else IO.
Errc writeErrc(int err) {
  return err == ENOSPC || err == EFBIG || err == EDQUOT ? Errc::DiskFull : Errc::Io;
}

Error ioError(const std::filesystem::path& p, const char* what, int err) {
  return Error{writeErrc(err), p.string() + ": " + what + ": " + std::strerror(err)};
}

Result<void> fsyncFile(const std::filesystem::path& p) {
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return std::unexpected(ioError(p, "cannot open", errno));
  if (::fsync(fd.get()) != 0) return std::unexpected(ioError(p, "cannot sync", errno));
  return {};
}

// Copies the served file `from` to the new file `to`: a reflink where the
// filesystem shares extents (btrfs, XFS: no data copied), else
// copy_file_range (the kernel copies, no round trip through user space), else
// read/write. The source is never written after its swap and importers hold
// the lock, so a plain copy of it is consistent.
Result<void> copyServedFile(const std::filesystem::path& from, const std::filesystem::path& to) {
  UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return std::unexpected(ioError(from, "cannot open", errno));
  struct stat st {};
  if (::fstat(in.get(), &st) != 0) return std::unexpected(ioError(from, "cannot stat", errno));
  UniqueFd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (out.get() < 0) return std::unexpected(ioError(to, "cannot create", errno));
  if (::ioctl(out.get(), FICLONE, in.get()) == 0) return {};
  auto left = static_cast<std::uint64_t>(st.st_size);
  bool kernel_copy = true;
  std::string buf;
  while (left > 0) {
    ssize_t n = -1;
    if (kernel_copy) {
      n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr,
                            static_cast<std::size_t>(std::min<std::uint64_t>(left, 1u << 30)), 0);
      if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EOPNOTSUPP || errno == EINVAL) &&
          left == static_cast<std::uint64_t>(st.st_size)) {
        kernel_copy = false;
        continue;
      }
    } else {
      buf.resize(1u << 20);
      ssize_t got = ::read(in.get(), buf.data(), buf.size());
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return std::unexpected(ioError(from, "cannot read", errno));
      if (got == 0) break;
      for (ssize_t off = 0; off < got;) {
        ssize_t w = ::write(out.get(), buf.data() + off, static_cast<std::size_t>(got - off));
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return std::unexpected(ioError(to, "cannot write", errno));
        off += w;
      }
      n = got;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::unexpected(ioError(to, "cannot copy the installed state", errno));
    if (n == 0) break;
    left -= static_cast<std::uint64_t>(n);
  }
  if (left != 0) return fail(Errc::Io, from.string() + ": changed size while it was copied");
  return {};
}

// Whether a write to `staging` failed for want of room: its file system is
// (nearly) full, or the file reached the process's file size limit. SQLite
// reports a full disk as SQLITE_FULL but a write refused by RLIMIT_FSIZE
// (EFBIG) only as an I/O error, so an IO error of the import is checked here.
bool outOfRoom(const std::filesystem::path& staging) {
  struct stat st {};
  if (::stat(staging.c_str(), &st) != 0) return false;
  rlimit lim{};
  if (::getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY &&
      static_cast<rlim_t>(st.st_size) + (1u << 16) >= lim.rlim_cur)
    return true;
  struct statvfs fs {};
  auto dir = staging.parent_path();
  if (::statvfs(dir.empty() ? "." : dir.c_str(), &fs) != 0) return false;
  return static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize < (1u << 20);
}

void removeStaging(const std::filesystem::path& staging) {
  std::error_code ec;
  std::filesystem::remove(staging, ec);
  std::filesystem::remove(withSuffix(staging, "-journal"), ec);
}

// One bucket's stored rows hashed as at publish time (as readBucket), with
// their number.
struct StoredBucket {
  std::string digest;
  std::uint64_t rows = 0;
};

Result<StoredBucket> hashStoredBucket(sql::Stmt& select, std::uint32_t bucket) {
  select.reset();
  select.bind(1, static_cast<std::int64_t>(bucket));
  crypto::Sha256 sha;
  StoredBucket out;
  std::string len;
  for (;;) {
    auto row = select.step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    std::string_view row_card = select.text(0), body = select.text(1);
    if (peekCardNo(body) != row_card) {
      select.reset();
      return fail(CacheErrc::DigestMismatch, "staging database holds a row under the wrong key");
    }
    len.clear();
    appendU32(len, static_cast<std::uint32_t>(body.size()));
    sha.update(len);
    sha.update(body);
    ++out.rows;
  }
  select.reset();
  out.digest = sha.finish();
  return out;
}

// Inserts a snapshot's rows on a second thread while the importing thread
// decompresses, checks and hashes the next entries: the two halves of an
// import cost about the same, and a kiosk has two cores. Rows are handed over
// in batches of copied bytes, in order; the statement and its connection are
// used by the writer thread only, until finish() has joined it.
class RowWriter {
 public:
  explicit RowWriter(sql::Stmt& insert) : insert_(insert), thread_([this] { run(); }) {}
  RowWriter(const RowWriter&) = delete;
  RowWriter& operator=(const RowWriter&) = delete;
  ~RowWriter() { stop(); }

  Result<void> add(std::uint32_t bucket, std::string_view card_no, std::string_view json) {
    cur_.rows.push_back({bucket, static_cast<std::uint32_t>(cur_.bytes.size()),
                         static_cast<std::uint32_t>(card_no.size()),
                         static_cast<std::uint32_t>(json.size())});
    cur_.bytes.append(card_no);
    cur_.bytes.append(json);
    if (cur_.rows.size() >= kBatchRows) return flush();
    return {};
  }

  /// Waits for every row to be inserted: their number, or the first error.
  Result<std::uint64_t> finish() {
    if (!cur_.rows.empty())
      if (auto r = flush(); !r) return std::unexpected(r.error());
    stop();
    if (error_) return std::unexpected(*error_);
    return inserted_;
  }

 private:
  static constexpr std::size_t kBatchRows = 1024, kQueueDepth = 4;
  struct Batch {
    std::string bytes;
    std::vector<std::array<std::uint32_t, 4>> rows;  ///< bucket, offset, card_no and json sizes
  };

  Result<void> flush() {
    std::unique_lock lock(mu_);
    space_.wait(lock, [&] { return queue_.size() < kQueueDepth || error_; });
    if (error_) return std::unexpected(*error_);
    queue_.push_back(std::move(cur_));
    ready_.notify_one();
    cur_ = Batch();
    if (!spare_.empty()) {
      cur_ = std::move(spare_.back());
      spare_.pop_back();
    }
    return {};
  }

  void stop() {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
    }
    ready_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

  void run() {
    for (;;) {
      Batch b;
      {
        std::unique_lock lock(mu_);
        ready_.wait(lock, [&] { return !queue_.empty() || closing_; });
        if (queue_.empty()) return;
        b = std::move(queue_.front());
        queue_.pop_front();
      }
      space_.notify_one();
      Result<void> r;
      std::uint64_t n = 0;
      if (!failed_) {
        for (const auto& [bucket, off, card_len, json_len] : b.rows) {
          const std::string_view card(b.bytes.data() + off, card_len);
          const std::string_view json(b.bytes.data() + off + card_len, json_len);
          insert_.bind(1, static_cast<std::int64_t>(bucket))
              .bindStatic(2, card)
              .bindStatic(3, json);
          if (r = insert_.run(); !r) break;
          ++n;
        }
      }
      b.rows.clear();
      b.bytes.clear();
      std::lock_guard lock(mu_);
      inserted_ += n;
      if (!r && !error_) {
        error_ = r.error();
        failed_ = true;
        space_.notify_all();
      }
      if (spare_.size() < kQueueDepth) spare_.push_back(std::move(b));
    }
  }

  sql::Stmt& insert_;
  Batch cur_;  ///< the importing thread's, being filled
  std::mutex mu_;
  std::condition_variable ready_, space_;
  std::deque<Batch> queue_;     // guarded by mu_
  std::vector<Batch> spare_;    // guarded by mu_
  std::optional<Error> error_;  // guarded by mu_
  std::uint64_t inserted_ = 0;  // guarded by mu_
  bool closing_ = false;        // guarded by mu_
  bool failed_ = false;         ///< the writer thread's
  std::thread thread_;          ///< last: starts once the rest is constructed
};

// The staging database while it is being built. Statements are destroyed
// before the connection (member order).
//
// A snapshot is inserted into an empty file; its bucket digests are computed
// from the very bytes bound to the INSERTs, in the same pass (SQLite stores a
// bound TEXT value byte for byte; an INSERT that does not store its row fails).
//
// A delta is applied to a copy of the installed file: only the buckets it
// touches are read, each one twice: before its first entry (the copied rows
// must hash to the installed state's signed digest, else the installed file is
// not the delta's base: WRONG_BASE, and a sync takes the snapshot instead) and
// after its last entry (the new digest, from the rows as stored). Untouched
// buckets keep their rows and their digests byte for byte; their rows are
// checked at every lookup, as in the served file they were copied from. The
// new digests must hash to the signed content digest of the new serial, so
// the result holds what a full import of that serial's snapshot would hold.
struct Staging {
  std::filesystem::path path;
  const VerifiedFile* base = nullptr;  ///< delta only: the installed state copied
  std::optional<sql::Db> db;
  std::optional<sql::Stmt> upsert, remove, select_bucket;
  std::optional<sql::Transaction> txn;  ///< open from createStaging to finishStaging
  std::optional<RowWriter> writer;      ///< snapshot only: inserts on its own thread

  // Snapshot: digests as the rows are inserted.
  std::optional<BucketDigester> digester;
  std::uint64_t rows = 0;
  // Delta: the bucket being changed, and the buckets changed so far.
  std::optional<std::uint32_t> open_bucket;
  std::vector<std::pair<std::uint32_t, std::string>> changed;
  std::uint64_t rows_before = 0, rows_after = 0;

  void close() {
    writer.reset();  // joins its thread before the statement and the connection go
    txn.reset();     // rolls back what was not committed
    upsert.reset();
    remove.reset();
    select_bucket.reset();
    db.reset();
  }

  Result<void> closeBucket() {
    if (!open_bucket) return {};
    auto after = hashStoredBucket(*select_bucket, *open_bucket);
    if (!after) return std::unexpected(after.error());
    rows_after += after->rows;
    changed.emplace_back(*open_bucket, std::move(after->digest));
    open_bucket.reset();
    return {};
  }

  Result<void> add(const Entry& e) {
    if (base) {
      if (open_bucket != e.bucket) {
        if (auto r = closeBucket(); !r) return r;
        auto before = hashStoredBucket(*select_bucket, e.bucket);
        if (!before) return std::unexpected(before.error());
        if (before->digest != base->bucket_digests[e.bucket])
          return fail(CacheErrc::WrongBase, "the installed file's bucket " +
                                                std::to_string(e.bucket) +
                                                " does not hold the signed base state");
        rows_before += before->rows;
        open_bucket = e.bucket;
      }
    } else {
      digester->add(e.bucket, e.json);
      ++rows;
      return writer->add(e.bucket, e.card_no, e.json);
    }
    sql::Stmt& s = e.deleted ? *remove : *upsert;
    // The entry's bytes live until the callback returns; run() resets the statement.
    s.bind(1, static_cast<std::int64_t>(e.bucket)).bindStatic(2, e.card_no);
    if (!e.deleted) s.bindStatic(3, e.json);
    return s.run();
  }

  /// The new state's bucket digests and record count.
  Result<std::pair<std::vector<std::string>, std::uint64_t>> result() {
    if (!base) {
      auto inserted = writer->finish();
      if (!inserted) return std::unexpected(inserted.error());
      if (*inserted != rows) return fail(Errc::Internal, "not every row was inserted");
      return std::pair(digester->finish(), rows);
    }
    if (auto r = closeBucket(); !r) return std::unexpected(r.error());
    std::vector<std::string> digests = base->bucket_digests;
    for (auto& [b, d] : changed) digests[b] = d;
    const std::uint64_t n = base->manifest.record_count - rows_before + rows_after;
    return std::pair(std::move(digests), n);
  }
};

Result<void> createStaging(Staging& st, const Manifest& m, std::optional<VerifiedFile>& installed) {
  removeStaging(st.path);
  if (m.type == BundleType::Delta) {
    if (auto r = copyServedFile(installed->path, st.path); !r) return r;
    st.base = &*installed;
  } else {
    st.digester.emplace(m.bucket_count);
  }
  auto db = sql::Db::open(st.path.string(),
                          SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
  if (!db) return std::unexpected(db.error());
  st.db.emplace(std::move(*db));
  sql::Db& d = *st.db;
  if (m.type == BundleType::Snapshot) {
    if (auto r = d.exec("PRAGMA page_size = 8192"); !r) return r;
  }
  // The staging file is thrown away if anything fails, so it needs neither a
  // rollback journal nor ordered writes while it is built; it is synced whole
  // before the swap. Rollback-journal mode (not WAL) on the finished file: the
  // served file is never written again, and read-only openers then need no
  // -wal/-shm files and no write access to the directory.
  for (const char* pragma :
       {"PRAGMA journal_mode = OFF", "PRAGMA synchronous = OFF", "PRAGMA locking_mode = EXCLUSIVE",
        "PRAGMA cache_size = -65536", "PRAGMA temp_store = MEMORY"}) {
    if (auto r = d.exec(pragma); !r) return r;
  }
  if (auto r = migrate(d, schemaVersion()); !r) return r;
  auto txn = d.begin();
  if (!txn) return std::unexpected(txn.error());
  st.txn.emplace(std::move(*txn));
  auto up =
      d.prepare(m.type == BundleType::Delta
                    ? "INSERT OR REPLACE INTO records (bucket, card_no, body) VALUES (?1, ?2, ?3)"
                    : "INSERT INTO records (bucket, card_no, body) VALUES (?1, ?2, ?3)");
  auto rm = d.prepare("DELETE FROM records WHERE bucket = ?1 AND card_no = ?2");
  auto sel = d.prepare(kSelectBucketSql);
  if (!up) return std::unexpected(up.error());
  if (!rm) return std::unexpected(rm.error());
  if (!sel) return std::unexpected(sel.error());
  st.upsert.emplace(std::move(*up));
  st.remove.emplace(std::move(*rm));
  st.select_bucket.emplace(std::move(*sel));
  if (!st.base) st.writer.emplace(*st.upsert);
  return {};
}

// Checks the new state's digests against the signed manifest (the proof that
// the file about to be served holds exactly the signed state), writes them and
// the manifest, and commits.
Result<void> finishStaging(Staging& st, const Manifest& m, UnixSeconds newest_seen, UnixSeconds now,
                           const std::string& bundle_sha256) {
  sql::Db& d = *st.db;
  auto state = st.result();
  if (!state) return std::unexpected(state.error());
  auto& [digests, rows] = *state;
  if (stateDigest(digests) != m.content_digest)
    return fail(CacheErrc::DigestMismatch,
                "the imported records do not hash to the manifest's content_digest");
  if (rows != m.record_count)
    return fail(Errc::Malformed, "manifest says " + std::to_string(m.record_count) +
                                     " records, the state has " + std::to_string(rows));
  if (st.base) {
    auto upd = d.prepare("UPDATE buckets SET digest = ?2 WHERE bucket = ?1");
    if (!upd) return std::unexpected(upd.error());
    for (const auto& [b, digest] : st.changed)
      if (auto r = upd->bind(1, static_cast<std::int64_t>(b)).bindBlob(2, digest).run(); !r)
        return r;
  } else {
    auto ins = d.prepare("INSERT INTO buckets (bucket, digest) VALUES (?1, ?2)");
    if (!ins) return std::unexpected(ins.error());
    for (std::size_t b = 0; b < digests.size(); ++b)
      if (auto r = ins->bind(1, static_cast<std::int64_t>(b)).bindBlob(2, digests[b]).run(); !r)
        return r;
  }
  if (auto r = d.exec("DELETE FROM meta"); !r) return r;
  {
    auto meta = d.prepare(
        "INSERT INTO meta (id, manifest, type, serial, profile, signed_at, expires_at, "
        "bucket_count, "
        "record_count, content_digest, newest_signed_seen, imported_at, bundle_sha256) "
        "VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
    if (!meta) return std::unexpected(meta.error());
    meta->bind(1, std::string_view(m.text))
        .bind(2, bundleTypeName(m.type))
        .bind(3, m.serial)
        .bind(4, profileName(m.profile))
        .bind(5, m.signed_at)
        .bind(6, m.expires_at)
        .bind(7, static_cast<std::int64_t>(m.bucket_count))
        .bind(8, static_cast<std::int64_t>(m.record_count))
        .bindBlob(9, m.content_digest)
        .bind(10, newest_seen)
        .bind(11, now)
        .bind(12, std::string_view(bundle_sha256));
    if (auto r = meta->run(); !r) return r;
  }
  if (auto r = st.txn->commit(); !r) return r;
  st.txn.reset();
  if (st.base) return {};
  auto check = d.prepare("PRAGMA quick_check");
  if (!check) return std::unexpected(check.error());
  auto row = check->step();
  if (!row) return std::unexpected(row.error());
  if (!*row || check->text(0) != "ok")
    return fail(CacheErrc::Unverifiable,
                "staging database failed quick_check: " + std::string(*row ? check->text(0) : ""));
  return {};
}

}  // namespace

std::filesystem::path withSuffix(const std::filesystem::path& p, const char* suffix) {
  auto out = p;
  out += suffix;
  return out;
}

int schemaVersion() {
  int v = 0;
  for (const auto& m : kMigrations) v = std::max(v, migrationNumber(m));
  return v;
}

Result<void> migrateFile(const std::filesystem::path& path, int target) {
  auto db = sql::Db::open(path.string(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (!db) return std::unexpected(db.error());
  return migrate(*db, target);
}

Result<VerifiedFile> openVerified(const std::filesystem::path& path, const trust::TrustRoot& root) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return std::unexpected(unverifiable(path, "no cache file"));
  auto db = sql::Db::open(path.string(), SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX);
  if (!db) return std::unexpected(unverifiable(path, db.error().message));
  auto version = db->scalar("PRAGMA user_version");
  if (!version) return std::unexpected(unverifiable(path, version.error().message));
  if (*version < 1 || *version > schemaVersion())
    return std::unexpected(
        unverifiable(path, "unknown schema version " + std::to_string(*version)));

  auto meta =
      db->prepare("SELECT manifest, newest_signed_seen, imported_at FROM meta WHERE id = 1");
  if (!meta) return std::unexpected(unverifiable(path, meta.error().message));
  auto row = meta->step();
  if (!row) return std::unexpected(unverifiable(path, row.error().message));
  if (!*row) return std::unexpected(unverifiable(path, "no meta row"));
  auto manifest = parseManifest(meta->text(0), root);
  if (!manifest)
    return std::unexpected(
        unverifiable(path, "stored manifest: " + std::string(codeName(manifest.error().code)) +
                               ": " + manifest.error().message));
  VerifiedFile f{path, std::move(*db), std::move(*manifest), {}, meta->integer(1), meta->integer(2),
                 {}};
  meta.value() = sql::Stmt();
  if (*version >= 2) {
    // A file that says schema 2 has the column: its absence is an error, not "".
    auto s = f.db.prepare("SELECT bundle_sha256 FROM meta WHERE id = 1");
    if (!s) return std::unexpected(unverifiable(path, s.error().message));
    auto sha = s->step();
    if (!sha) return std::unexpected(unverifiable(path, sha.error().message));
    if (!*sha) return std::unexpected(unverifiable(path, "no meta row"));
    f.bundle_sha256 = std::string(s->text(0));
  }

  auto buckets = f.db.prepare("SELECT bucket, digest FROM buckets ORDER BY bucket");
  if (!buckets) return std::unexpected(unverifiable(path, buckets.error().message));
  f.bucket_digests.reserve(f.manifest.bucket_count);
  for (;;) {
    auto r = buckets->step();
    if (!r) return std::unexpected(unverifiable(path, r.error().message));
    if (!*r) break;
    if (buckets->integer(0) != static_cast<std::int64_t>(f.bucket_digests.size()) ||
        buckets->blob(1).size() != 32 || f.bucket_digests.size() >= f.manifest.bucket_count)
      return std::unexpected(unverifiable(path, "bucket table does not match the manifest"));
    f.bucket_digests.emplace_back(buckets->blob(1));
  }
  if (f.bucket_digests.size() != f.manifest.bucket_count ||
      stateDigest(f.bucket_digests) != f.manifest.content_digest)
    return std::unexpected(
        unverifiable(path, "bucket digests do not hash to the signed content digest"));
  return f;
}

Result<BucketRead> readBucket(sql::Stmt& stmt, std::uint32_t bucket, std::string_view card_no) {
  stmt.reset();
  stmt.bind(1, static_cast<std::int64_t>(bucket));
  crypto::Sha256 sha;
  BucketRead out;
  std::string len;
  for (;;) {
    auto row = stmt.step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    std::string_view row_card = stmt.text(0), body = stmt.text(1);
    // The digest covers bodies only; this ties each row's key to its body so a
    // renamed key cannot hide a card behind NOT_FOUND.
    if (peekCardNo(body) != row_card) {
      stmt.reset();
      return fail(CacheErrc::Unverifiable,
                  "integrity: a row's card_no differs from its signed body");
    }
    len.clear();
    appendU32(len, static_cast<std::uint32_t>(body.size()));
    sha.update(len);
    sha.update(body);
    if (row_card == card_no) out.body = std::string(body);
  }
  stmt.reset();
  out.digest = sha.finish();
  return out;
}

Result<void> checkAllBuckets(VerifiedFile& f) {
  auto all = f.db.prepare("SELECT bucket, card_no, body FROM records ORDER BY bucket, card_no");
  if (!all) return std::unexpected(all.error());
  BucketDigester digester(f.manifest.bucket_count);
  for (;;) {
    auto row = all->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    std::int64_t bucket = all->integer(0);
    if (bucket < 0 || bucket >= f.manifest.bucket_count ||
        peekCardNo(all->text(2)) != all->text(1) ||
        bucketOf(all->text(1), f.manifest.bucket_count) != bucket)
      return fail(CacheErrc::Unverifiable,
                  "integrity: a row is in the wrong bucket or under the wrong key");
    digester.add(static_cast<std::uint32_t>(bucket), all->text(2));
  }
  auto digests = digester.finish();
  for (std::size_t b = 0; b < digests.size(); ++b)
    if (digests[b] != f.bucket_digests[b])
      return fail(CacheErrc::Unverifiable,
                  "integrity: bucket " + std::to_string(b) + " does not match its digest");
  return {};
}

Result<ImportResult> importBundle(const std::filesystem::path& db_path,
                                  const std::filesystem::path& bundle, const trust::TrustRoot& root,
                                  UnixSeconds now, const ImportOptions& options) {
  ImportLock lock;
  if (auto r = lock.acquire(withSuffix(db_path, ".lock")); !r) return std::unexpected(r.error());
  auto file = openFileSource(bundle);
  if (!file) return std::unexpected(file.error());
  HashingSource source(**file);

  // What this node has accepted before, whatever the cache files say now.
  std::optional<CacheFloor> floor;
  if (options.trust_state) {
    auto state = loadTrustState(*options.trust_state);
    if (!state) return std::unexpected(state.error());
    if (auto r = checkRootChain(*state, root, options.root_chain_dir); !r)
      return std::unexpected(r.error());
    auto merged = withTpmFloor(state->floorOf(db_path), options.tpm_tcti);
    if (!merged) return std::unexpected(merged.error());
    floor = *merged;
  }
  auto below_floor = [&](const VerifiedFile& f) {
    return floor && f.manifest.serial < floor->serial;
  };

  // The installed state is whatever a cache open would serve: the current file
  // if it verifies, else the previous one; never one below the trust state.
  const auto prev_path = withSuffix(db_path, ".prev");
  std::optional<VerifiedFile> installed;
  bool installed_is_current = false;
  if (auto cur = openVerified(db_path, root); cur && !below_floor(*cur)) {
    installed.emplace(std::move(*cur));
    installed_is_current = true;
  } else if (auto prev = openVerified(prev_path, root); prev && !below_floor(*prev)) {
    installed.emplace(std::move(*prev));
  }

  Staging st;
  st.path = withSuffix(db_path, ".staging");
  UnixSeconds newest_seen = 0;
  ReadOptions ro;
  ro.limits = options.limits;
  ro.check_content_digest = false;  // the staging check below recomputes it from the stored rows
  ro.on_manifest = [&](const Manifest& m) -> Result<void> {
    // Without an explicit profile the installed state's one is kept: kiosk and
    // staff serials are independent, so a higher staff serial is no reason to
    // put full names on a kiosk.
    const std::optional<roster::Profile> want =
        options.profile ? options.profile
                        : (installed ? std::optional(installed->manifest.profile) : std::nullopt);
    if (want && m.profile != *want)
      return fail(CacheErrc::WrongProfile, "bundle is for the " +
                                               std::string(profileName(m.profile)) +
                                               " profile, this cache holds the " +
                                               std::string(profileName(*want)) + " profile");
    newest_seen = std::max({installed ? installed->newest_signed_seen : 0,
                            floor ? floor->newest_signed_at : 0, m.signed_at});
    if (now + options.clock_tolerance < newest_seen)
      return fail(CacheErrc::ClockBehind, "system clock " + formatUtc(now) +
                                              " is earlier than the newest signed time seen, " +
                                              formatUtc(newest_seen));
    // Equal to the floor is allowed only with nothing installed at it: re-importing
    // the same signed snapshot after its cache file was lost.
    if (floor && m.serial < floor->serial)
      return fail(TrustErrc::Rollback, "serial " + std::to_string(m.serial) +
                                           " is below the highest serial this node accepted, " +
                                           std::to_string(floor->serial));
    if (installed && m.serial <= installed->manifest.serial)
      return fail(TrustErrc::Rollback, "serial " + std::to_string(m.serial) +
                                           " is not newer than the installed " +
                                           std::to_string(installed->manifest.serial));
    if (m.type == BundleType::Delta) {
      if (!installed)
        return fail(CacheErrc::WrongBase, "a delta needs an installed base; none verifies");
      const Manifest& base = installed->manifest;
      if (m.base_serial != base.serial || m.base_content_digest != base.content_digest ||
          m.profile != base.profile || m.bucket_count != base.bucket_count)
        return fail(CacheErrc::WrongBase,
                    "delta applies to serial " + std::to_string(m.base_serial) +
                        ", installed is serial " + std::to_string(base.serial) +
                        (m.base_serial == base.serial ? " with another content digest" : ""));
    }
    return createStaging(st, m, installed);
  };
  auto sink = [&](const Entry& e) -> Result<void> { return st.add(e); };
  auto fail_clean = [&](Error e) -> Result<ImportResult> {
    st.close();
    if (e.code == Errc::Io && outOfRoom(st.path))
      e = Error{Errc::DiskFull, "no room for the new state: " + e.message};
    removeStaging(st.path);
    return std::unexpected(std::move(e));
  };

  auto m = readBundle(source, root, now, ro, sink);
  if (!m) return fail_clean(m.error());
  if (auto r = finishStaging(st, *m, newest_seen, now, hexEncode(source.finish())); !r)
    return fail_clean(r.error());
  st.close();
  {
    // SQLite creates the file with 0644 & ~umask and the importer's owner; a
    // daemon running as the state directory's user must be able to read it.
    int fd = ::open(st.path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
      return fail_clean(
          Error{Errc::Io, st.path.string() + ": cannot open: " + std::strerror(errno)});
    auto owned = setServedFileOwnership(fd, st.path);
    ::close(fd);
    if (!owned) return fail_clean(owned.error());
  }
  if (auto r = fsyncFile(st.path); !r) return fail_clean(r.error());

  ImportResult result{*m, installed ? std::optional(installed->manifest.serial) : std::nullopt};
  installed.reset();

  // The swap. At every instant DB names a complete file: the old one until the
  // rename, the new one after it. DB.prev is a second name for the old inode,
  // made before the rename (and itself replaced by a rename).
  const auto dir = db_path.parent_path();
  if (installed_is_current) {
    const auto tmp = withSuffix(db_path, ".prev.tmp");
    ::unlink(tmp.c_str());
    if (::link(db_path.c_str(), tmp.c_str()) != 0 || ::rename(tmp.c_str(), prev_path.c_str()) != 0)
      return fail_clean(ioError(prev_path, "cannot keep the previous state", errno));
    if (auto r = syncDirectory(dir); !r) return fail_clean(r.error());
  }
  if (::rename(st.path.c_str(), db_path.c_str()) != 0)
    return fail_clean(ioError(db_path, "cannot swap in the new state", errno));
  if (auto r = syncDirectory(dir); !r) return std::unexpected(r.error());
  if (options.trust_state) {
    TrustRaise raise{db_path, m->serial, newest_seen, &root};
    if (auto r = raiseTrustState(*options.trust_state, raise); !r)
      return fail(r.error().code,
                  "imported, but the trust state was not raised: " + r.error().message);
    if (auto r = raiseTpmCounter(options.tpm_tcti, m->serial); !r)
      return fail(r.error().code,
                  "imported, but the TPM counter was not raised: " + r.error().message);
  }
  return result;
}

}  // namespace kb::cache
