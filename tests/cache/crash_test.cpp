// SIGKILL during `import` at random points: afterwards the cache must open and
// serve exactly the old or the new snapshot, every bucket verifying.
// 200 kill points by default, 1,000 with KB_LONG=1.

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <random>

#include "cache/cache.h"
#include "cache/store.h"
#include "common/encoding.h"
#include "fixtures.h"

namespace kb::cache {
namespace {

using namespace testing;
using Clock = std::chrono::steady_clock;

pid_t startImport(const std::filesystem::path& db, const std::filesystem::path& bundle,
                  const trust::TrustRoot& root) {
  pid_t pid = ::fork();
  if (pid == 0) {
    auto r = importBundle(db, bundle, root, kNow);
    ::_exit(r ? 0 : 1);
  }
  return pid;
}

TEST(CrashSafety, KilledImportLeavesTheOldOrTheNewStateWhole) {
  const char* long_mode = std::getenv("KB_LONG");
  const int points = long_mode && std::string(long_mode) == "1" ? 1000 : 200;
  TempDir dir;
  Keys keys = makeKeys();
  auto root = makeRoot(keys);
  const auto db = dir / "CACHE.db";
  const auto bundle = dir / "next.kbs";
  // Two contents of ~2,000 records; odd serials carry A, even ones B, as a
  // snapshot or as a delta from the other.
  const Parts a = snapshotParts(syntheticCards(2000, 0), 0, kNow - 3600, kNow + 30 * kDay);
  const Parts b = snapshotParts(syntheticCards(2000, 3), 0, kNow - 3600, kNow + 30 * kDay);
  // Every third attempt is a delta from the other content: same card set, so
  // the delta holds the entries whose bytes differ.
  auto deltaTo = [&](const Parts& from, const Parts& to) {
    Parts d = to;
    d.spec.type = BundleType::Delta;
    d.spec.base_content_digest = from.spec.content_digest;
    d.entries.clear();
    for (std::size_t i = 0; i < to.entries.size(); ++i)
      if (to.entries[i] != from.entries[i]) d.entries.push_back(to.entries[i]);
    return d;
  };
  const Parts a_from_b = deltaTo(b, a), b_from_a = deltaTo(a, b);
  int attempt = 0;
  auto writeSerial = [&](std::int64_t serial) {
    const bool delta = ++attempt % 3 == 0;
    Parts p = serial % 2 ? (delta ? a_from_b : a) : (delta ? b_from_a : b);
    p.spec.serial = serial;
    p.spec.base_serial = serial - 1;
    writeFile(bundle, build(p, {keys.snapshot}));
  };
  auto digestOf = [&](std::int64_t serial) {
    return hexEncode((serial % 2 ? a : b).spec.content_digest);
  };

  writeSerial(1);
  ASSERT_TRUE(importBundle(db, bundle, root, kNow));
  std::int64_t installed = 1;

  // How long a whole import takes here (child process, existing state): where
  // the kill points start.
  long full_us = 0;
  for (int warm = 0; warm < 3; ++warm) {
    writeSerial(installed + 1);
    auto t0 = Clock::now();
    int status = 0;
    ::waitpid(startImport(db, bundle, root), &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ++installed;
    full_us = std::max<long>(
        full_us, std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count());
  }
  int status = 0;

  // Kill points are spread over [0, 2 * estimate]. The estimate starts at the
  // warm-up's time and moves towards the moment the new state is swapped in
  // (a kill before it makes the estimate longer, a completed import shorter),
  // so about half the kills land on each side even when the warm-up was timed
  // while the machine was busy and the imports then ran four times faster.
  double estimate_us = static_cast<double>(full_us);
  std::mt19937_64 rng(20261121);
  std::uniform_real_distribution<double> spread(0.0, 2.0);
  int killed_before_swap = 0, completed = 0;
  for (int i = 0; i < points; ++i) {
    const std::int64_t next = installed + 1;
    writeSerial(next);
    pid_t pid = startImport(db, bundle, root);
    ASSERT_GT(pid, 0);
    const auto wait_us = static_cast<long>(spread(rng) * estimate_us);
    ::usleep(static_cast<useconds_t>(wait_us));
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);

    auto cache = Cache::open(db, root, kNow);
    auto info = cache.info(kNow);
    ASSERT_TRUE(info.serving) << "kill point " << i << " after " << wait_us
                              << " us: " << info.reason;
    ASSERT_EQ(info.file, db) << "the current file itself must be whole";
    const std::int64_t serial = info.snapshot->serial;
    ASSERT_TRUE(serial == installed || serial == next) << "serial " << serial;
    ASSERT_EQ(info.content_digest, digestOf(serial));
    ASSERT_TRUE(cache.checkAll()) << "kill point " << i;
    ASSERT_EQ(cache.lookup(cardNo(14), kNow).verdict,
              serial % 2 ? VerdictCode::Active : VerdictCode::Blocked);
    if (serial == next) {
      ++completed;
      installed = next;
      estimate_us *= 0.95;
    } else {
      ++killed_before_swap;
      estimate_us *= 1.05;
    }
  }
  std::cout << "[ crash    ] " << points << " kills, import timed at " << full_us
            << " us, swap point estimated at " << static_cast<long>(estimate_us)
            << " us at the end: " << killed_before_swap << " left the old state, " << completed
            << " the new one\n";
  // Both outcomes must have been exercised, or the kill points missed the import.
  EXPECT_GT(killed_before_swap, points / 10);
  EXPECT_GT(completed, 0);
}

}  // namespace
}  // namespace kb::cache
