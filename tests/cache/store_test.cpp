// Import (staging, checks, atomic swap), opening with fallback, and lookups
// that detect rows edited after import.

#include "cache/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

#include "cache/cache.h"
#include "cache/digest.h"
#include "cache/errors.h"
#include "cache/publish.h"
#include "common/encoding.h"
#include "fixtures.h"
#include "trust/errors.h"

namespace kb::cache {
namespace {

using namespace testing;

class StoreTest : public ::testing::Test {
 protected:
  TempDir dir;
  Keys keys = makeKeys();
  trust::TrustRoot root = makeRoot(keys);
  std::filesystem::path db = dir / "CACHE.db";

  // Publishes `cards` as snapshot `serial` signed at `signed_at`.
  std::filesystem::path publishSnapshot(std::vector<roster::CardRecord> cards, std::int64_t serial,
                                        UnixSeconds signed_at = kNow - 3600,
                                        std::optional<std::filesystem::path> base = std::nullopt,
                                        std::filesystem::path* delta = nullptr) {
    PublishOptions o;
    o.serial = serial;
    o.signed_at = signed_at;
    o.expires_at = signed_at + 14 * kDay;
    o.out_dir = dir / "out";
    o.base = base;
    auto r = publish(std::move(cards), root, {keys.snapshot}, o);
    EXPECT_TRUE(r) << r.error().message;
    if (delta && r->delta) *delta = *r->delta;
    return r->snapshot;
  }

  Result<ImportResult> import(const std::filesystem::path& bundle, UnixSeconds now = kNow) {
    return importBundle(db, bundle, root, now);
  }

  Cache open(UnixSeconds now = kNow) { return Cache::open(db, root, now); }

