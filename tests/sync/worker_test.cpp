// The daemon's sync worker runs in the background CPU and I/O classes (nice +10,
// best-effort I/O level 7), so that a full import on a 2-core kiosk does not take
// the cores from a tap (docs/PERFORMANCE.md "Sync never delays a tap"), and never
// in SCHED_IDLE or the idle I/O class, which starve what the thread holds.

#include "sync/worker.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "common/time.h"
#include "fixtures.h"

namespace kb::sync {
namespace {

namespace testing = cache::testing;

constexpr long kWhoProcess = 1, kClassShift = 13, kLevelMask = 0xff;

// The calling thread's I/O class and level, nullopt where ioprio_get is refused.
struct IoPrio {
  long io_class = 0, level = 0;
};
std::optional<IoPrio> ioPrioOfThisThread() {
  long v = ::syscall(SYS_ioprio_get, kWhoProcess, static_cast<long>(::gettid()));
  if (v < 0) return std::nullopt;
  return IoPrio{v >> kClassShift, v & kLevelMask};
}

int niceOfThisThread() {
  errno = 0;
  return ::getpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()));
}

// The background class as lowerThreadPriority sets it, seen from the thread itself.
struct ThreadClass {
  int policy = -1, nice = -100;
  std::optional<IoPrio> io;
};
ThreadClass classOfThisThread() {
  return {::sched_getscheduler(0), niceOfThisThread(), ioPrioOfThisThread()};
}

void expectBackground(const ThreadClass& c, int caller_nice) {
  EXPECT_EQ(c.policy, SCHED_OTHER) << "never SCHED_IDLE: it starves whatever the thread holds";
  EXPECT_EQ(c.nice, std::max(caller_nice, kBackgroundNice));
  if (!c.io) {
    GTEST_LOG_(INFO) << "ioprio_get is not available here; the I/O class is not checked";
  } else {
    EXPECT_EQ(c.io->io_class, kIoClassBestEffort) << "never the idle I/O class";
    EXPECT_EQ(c.io->level, kBackgroundIoLevel);
  }
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
  ThreadClass seen;
  const ThreadClass caller = classOfThisThread();
  w.onAttempt([&] {  // on the worker's thread, after the attempt
    std::lock_guard lock(m);
    seen = classOfThisThread();
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
  expectBackground(seen, caller.nice);
  // The kiosk's threads (here: the test's) are untouched.
  const ThreadClass after = classOfThisThread();
  EXPECT_EQ(after.policy, caller.policy);
  EXPECT_EQ(after.nice, caller.nice);
  if (after.io && caller.io) {
    EXPECT_EQ(after.io->io_class, caller.io->io_class);
  }
}

TEST(SyncWorkerThread, LowerThreadPriorityActsOnTheCallingThreadOnly) {
  const ThreadClass caller = classOfThisThread();
  ThreadClass inside, started_inside;
  std::thread t([&] {
    ASSERT_TRUE(lowerThreadPriority());
    inside = classOfThisThread();
    // Threads it starts later (curl's resolver) inherit the class.
    std::thread([&] { started_inside = classOfThisThread(); }).join();
  });
  t.join();
  expectBackground(inside, caller.nice);
  expectBackground(started_inside, caller.nice);
  EXPECT_EQ(classOfThisThread().nice, caller.nice);
  EXPECT_EQ(::sched_getscheduler(0), caller.policy);
}

TEST(SyncWorkerThread, LowerThreadPriorityNeverRaisesANiceValue) {
  // A thread already below the background class stays there (raising needs a privilege).
  int after = -100;
  std::thread t([&] {
    ASSERT_EQ(::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kBackgroundNice + 5), 0);
    ASSERT_TRUE(lowerThreadPriority());
    after = niceOfThisThread();
  });
  t.join();
  EXPECT_EQ(after, kBackgroundNice + 5);
}

}  // namespace
}  // namespace kb::sync
