// A delta applied to a copy of the served file must give exactly the state a
// full import of the same serial gives, keep tamper detection at lookup, and
// refuse a tampered delta or base with the old cache serving. An import that
// runs out of disk is DISK_FULL with the old cache serving.

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cache/cache.h"
#include "cache/digest.h"
#include "cache/errors.h"
#include "cache/publish.h"
#include "cache/record_codec.h"
#include "cache/store.h"
#include "fixtures.h"

namespace kb::cache {
namespace {

using namespace testing;

// Every row of `sql`'s result as text, for comparing two cache files.
std::vector<std::string> rows(const std::filesystem::path& db, const std::string& sql) {
  std::vector<std::string> out;
  sqlite3* raw = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(raw, sql.c_str(), -1, &s, nullptr), SQLITE_OK) << sql;
  while (sqlite3_step(s) == SQLITE_ROW) {
    std::string row;
    for (int c = 0; c < sqlite3_column_count(s); ++c) {
      const auto* p = static_cast<const char*>(sqlite3_column_blob(s, c));
      row.append(p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(s, c)));
      row += '\x1f';
    }
    out.push_back(std::move(row));
  }
  sqlite3_finalize(s);
  sqlite3_close(raw);
  return out;
}

class StoreDelta : public ::testing::Test {
 protected:
  TempDir dir;
  Keys keys = makeKeys();
  trust::TrustRoot root = makeRoot(keys);
  std::filesystem::path db = dir / "CACHE.db";
  int published = 0;

  struct Published {
    std::filesystem::path snapshot, delta;
  };
  // Publishes `cards` as serial `serial`, with a delta from `base` if given.
  Published publishSerial(std::vector<roster::CardRecord> cards, std::int64_t serial,
                          std::optional<std::filesystem::path> base = std::nullopt) {
    PublishOptions o;
    o.serial = serial;
    o.signed_at = kNow - 3600 + serial;
    o.expires_at = kNow + 14 * kDay;
    o.out_dir = dir / ("out" + std::to_string(++published));
    o.base = base;
    auto r = publish(std::move(cards), root, {keys.snapshot}, o);
    EXPECT_TRUE(r) << r.error().message;
    return {r->snapshot, r->delta.value_or(std::filesystem::path())};
  }

  static std::error_code code(const Result<ImportResult>& r) {
    return r ? make_error_code(Errc::Internal) : r.error().code;
  }

  // The cards of serial `v`: a 2,000-card roster where each serial changes
  // some cards' status, removes some and adds some.
  static std::vector<roster::CardRecord> cardsOf(int v) {
    std::vector<roster::CardRecord> out;
    for (std::uint64_t i = 0; i < 2000; ++i) {
      if (v >= 2 && i % 97 == 11) continue;  // removed from serial 2 on
      out.push_back(syntheticCard(i, v >= 2 && i % 5 == 0 ? 1 : 0));
      if (v >= 3 && i % 31 == 0) out.back().status = "revoked";
    }
    for (std::uint64_t i = 0; i < static_cast<std::uint64_t>(v) * 15; ++i)
      out.push_back(syntheticCard(5000 + i));  // added
    return out;
  }

  // The two files hold the same state, row for row and digest for digest.
  static void expectSameState(const std::filesystem::path& a, const std::filesystem::path& b) {
    EXPECT_EQ(rows(a, "SELECT bucket, digest FROM buckets ORDER BY bucket"),
              rows(b, "SELECT bucket, digest FROM buckets ORDER BY bucket"));
    const auto ra = rows(a, "SELECT bucket, card_no, body FROM records ORDER BY bucket, card_no");
    EXPECT_EQ(ra, rows(b, "SELECT bucket, card_no, body FROM records ORDER BY bucket, card_no"));
    const std::string meta =
        "SELECT serial, profile, signed_at, expires_at, bucket_count, record_count, "
        "content_digest FROM meta";
    EXPECT_EQ(rows(a, meta), rows(b, meta));
    EXPECT_EQ(rows(a, "PRAGMA integrity_check"), std::vector<std::string>{"ok\x1f"});
  }
};