  static std::error_code code(const Result<ImportResult>& r) {
    return r ? make_error_code(Errc::Internal) : r.error().code;
  }
};

TEST_F(StoreTest, ImportThenLookupGivesVerdicts) {
  auto snap = publishSnapshot(syntheticCards(500), 1);
  auto r = import(snap);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->previous_serial);
  auto cache = open();
  auto info = cache.info(kNow);
  EXPECT_TRUE(info.serving) << info.reason;
  EXPECT_EQ(info.file, db);
  EXPECT_EQ(info.record_count, 500u);
  EXPECT_EQ(info.bundle_sha256, hexEncode(crypto::sha256(readAll(snap))));
  EXPECT_EQ(cache.lookup(cardNo(1), kNow).verdict, VerdictCode::Active);
  EXPECT_EQ(cache.lookup(cardNo(7), kNow).verdict, VerdictCode::Blocked);  // i % 53 == 7: revoked
  EXPECT_EQ(cache.lookup(cardNo(5), kNow).verdict,
            VerdictCode::Inactive);  // i % 11 == 5: no coverage
  EXPECT_EQ(cache.lookup("KB-999999999", kNow).verdict, VerdictCode::NotFound);
  EXPECT_TRUE(cache.checkAll());
}

TEST_F(StoreTest, AnOpenCacheServesTheNextImportWithoutBeingReopened) {
  ASSERT_TRUE(import(publishSnapshot(syntheticCards(50), 1)));
  auto cache = open();
  EXPECT_EQ(cache.lookup(cardNo(1), kNow).snapshot->serial, 1);
  EXPECT_FALSE(cache.refresh());  // nothing changed yet
  ASSERT_TRUE(import(publishSnapshot(syntheticCards(60, 1), 2)));
  EXPECT_EQ(cache.lookup(cardNo(1), kNow).snapshot->serial, 2);  // the lookup noticed the swap
  EXPECT_EQ(cache.info(kNow).record_count, 60u);
  ASSERT_TRUE(import(publishSnapshot(syntheticCards(70, 2), 3)));
  EXPECT_TRUE(cache.refresh());  // what the daemon's status timer calls
  EXPECT_EQ(cache.info(kNow).snapshot->serial, 3);
}

TEST_F(StoreTest, LookupsStopWhenTheTrustRootExpires) {
  ASSERT_TRUE(import(publishSnapshot(syntheticCards(50), 1)));
  auto short_root = trust::TrustRoot::parse(rootText(keys, kNow + 2 * kDay), kNow).value();
  auto cache = Cache::open(db, short_root, kNow);
  EXPECT_EQ(cache.lookup(cardNo(1), kNow + kDay).verdict, VerdictCode::Active);
  auto late = cache.lookup(cardNo(1), kNow + 3 * kDay);  // the snapshot itself is still valid
  EXPECT_EQ(late.verdict, VerdictCode::Unverifiable);
  EXPECT_NE(late.reason.find("trust root expired"), std::string::npos) << late.reason;
}

TEST_F(StoreTest, RollbackIsRefused) {
  auto s1 = publishSnapshot(syntheticCards(50), 1);
  auto s2 = publishSnapshot(syntheticCards(50, 1), 2);
  ASSERT_TRUE(import(s2));
  EXPECT_EQ(code(import(s1)), TrustErrc::Rollback);
  EXPECT_EQ(code(import(s2)), TrustErrc::Rollback);  // the same serial again
}

// Kiosk and staff bundles are signed by the same snapshot keys and their
// serials run independently: a staff bundle (full names, birth dates, NIK
// digits) with a higher serial must not replace a kiosk cache just because the
// importer did not name a profile (kbctl import never does).
TEST_F(StoreTest, ImportKeepsTheInstalledProfile) {
  ASSERT_TRUE(import(publishSnapshot(syntheticCards(50), 1)));
  PublishOptions o;
  o.profile = roster::Profile::Staff;
  o.serial = 9;
  o.signed_at = kNow - 3600;
  o.expires_at = kNow + kDay;
  o.out_dir = dir / "staff";
  auto staff = publish(syntheticCards(50), root, {keys.snapshot}, o);
  ASSERT_TRUE(staff) << staff.error().message;
  auto r = import(staff->snapshot);
  ASSERT_FALSE(r) << "a staff bundle replaced the kiosk cache";
  EXPECT_EQ(r.error().code, CacheErrc::WrongProfile) << r.error().message;
  EXPECT_EQ(open().info(kNow).profile, roster::Profile::Kiosk);
  EXPECT_EQ(open().info(kNow).snapshot->serial, 1);
}

TEST_F(StoreTest, ClockBehindNewestSignedTimeIsRefused) {
  auto s1 = publishSnapshot(syntheticCards(50), 1, kNow);
  ASSERT_TRUE(import(s1, kNow));
  auto s2 = publishSnapshot(syntheticCards(50, 1), 2, kNow - 2 * kDay);  // validly signed earlier
  // The clock says two days ago: earlier than serial 1's signing time, which we saw.
  EXPECT_EQ(code(import(s2, kNow - kDay)), CacheErrc::ClockBehind);
  EXPECT_TRUE(import(s2, kNow));
}

TEST_F(StoreTest, DeltaOnWrongBaseIsRefused) {
  auto s1 = publishSnapshot(syntheticCards(200), 1);
  std::filesystem::path d12, d23;
  auto s2 = publishSnapshot(syntheticCards(200, 1), 2, kNow - 3600, s1, &d12);
  publishSnapshot(syntheticCards(200, 2), 3, kNow - 3600, s2, &d23);
  EXPECT_EQ(code(import(d23)), CacheErrc::WrongBase);  // nothing installed
  ASSERT_TRUE(import(s1));
  EXPECT_EQ(code(import(d23)), CacheErrc::WrongBase);  // installed is 1, delta wants 2
  ASSERT_TRUE(import(d12));
  EXPECT_TRUE(import(d23));
}

TEST_F(StoreTest, DeltaOnSameSerialButOtherContentIsWrongBase) {
  auto s1 = publishSnapshot(syntheticCards(200), 1);
  std::filesystem::path d12;
  publishSnapshot(syntheticCards(200, 1), 2, kNow - 3600, s1, &d12);
  TempDir other_out;
  PublishOptions o;  // another serial 1, different content (a forked publisher)
  o.serial = 1;
  o.signed_at = kNow - 7200;
  o.expires_at = kNow + kDay;
  o.out_dir = other_out.path();
  auto fork = publish(syntheticCards(200, 2), root, {keys.snapshot}, o);
  ASSERT_TRUE(fork);
  ASSERT_TRUE(import(fork->snapshot));
  EXPECT_EQ(code(import(d12)), CacheErrc::WrongBase);
}

TEST_F(StoreTest, DeltaGivesTheSameStateAsTheSnapshot) {
  auto cards1 = syntheticCards(400);
  auto cards2 = syntheticCards(400, 3);   // status and date changes
  cards2.erase(cards2.begin() + 10);      // a removed card
  cards2.push_back(syntheticCard(1000));  // an added card
  auto s1 = publishSnapshot(cards1, 1);
  std::filesystem::path d12;
  auto s2 = publishSnapshot(cards2, 2, kNow - 3600, s1, &d12);
  ASSERT_FALSE(d12.empty());
  ASSERT_TRUE(import(s1));
  auto r = import(d12);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->manifest.type, BundleType::Delta);
  EXPECT_LT(r->manifest.entry_count, 400u / 2);
  auto via_delta = open().info(kNow);

