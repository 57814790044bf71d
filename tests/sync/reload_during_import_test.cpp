// The daemon's cache reloads a swapped file without waiting for the trust
// state's lock, which an importer (the sync thread, kbctl, a USB import) holds
// across a write and two fsyncs. In-process: the "importer" is importBundle on
// another thread, held on that lock by the test. The waits are bounds against a
// hang, never a timing assertion.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <thread>

#include "cache/cache.h"
#include "cache/publish.h"
#include "cache/store.h"
#include "cache/trust_state.h"
#include "fixtures.h"
#include "held_lock.h"

namespace kb::cache {
namespace {

using namespace testing;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

using kb::sync::testing::HeldLock;
using kb::sync::testing::inode;

class ReloadDuringImport : public ::testing::Test {
 protected:
  TempDir dir;
  Keys keys = makeKeys();
  trust::TrustRoot root = makeRoot(keys);
  fs::path db = dir / "cache.db";
  fs::path state = trustStatePath(db);
  fs::path snap1, delta2;

  void SetUp() override {
    PublishOptions o;
    o.serial = 1;
    o.signed_at = kNow - 3600;
    o.expires_at = kNow + 14 * kDay;
    o.out_dir = dir / "out";
    auto s1 = publish(syntheticCards(200), root, {keys.snapshot}, o);
    ASSERT_TRUE(s1) << s1.error().message;
    snap1 = s1->snapshot;
    o.serial = 2;
    o.base = snap1;
    auto s2 = publish(syntheticCards(200, 1), root, {keys.snapshot}, o);
    ASSERT_TRUE(s2 && s2->delta) << (s2 ? "no delta" : s2.error().message);
    delta2 = *s2->delta;
  }

  ImportOptions importOptions(bool raise) const {
    ImportOptions io;
    if (raise) io.trust_state = state;
    return io;
  }
  CacheOptions cacheOptions() const {
    CacheOptions co;
    co.trust_state = state;
    co.raise_trust_state = true;  // as the daemon opens it
    return co;
  }
  std::int64_t floorSerial() const {
    auto s = loadTrustState(state);
    return s && s->floorOf(db) ? s->floorOf(db)->serial : -1;
  }
};

TEST_F(ReloadDuringImport, ALookupIsAnsweredFromTheSwappedFileWhileTheImporterHoldsTheLock) {
  ASSERT_TRUE(importBundle(db, snap1, root, kNow, importOptions(true)));
  auto cache = Cache::open(db, root, kNow, cacheOptions());
  ASSERT_EQ(cache.info(kNow).snapshot->serial, 1);

  // The importer swaps serial 2 in, then waits for the lock to raise the trust state.
  HeldLock lock(fs::path(state.string() + ".lock"));
  ASSERT_TRUE(lock.held());
  const auto before = inode(db);
  auto importer = std::async(std::launch::async, [&] {
    return importBundle(db, delta2, root, kNow, importOptions(true));
  });
  const auto until = std::chrono::steady_clock::now() + 60s;
  while (inode(db) == before && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(5ms);
  ASSERT_NE(inode(db), before) << "the import never swapped its file in";
  ASSERT_EQ(importer.wait_for(0s), std::future_status::timeout) << "the importer was not held";

  // The tap's lookup, on another thread so that a wait on the lock fails the test, not hangs it.
  auto tap = std::async(std::launch::async, [&] { return cache.lookup(cardNo(1), kNow); });
  const bool answered = tap.wait_for(60s) == std::future_status::ready;
  EXPECT_TRUE(answered) << "the lookup waited for the importer's lock";
  EXPECT_EQ(importer.wait_for(0s), std::future_status::timeout) << "the importer was released";
  EXPECT_EQ(floorSerial(), 1) << "the trust state was raised under a held lock";
  lock.release();
  if (!answered) tap.wait();
  const auto v = tap.get();
  ASSERT_TRUE(v.snapshot);
  EXPECT_EQ(v.snapshot->serial, 2);
  EXPECT_NE(v.verdict, VerdictCode::Unverifiable) << v.reason;
  auto imported = importer.get();
  ASSERT_TRUE(imported) << imported.error().message;
  EXPECT_EQ(floorSerial(), 2);
}

TEST_F(ReloadDuringImport, ARaiseTheLockPutOffIsDoneByALaterRefresh) {
  // An import that does not raise the trust state itself (no trust state option), so
  // the only raise of serial 2 is the cache's own, put off while the lock is held.
  ASSERT_TRUE(importBundle(db, snap1, root, kNow, importOptions(true)));
  auto cache = Cache::open(db, root, kNow, cacheOptions());
  ASSERT_EQ(floorSerial(), 1);
  ASSERT_TRUE(importBundle(db, delta2, root, kNow, importOptions(false)));
  HeldLock lock(fs::path(state.string() + ".lock"));
  ASSERT_TRUE(lock.held());
  EXPECT_TRUE(cache.refresh());  // reloads serial 2, cannot raise: pending
  EXPECT_EQ(cache.info(kNow).snapshot->serial, 2);
  EXPECT_TRUE(cache.info(kNow).code.empty()) << cache.info(kNow).reason;
  EXPECT_EQ(floorSerial(), 1);
  EXPECT_FALSE(cache.refresh());  // still held: still pending, still serving
  EXPECT_EQ(floorSerial(), 1);
  lock.release();
  EXPECT_FALSE(cache.refresh());  // same file; the put-off raise now goes through
  EXPECT_EQ(floorSerial(), 2);
  EXPECT_EQ(cache.lookup(cardNo(1), kNow).snapshot->serial, 2);
}

TEST(TryRaiseTrustState, GivesNothingWhileTheLockIsHeldAndRaisesOnceItIsFree) {
  TempDir dir;
  const fs::path state = dir / "trust-state.json";
  TrustRaise raise{dir / "cache.db", 3, kNow, nullptr};
  {
    HeldLock lock(fs::path(state.string() + ".lock"));
    ASSERT_TRUE(lock.held());
    auto busy = tryRaiseTrustState(state, raise);
    ASSERT_TRUE(busy) << busy.error().message;
    EXPECT_FALSE(busy->has_value());
    EXPECT_FALSE(fs::exists(state));
  }
  auto done = tryRaiseTrustState(state, raise);
  ASSERT_TRUE(done) << done.error().message;
  ASSERT_TRUE(done->has_value());
  EXPECT_EQ((*done)->floorOf(dir / "cache.db")->serial, 3);
  EXPECT_EQ(loadTrustState(state)->floorOf(dir / "cache.db")->serial, 3);
}

}  // namespace
}  // namespace kb::cache