TEST_F(StoreDelta, AChainOfDeltasGivesExactlyWhatAFullImportOfEachSerialGives) {
  auto p1 = publishSerial(cardsOf(1), 1);
  auto p2 = publishSerial(cardsOf(2), 2, p1.snapshot);
  auto p3 = publishSerial(cardsOf(3), 3, p2.snapshot);
  ASSERT_FALSE(p2.delta.empty());
  ASSERT_FALSE(p3.delta.empty());
  ASSERT_TRUE(importBundle(db, p1.snapshot, root, kNow));
  auto cache = Cache::open(db, root, kNow);  // a running daemon, opened before the deltas

  for (const auto* p : {&p2, &p3}) {
    auto r = importBundle(db, p->delta, root, kNow);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->manifest.type, BundleType::Delta);
    TempDir full;
    ASSERT_TRUE(importBundle(full / "CACHE.db", p->snapshot, root, kNow));
    expectSameState(db, full / "CACHE.db");
  }
  auto info = cache.info(kNow);
  EXPECT_EQ(cache.lookup(cardNo(11), kNow).verdict, VerdictCode::NotFound);  // removed in 2
  EXPECT_EQ(cache.lookup(cardNo(5040), kNow).verdict, VerdictCode::Active);  // added in 3
  EXPECT_EQ(cache.lookup(cardNo(31), kNow).verdict, VerdictCode::Blocked);   // revoked in 3
  info = cache.info(kNow);
  EXPECT_EQ(info.snapshot->serial, 3);
  EXPECT_EQ(info.arrived_as, BundleType::Delta);
  EXPECT_EQ(info.record_count, cardsOf(3).size());
  EXPECT_TRUE(cache.checkAll());
  // The previous state is still the one before the last delta, untouched.
  auto prev = openVerified(withSuffix(db, ".prev"), root);
  ASSERT_TRUE(prev);
  EXPECT_EQ(prev->manifest.serial, 2);
  EXPECT_TRUE(checkAllBuckets(*prev));
}

TEST_F(StoreDelta, ATamperedDeltaIsRefusedAndTheOldCacheServes) {
  auto p1 = publishSerial(cardsOf(1), 1);
  auto p2 = publishSerial(cardsOf(2), 2, p1.snapshot);
  ASSERT_TRUE(importBundle(db, p1.snapshot, root, kNow));
  const std::string before = readAll(db);
  const std::string good = readAll(p2.delta);
  std::string flipped = good;
  flipped[good.size() - 30] = static_cast<char>(flipped[good.size() - 30] ^ 1);
  writeFile(dir / "flipped.kbs", flipped);
  EXPECT_EQ(code(importBundle(db, dir / "flipped.kbs", root, kNow)), CacheErrc::DigestMismatch);
  writeFile(dir / "cut.kbs", good.substr(0, good.size() - 10));
  EXPECT_EQ(code(importBundle(db, dir / "cut.kbs", root, kNow)), Errc::Truncated);

  // Signed, well-formed, but its entries do not give the state it signs: a
  // changed card's new record with the content digest of the untouched base.
  auto base = openVerified(db, root);
  ASSERT_TRUE(base);
  Parts p;
  p.spec.type = BundleType::Delta;
  p.spec.serial = 2;
  p.spec.signed_at = kNow - 60;
  p.spec.expires_at = kNow + kDay;
  p.spec.record_count = base->manifest.record_count;
  p.spec.bucket_count = base->manifest.bucket_count;
  p.spec.content_digest = base->manifest.content_digest;
  p.spec.base_serial = 1;
  p.spec.base_content_digest = base->manifest.content_digest;
  auto changed = syntheticCard(14, 1);  // 14 % 7 == 0: lost in variant 1
  p.entries = {encodeRecord(changed)};
  writeFile(dir / "lying.kbs", build(p, {keys.snapshot}));
  EXPECT_EQ(code(importBundle(db, dir / "lying.kbs", root, kNow)), CacheErrc::DigestMismatch);
  // And the base of another serial.
  auto p3 = publishSerial(cardsOf(3), 3, p2.snapshot);
  EXPECT_EQ(code(importBundle(db, p3.delta, root, kNow)), CacheErrc::WrongBase);

  EXPECT_EQ(readAll(db), before);
  EXPECT_FALSE(std::filesystem::exists(withSuffix(db, ".staging")));
  auto cache = Cache::open(db, root, kNow);
  EXPECT_EQ(cache.info(kNow).snapshot->serial, 1);
  EXPECT_EQ(cache.info(kNow).code, "");
  EXPECT_EQ(cache.lookup(cardNo(14), kNow).verdict, VerdictCode::Active);
  ASSERT_TRUE(importBundle(db, p2.delta, root, kNow));  // the good delta still applies
  EXPECT_EQ(Cache::open(db, root, kNow).lookup(cardNo(11), kNow).verdict, VerdictCode::NotFound);
}