  TempDir other;
  ASSERT_TRUE(importBundle(other / "CACHE.db", s2, root, kNow));
  auto via_snapshot = Cache::open(other / "CACHE.db", root, kNow).info(kNow);
  EXPECT_EQ(via_delta.content_digest, via_snapshot.content_digest);
  EXPECT_EQ(via_delta.record_count, 400u);
  EXPECT_EQ(via_delta.arrived_as, BundleType::Delta);

  auto cache = open();
  EXPECT_EQ(cache.lookup(cardNo(10), kNow).verdict, VerdictCode::NotFound);
  EXPECT_EQ(cache.lookup(cardNo(1000), kNow).verdict, VerdictCode::Active);
  EXPECT_EQ(cache.lookup(cardNo(14), kNow).verdict,
            VerdictCode::Blocked);  // 14 % 7 == 0: lost in variant 3
  EXPECT_TRUE(cache.checkAll());
}

TEST_F(StoreTest, FailedImportLeavesTheServedFileByteIdentical) {
  auto s1 = publishSnapshot(syntheticCards(300), 1);
  ASSERT_TRUE(import(s1));
  const std::string before = readAll(db);
  auto cache = open();

  // A bundle whose body checks out but whose records do not hash to the signed
  // content digest: the failure comes after the staging file was built.
  Parts p = snapshotParts(syntheticCards(300, 1), 2, kNow - 60, kNow + kDay);
  p.spec.content_digest = crypto::sha256("not the state");
  writeFile(dir / "bad.kbs", build(p, {keys.snapshot}));
  EXPECT_EQ(code(import(dir / "bad.kbs")), CacheErrc::DigestMismatch);
  // And one that fails at the signature.
  writeFile(dir / "stranger.kbs",
            build(snapshotParts(syntheticCards(10), 3, kNow - 60, kNow + kDay), {keys.stranger}));
  EXPECT_EQ(code(import(dir / "stranger.kbs")), TrustErrc::UnknownKey);

  EXPECT_EQ(readAll(db), before);
  EXPECT_FALSE(std::filesystem::exists(withSuffix(db, ".staging")));
  EXPECT_EQ(cache.lookup(cardNo(1), kNow).verdict, VerdictCode::Active);
  EXPECT_EQ(open().info(kNow).snapshot->serial, 1);
}

TEST_F(StoreTest, CorruptCutOrBombCompressedBundleKeepsTheOldCacheServing) {
  auto s1 = publishSnapshot(syntheticCards(300), 1);
  ASSERT_TRUE(import(s1));
  const std::string before = readAll(db);
  auto cache = open();
  auto s2 = publishSnapshot(syntheticCards(400, 1), 2);
  const std::string good = readAll(s2);
  {
    auto src = memorySource(good);
    auto m = readBundle(*src, root, kNow, {});
    ASSERT_TRUE(m);
    ASSERT_EQ(m->compression, Compression::Zstd);  // publish compresses
  }
  std::string flipped = good;
  flipped[good.size() - 40] = static_cast<char>(flipped[good.size() - 40] ^ 1);
  writeFile(dir / "flipped.kbs", flipped);
  EXPECT_EQ(code(import(dir / "flipped.kbs")), CacheErrc::DigestMismatch);
  writeFile(dir / "cut.kbs", good.substr(0, good.size() - 500));
  EXPECT_EQ(code(import(dir / "cut.kbs")), Errc::Truncated);
  // A declared decompressed size beyond the importer's limit.
  ImportOptions small;
  small.limits.max_decompressed_bytes = 1000;
  auto r = importBundle(db, s2, root, kNow, small);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::TooLarge);

  EXPECT_EQ(readAll(db), before);
  EXPECT_FALSE(std::filesystem::exists(withSuffix(db, ".staging")));
  EXPECT_EQ(cache.lookup(cardNo(1), kNow).verdict, VerdictCode::Active);
  EXPECT_EQ(open().info(kNow).snapshot->serial, 1);
  ASSERT_TRUE(import(s2));  // and the good one still imports
  EXPECT_EQ(open().info(kNow).snapshot->serial, 2);
}

