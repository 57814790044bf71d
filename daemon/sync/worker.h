#pragma once
/// The daemon's background sync: its own thread runs syncOnce() at start, then
/// every interval; after a failure it retries sooner, with exponential backoff
/// and jitter (30 s doubling up to the interval, each wait drawn from 50-100 %).
/// It never touches the kiosk's strand: an import swaps the cache file, which
/// the kiosk notices on its next refresh, so a tap never waits for a sync.
/// The thread runs in the background class (see lowerThreadPriority): on a
/// 2-core kiosk a full import would otherwise take CPU and disk from the taps.
/// (KB_SYNC_PRIORITY=normal in the environment keeps the normal class, for
/// benchmarks that compare the two.) Nothing a tap waits for is held by this
/// thread across slow work: the cache it imports into is a separate file
/// renamed in, the trust state lock is only tried by the kiosk, and a reopen
/// with a newer root runs on the kiosk's strand (docs/architecture.md).

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "metrics/registry.h"
#include "sync/sync.h"

namespace kb::sync {

struct SyncStatus {
  std::optional<UnixSeconds> last_sync;          ///< last success (updated or current)
  std::optional<UnixSeconds> last_sync_attempt;  ///< last attempt, either way
  std::optional<Error> last_error;               ///< of the last attempt; empty after a success
  std::string source;                            ///< the mirror of the last success
  std::optional<std::int64_t> mirror_serial;     ///< newest serial the mirror announced
  std::optional<UnixSeconds> timestamp_expires_at;
  std::uint64_t successes = 0, failures = 0;
  std::map<std::string, std::uint64_t> failures_by_code;
};

/// The sync fields of /api/state's `data` (docs/contracts.md §6).
void addToData(const SyncStatus& s, nlohmann::json& data);
/// Fills the daemon's registry: kb_sync_total{result}, kb_sync_failures_total{code},
/// kb_sync_last_success_timestamp_seconds, kb_sync_failing.
void recordMetrics(const SyncStatus& s, metrics::Registry& registry);
/// Those families alone as Prometheus text (a registry of their own).
std::string metricsText(const SyncStatus& s);

/// Puts the calling thread (and threads it starts later) in the background:
/// nice +10 and I/O class best-effort at level 7, the lowest level of the
/// normal class. Neither needs a privilege. Not SCHED_IDLE and the idle I/O
/// class, which this used before: they invert. A SCHED_IDLE thread gets about
/// 0.3 % of a core next to one busy normal thread, and idle-class I/O waits
/// until the disk has nothing else to do (mq-deadline: up to its 10 s aging,
/// per request), so whatever the thread holds meanwhile (the trust state lock
/// across a write and two fsyncs) stays held for seconds on a busy machine,
/// and whoever waits for it waits as long. nice +10 leaves a normal thread
/// about ten times its CPU share; best-effort 7 has the smallest weight of
/// the normal I/O class under bfq and an equal turn under mq-deadline, and is
/// never starved. IO if
/// the kernel refuses the nice value; a refused I/O class is not an error.
inline constexpr int kBackgroundNice = 10;
inline constexpr int kIoClassBestEffort = 2;
inline constexpr int kBackgroundIoLevel = 7;
Result<void> lowerThreadPriority();

class SyncWorker {
 public:
  SyncWorker(SyncOptions options, trust::TrustRoot root, std::chrono::seconds interval,
             std::chrono::seconds first_retry = std::chrono::seconds(30));
  ~SyncWorker();  ///< stops and joins
  SyncWorker(const SyncWorker&) = delete;
  SyncWorker& operator=(const SyncWorker&) = delete;

  /// Called on the worker thread after each attempt (e.g. to refresh the kiosk's state).
  void onAttempt(std::function<void()> callback) { on_attempt_ = std::move(callback); }
  void start();
  void stop();
  /// Wakes the thread for a sync now (e.g. the operator's "sync now").
  void syncNow();
  SyncStatus status() const;
  /// The newest root the sync walked to. Only on the worker thread (in onAttempt), where
  /// the sync advances it: the daemon then reopens its cache with it.
  const trust::TrustRoot& root() const { return root_; }

 private:
  void run();

  SyncOptions options_;
  trust::TrustRoot root_;
  std::chrono::seconds interval_, first_retry_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false, now_requested_ = false;
  std::atomic<bool> cancel_{false};  ///< aborts a transfer in progress on stop()
  SyncStatus status_;
  std::function<void()> on_attempt_;
  std::thread thread_;
};

}  // namespace kb::sync