TEST_F(StoreDelta, ABaseEditedWhereTheDeltaAppliesIsWrongBaseSoTheSnapshotIsTaken) {
  auto p1 = publishSerial(cardsOf(1), 1);
  auto p2 = publishSerial(cardsOf(2), 2, p1.snapshot);
  ASSERT_TRUE(importBundle(db, p1.snapshot, root, kNow));
  // Card 10 changes in serial 2 (10 % 5 == 0); edit another row of its bucket.
  const std::uint32_t buckets = openVerified(db, root)->manifest.bucket_count;
  const std::uint32_t b = bucketOf(cardNo(10), buckets);
  tamper(db, "UPDATE records SET body = replace(body, '2026-12-31', '2030-12-31') WHERE bucket = " +
                 std::to_string(b));
  const std::string before = readAll(db);
  auto r = importBundle(db, p2.delta, root, kNow);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, CacheErrc::WrongBase) << r.error().message;
  EXPECT_EQ(readAll(db), before);
  EXPECT_FALSE(std::filesystem::exists(withSuffix(db, ".staging")));
  ASSERT_TRUE(importBundle(db, p2.snapshot, root, kNow));  // what a sync does next
  EXPECT_TRUE(Cache::open(db, root, kNow).checkAll());
}

TEST_F(StoreDelta, ABaseEditedWhereTheDeltaDoesNotApplyStaysCaughtAtLookup) {
  auto p1 = publishSerial(cardsOf(1), 1);
  auto p2 = publishSerial(cardsOf(2), 2, p1.snapshot);
  ASSERT_TRUE(importBundle(db, p1.snapshot, root, kNow));
  // A bucket that serial 2 leaves alone: its rows and digest are carried over.
  auto before = openVerified(db, root);
  std::vector<std::string> want;
  {
    TempDir full;
    ASSERT_TRUE(importBundle(full / "CACHE.db", p2.snapshot, root, kNow));
    want = rows(full / "CACHE.db", "SELECT bucket, digest FROM buckets ORDER BY bucket");
  }
  const auto had = rows(db, "SELECT bucket, digest FROM buckets ORDER BY bucket");
  std::uint64_t card = 0;
  for (; card < 2000; ++card) {
    const auto b = bucketOf(cardNo(card), before->manifest.bucket_count);
    if (had[b] == want[b]) break;
  }
  ASSERT_LT(card, 2000u);
  tamper(db,
         "UPDATE records SET body = replace(body, '\"active\"', '\"revoked\"') WHERE card_no = '" +
             cardNo(card) + "'");
  ASSERT_TRUE(importBundle(db, p2.delta, root, kNow));
  auto cache = Cache::open(db, root, kNow);
  EXPECT_EQ(cache.info(kNow).snapshot->serial, 2);
  auto v = cache.lookup(cardNo(card), kNow);
  EXPECT_EQ(v.verdict, VerdictCode::Unverifiable);
  EXPECT_NE(v.reason.find("integrity"), std::string::npos);
  EXPECT_EQ(cache.lookup(cardNo(10), kNow).verdict, VerdictCode::Active);
  EXPECT_FALSE(cache.checkAll());
}