TEST_F(StoreTest, PreviousStateIsKept) {
  ASSERT_TRUE(import(publishSnapshot(syntheticCards(50), 1)));
  ASSERT_TRUE(import(publishSnapshot(syntheticCards(50, 1), 2)));
  auto prev = openVerified(withSuffix(db, ".prev"), root);
  ASSERT_TRUE(prev) << prev.error().message;
  EXPECT_EQ(prev->manifest.serial, 1);
}

TEST_F(StoreTest, CorruptCurrentFallsBackToPreviousThenToUnverifiable) {
  ASSERT_TRUE(import(publishSnapshot(syntheticCards(300), 1)));
  ASSERT_TRUE(import(publishSnapshot(syntheticCards(300, 1), 2)));
  {
    // Scribble over the middle of the file (the swap would have made a new inode;
    // this is disk corruption or an attacker).
    std::string bytes = readAll(db);
    for (std::size_t i = bytes.size() / 3; i < bytes.size() / 3 + 20000; ++i) bytes[i] = 'Z';
    bytes.replace(0, 16, "garbage garbage!");
    writeFile(db, bytes);
  }
  auto cache = open();
  auto info = cache.info(kNow);
  ASSERT_TRUE(info.serving) << info.reason;
  EXPECT_EQ(info.file, withSuffix(db, ".prev"));
  EXPECT_EQ(info.snapshot->serial, 1);
  EXPECT_NE(info.reason.find("previous"), std::string::npos);
  EXPECT_EQ(cache.lookup(cardNo(1), kNow).verdict, VerdictCode::Active);

  tamper(withSuffix(db, ".prev"), "UPDATE buckets SET digest = zeroblob(32) WHERE bucket = 0");
  auto none = open();
  EXPECT_FALSE(none.info(kNow).serving);
  auto v = none.lookup(cardNo(1), kNow);
  EXPECT_EQ(v.verdict, VerdictCode::Unverifiable);
  EXPECT_FALSE(v.reason.empty());
  // An import of a good snapshot repairs it.
  ASSERT_TRUE(import(publishSnapshot(syntheticCards(300), 3)));
  EXPECT_TRUE(open().info(kNow).serving);
}

TEST_F(StoreTest, ManifestSignedByAnotherRootIsNotServed) {
  ASSERT_TRUE(import(publishSnapshot(syntheticCards(50), 1)));
  Keys other = makeKeys();
  auto c = Cache::open(db, makeRoot(other), kNow);
  EXPECT_FALSE(c.info(kNow).serving);
  EXPECT_EQ(c.lookup(cardNo(1), kNow).verdict, VerdictCode::Unverifiable);
}

class TamperTest : public StoreTest {
 protected:
  void SetUp() override { ASSERT_TRUE(import(publishSnapshot(syntheticCards(400), 1))); }
  std::string body(const std::string& card) {
    auto f = openVerified(db, root);
    auto s = f->db.prepare("SELECT body FROM records WHERE card_no = ?1").value();
    s.bind(1, card);
    EXPECT_TRUE(s.step().value());
    return std::string(s.text(0));
  }
  VerdictCode lookup(const std::string& card) { return open().lookup(card, kNow).verdict; }
};

TEST_F(TamperTest, RevokedFlippedToActiveIsUnverifiable) {
  ASSERT_EQ(lookup(cardNo(7)), VerdictCode::Blocked);
  auto cache = open();  // opened before the edit, as a running daemon would be
  tamper(db,
         "UPDATE records SET body = replace(body, '\"revoked\"', '\"active\"') WHERE card_no = '" +
             cardNo(7) + "'");
  ASSERT_NE(body(cardNo(7)).find("\"active\""), std::string::npos);
  auto v = cache.lookup(cardNo(7), kNow);
  EXPECT_EQ(v.verdict, VerdictCode::Unverifiable);
  EXPECT_NE(v.reason.find("integrity"), std::string::npos);
  EXPECT_FALSE(v.card);
  EXPECT_EQ(lookup(cardNo(7)), VerdictCode::Unverifiable);  // and after a restart
  EXPECT_EQ(lookup(cardNo(1)), VerdictCode::Active);        // other buckets still answer
  EXPECT_FALSE(open().checkAll());
}

