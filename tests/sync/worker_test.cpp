// The daemon's sync worker runs in the background CPU and I/O classes, so that a
// full import on a 2-core kiosk does not take the cores from a tap
// (docs/PERFORMANCE.md "Sync never delays a tap").

#include "sync/worker.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/time.h"
#include "fixtures.h"

namespace kb::sync {
namespace {

namespace testing = cache::testing;

constexpr long kWhoProcess = 1, kClassShift = 13, kClassIdle = 3;

long ioClassOfThisThread() {
  long v = ::syscall(SYS_ioprio_get, kWhoProcess, static_cast<long>(::gettid()));
  return v < 0 ? -1 : v >> kClassShift;
}

TEST(SyncWorkerThread, SyncsInTheBackgroundCpuAndIoClassesTheCallerKeepsItsOwn) {
  testing::TempDir dir;
  const auto keys = testing::makeKeys();
  SyncOptions o;
  o.db = dir / "cache.db";
  o.mirrors = {"http://127.0.0.1:1/"};  // refused at once: the attempt is what is watched
  SyncWorker w(std::move(o), testing::makeRoot(keys, nowSeconds()), std::chrono::hours(1));
  std::mutex m;
  std::condition_variable cv;
  bool done = false;
  int policy = -1;
  long io_class = -2;
  w.onAttempt([&] {  // on the worker's thread, after the attempt
    std::lock_guard lock(m);
    policy = ::sched_getscheduler(0);
    io_class = ioClassOfThisThread();
    done = true;
    cv.notify_all();
  });
  w.start();
  {
    std::unique_lock lock(m);
    cv.wait_for(lock, std::chrono::seconds(60), [&] { return done; });
  }
  w.stop();
  ASSERT_TRUE(done) << "the worker made no attempt";
  EXPECT_TRUE(w.status().last_error.has_value());
  EXPECT_EQ(policy, SCHED_IDLE);
  if (io_class == -1) {
    GTEST_LOG_(INFO) << "ioprio_get is not available here; the I/O class is not checked";
  } else {
    EXPECT_EQ(io_class, kClassIdle);
  }
  // The kiosk's threads (here: the test's) are untouched.
  EXPECT_EQ(::sched_getscheduler(0), SCHED_OTHER);
  EXPECT_NE(ioClassOfThisThread(), kClassIdle);
}

TEST(SyncWorkerThread, LowerThreadPriorityActsOnTheCallingThreadOnly) {
  int inside = -1;
  long inside_io = -2;
  std::thread t([&] {
    ASSERT_TRUE(lowerThreadPriority());
    inside = ::sched_getscheduler(0);
    inside_io = ioClassOfThisThread();
  });
  t.join();
  EXPECT_EQ(inside, SCHED_IDLE);
  if (inside_io != -1) {
    EXPECT_EQ(inside_io, kClassIdle);
  }
  EXPECT_EQ(::sched_getscheduler(0), SCHED_OTHER);
}

}  // namespace
}  // namespace kb::sync