// Runs one import in a child process whose files may not grow past
// `fsize_limit` bytes (RLIMIT_FSIZE: writes past it fail with EFBIG, as a full
// disk fails them with ENOSPC). Returns the code's name, or "OK".
std::string importWithFileSizeLimit(const std::filesystem::path& db,
                                    const std::filesystem::path& bundle,
                                    const trust::TrustRoot& root, rlim_t fsize_limit) {
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    ::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails instead of killing
    rlimit lim{fsize_limit, fsize_limit};
    if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) ::_exit(3);
    auto r = importBundle(db, bundle, root, kNow);
    std::string out = r ? "OK" : std::string(codeName(r.error().code)) + ": " + r.error().message;
    if (::write(fds[1], out.data(), out.size()) < 0) ::_exit(2);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    out.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return "child failed with status " + std::to_string(status);
  return out;
}

TEST_F(StoreDelta, AFileSizeLimitDuringAnImportIsDiskFullAndTheOldCacheServes) {
  auto p1 = publishSerial(syntheticCards(300), 1);
  auto p2 = publishSerial(syntheticCards(6000, 1), 2, p1.snapshot);
  ASSERT_TRUE(importBundle(db, p1.snapshot, root, kNow));
  const std::string before = readAll(db);
  const auto limit = static_cast<rlim_t>(before.size() + (before.size() / 2));

  // A snapshot: the staging file outgrows the limit while rows are inserted.
  std::string got = importWithFileSizeLimit(db, p2.snapshot, root, limit);
  EXPECT_EQ(got.substr(0, got.find(':')), "DISK_FULL") << got;
  EXPECT_EQ(readAll(db), before);
  EXPECT_FALSE(std::filesystem::exists(withSuffix(db, ".staging")));
  auto cache = Cache::open(db, root, kNow);
  EXPECT_EQ(cache.info(kNow).snapshot->serial, 1);
  EXPECT_EQ(cache.lookup(cardNo(1), kNow).verdict, VerdictCode::Active);

  // A delta onto a large base: the copy of the served file hits the limit.
  ASSERT_TRUE(importBundle(db, p2.snapshot, root, kNow));
  auto p3 = publishSerial(syntheticCards(6000, 2), 3, p2.snapshot);
  const std::string base = readAll(db);
  got = importWithFileSizeLimit(db, p3.delta, root, static_cast<rlim_t>(base.size() / 2));
  EXPECT_EQ(got.substr(0, got.find(':')), "DISK_FULL") << got;
  EXPECT_EQ(readAll(db), base);
  EXPECT_FALSE(std::filesystem::exists(withSuffix(db, ".staging")));
  EXPECT_EQ(Cache::open(db, root, kNow).info(kNow).snapshot->serial, 2);

  // With room again, both go through.
  EXPECT_EQ(importWithFileSizeLimit(db, p3.delta, root, RLIM_INFINITY), "OK");
  EXPECT_EQ(Cache::open(db, root, kNow).info(kNow).snapshot->serial, 3);
}

TEST_F(StoreDelta, AFullFilesystemDuringAnImportIsDiskFullAndTheOldCacheServes) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting a small tmpfs needs root";
  TempDir mnt;
  if (::mount("tmpfs", mnt.path().c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "size=1m") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs here: " << std::strerror(errno);
  struct Unmount {
    std::filesystem::path p;
    ~Unmount() { ::umount2(p.c_str(), MNT_DETACH); }
  } unmount{mnt.path()};
  const auto small = mnt / "CACHE.db";
  auto p1 = publishSerial(syntheticCards(300), 1);
  auto p2 = publishSerial(syntheticCards(6000, 1), 2, p1.snapshot);
  ASSERT_TRUE(importBundle(small, p1.snapshot, root, kNow));
  const std::string before = readAll(small);

  auto r = importBundle(small, p2.snapshot, root, kNow);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::DiskFull) << r.error().message;
  EXPECT_EQ(readAll(small), before);
  EXPECT_FALSE(std::filesystem::exists(withSuffix(small, ".staging")));
  auto cache = Cache::open(small, root, kNow);
  EXPECT_EQ(cache.info(kNow).snapshot->serial, 1);
  EXPECT_EQ(cache.info(kNow).code, "");
  EXPECT_EQ(cache.lookup(cardNo(1), kNow).verdict, VerdictCode::Active);
}

}  // namespace
}  // namespace kb::cache