TEST_F(TamperTest, MovedDateIsUnverifiable) {
  tamper(db,
         "UPDATE records SET body = replace(body, '2026-12-31', '2030-12-31') WHERE card_no = '" +
             cardNo(2) + "'");
  EXPECT_EQ(lookup(cardNo(2)), VerdictCode::Unverifiable);
}

TEST_F(TamperTest, DeletedRowIsUnverifiableNotNotFound) {
  tamper(db, "DELETE FROM records WHERE card_no = '" + cardNo(7) + "'");
  EXPECT_EQ(lookup(cardNo(7)), VerdictCode::Unverifiable);
}

TEST_F(TamperTest, InsertedRowIsUnverifiable) {
  auto forged = syntheticCard(5000);
  tamper(db, "INSERT INTO records (bucket, card_no, body) VALUES (" +
                 std::to_string(bucketOf(forged.card_no, 32)) + ", '" + forged.card_no + "', '" +
                 body(cardNo(1)) + "')");
  EXPECT_EQ(lookup(forged.card_no), VerdictCode::Unverifiable);
}

TEST_F(TamperTest, RenamedKeyCannotHideACard) {
  // The body (and so the digest) stays; only the key column changes.
  tamper(db, "UPDATE records SET card_no = 'ZZ-HIDDEN' WHERE card_no = '" + cardNo(7) + "'");
  EXPECT_EQ(lookup(cardNo(7)), VerdictCode::Unverifiable);
}

TEST_F(TamperTest, EditedBucketDigestIsCaughtAtOpen) {
  tamper(db, "UPDATE buckets SET digest = zeroblob(32) WHERE bucket = 3");
  auto c = open();
  EXPECT_FALSE(c.info(kNow).serving);  // no .prev yet: nothing verifiable
  EXPECT_EQ(c.lookup(cardNo(1), kNow).verdict, VerdictCode::Unverifiable);
}

TEST(Migration, SchemaOneFileIsServedAndUpgradedByTheNextImport) {
  TempDir dir;
  Keys keys = makeKeys();
  auto root = makeRoot(keys);
  PublishOptions o;
  o.serial = 1;
  o.signed_at = kNow - 3600;
  o.expires_at = kNow + kDay;
  o.out_dir = dir.path();
  auto s1 = publish(syntheticCards(100), root, {keys.snapshot}, o);
  o.serial = 2;
  o.base = s1->snapshot;
  o.out_dir = dir / "2";
  auto s2 = publish(syntheticCards(100, 1), root, {keys.snapshot}, o);
  ASSERT_TRUE(s1 && s2 && s2->delta);
  auto db = dir / "CACHE.db";
  ASSERT_TRUE(importBundle(db, s1->snapshot, root, kNow));
  // Turn it into what schema 1 wrote.
  tamper(db, "ALTER TABLE meta DROP COLUMN bundle_sha256; PRAGMA user_version = 1");
  {
    auto c = Cache::open(db, root, kNow);
    ASSERT_TRUE(c.info(kNow).serving) << c.info(kNow).reason;
    EXPECT_EQ(c.info(kNow).bundle_sha256, "");
    EXPECT_EQ(c.lookup(cardNo(1), kNow).verdict, VerdictCode::Active);
  }
  // A delta starts from a copy of the installed file: that copy is migrated.
  auto r = importBundle(db, *s2->delta, root, kNow);
  ASSERT_TRUE(r) << r.error().message;
  auto f = openVerified(db, root);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->db.scalar("PRAGMA user_version").value(), schemaVersion());
  EXPECT_EQ(f->bundle_sha256, hexEncode(crypto::sha256(readAll(*s2->delta))));
}

// Lookups on several threads at once, each through a pooled read-only
// connection of its own: every one gets the right verdict, the pool follows an
// import (no connection of the replaced file answers again), and an edit made
// while the pool is open is caught through whichever connection reads it.
class PooledLookupTest : public StoreTest {
 protected:
  static constexpr int kThreads = 6;
  // Runs `each(thread, i)` for i < n on kThreads threads at once; the number
  // of calls whose result was wrong.
  int onThreads(int n, const std::function<bool(int)>& each) {
    std::atomic<int> wrong{0};
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
      threads.emplace_back([&, t] {
        ++ready;
        while (ready.load() < kThreads) std::this_thread::yield();  // start together
        for (int i = t; i < n; i += kThreads)
          if (!each(i)) ++wrong;
      });
    for (auto& th : threads) th.join();
    return wrong.load();
  }
  static VerdictCode expected(int i) {
    if (i % 53 == 7) return VerdictCode::Blocked;
    if (i % 11 == 5) return VerdictCode::Inactive;
    return VerdictCode::Active;
  }
};

TEST_F(PooledLookupTest, ConcurrentLookupsAllVerify) {
  ASSERT_TRUE(import(publishSnapshot(syntheticCards(400), 1)));
  auto cache = open();
  EXPECT_EQ(onThreads(2400,
                      [&](int i) {
                        const auto v =
                            cache.lookup(cardNo(static_cast<std::uint64_t>(i % 400)), kNow);
                        return v.verdict == expected(i % 400) && v.card &&
                               v.card->card_no == cardNo(static_cast<std::uint64_t>(i % 400));
                      }),
            0);
  EXPECT_EQ(onThreads(60,
                      [&](int) {
                        return cache.lookup("KB-999999999", kNow).verdict == VerdictCode::NotFound;
                      }),
            0);
}

TEST_F(PooledLookupTest, EveryThreadSeesTheNextImport) {
  ASSERT_TRUE(import(publishSnapshot(syntheticCards(50), 1)));
  auto cache = open();
  auto serial = [&](int i) {
    return cache.lookup(cardNo(static_cast<std::uint64_t>(i % 50)), kNow).snapshot->serial;
  };
  EXPECT_EQ(onThreads(600, [&](int i) { return serial(i) == 1; }), 0);  // fills the pool
  ASSERT_TRUE(import(publishSnapshot(syntheticCards(60, 1), 2)));
  EXPECT_EQ(onThreads(600, [&](int i) { return serial(i) == 2; }), 0);
  EXPECT_EQ(
      onThreads(
          60, [&](int) { return cache.lookup(cardNo(55), kNow).verdict != VerdictCode::NotFound; }),
      0)
      << "card 55 exists only in serial 2";
}

TEST_F(PooledLookupTest, AnEditIsCaughtThroughEveryPooledConnection) {
  ASSERT_TRUE(import(publishSnapshot(syntheticCards(400), 1)));
  auto cache = open();
  EXPECT_EQ(
      onThreads(1200,
                [&](int i) {
                  return cache.lookup(cardNo(static_cast<std::uint64_t>(i % 400)), kNow).verdict ==
                         expected(i % 400);
                }),
      0);
  tamper(db,
         "UPDATE records SET body = replace(body, '\"revoked\"', '\"active\"') WHERE card_no = '" +
             cardNo(7) + "'");
  EXPECT_EQ(onThreads(600,
                      [&](int) {
                        const auto v = cache.lookup(cardNo(7), kNow);
                        return v.verdict == VerdictCode::Unverifiable && !v.card &&
                               v.reason.find("integrity") != std::string::npos;
                      }),
            0);
  EXPECT_EQ(cache.lookup(cardNo(1), kNow).verdict, VerdictCode::Active);  // other buckets answer
}

TEST(Migration, FreshFileMigratesStepByStep) {
  TempDir dir;
  auto path = dir / "m.db";
  ASSERT_TRUE(migrateFile(path, 1));
  auto db = sql::Db::open(path.string(), SQLITE_OPEN_READWRITE).value();
  EXPECT_EQ(db.scalar("PRAGMA user_version").value(), 1);
  EXPECT_FALSE(db.prepare("SELECT bundle_sha256 FROM meta"));
  ASSERT_TRUE(
      db.exec("INSERT INTO meta VALUES (1, 'm', 'snapshot', 1, 'kiosk', 0, 1, 1, 0, x'00', 0, 0)"));
  ASSERT_TRUE(migrateFile(path));
  EXPECT_EQ(db.scalar("PRAGMA user_version").value(), schemaVersion());
  EXPECT_EQ(db.scalar("SELECT count(*) FROM meta WHERE bundle_sha256 = '' AND serial = 1").value(),
            1);
}

}  // namespace
}  // namespace kb::cache
