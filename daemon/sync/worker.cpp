#include "sync/worker.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string_view>

namespace kb::sync {

void addToData(const SyncStatus& s, nlohmann::json& data) {
  nlohmann::json null;
  data["last_sync"] = s.last_sync ? nlohmann::json(formatUtc(*s.last_sync)) : null;
  data["last_sync_attempt"] =
      s.last_sync_attempt ? nlohmann::json(formatUtc(*s.last_sync_attempt)) : null;
  data["last_sync_error"] = s.last_error ? nlohmann::json(codeName(s.last_error->code)) : null;
  data["source"] = s.source.empty() ? null : nlohmann::json(s.source);
}

void recordMetrics(const SyncStatus& s, metrics::Registry& registry) {
  using metrics::Type;
  registry.declare("kb_sync_total", Type::Counter, "Mirror syncs by result.");
  registry.declare("kb_sync_failures_total", Type::Counter, "Failed mirror syncs by error code.");
  registry.declare("kb_sync_last_success_timestamp_seconds", Type::Gauge,
                   "Unix time of the last good sync.");
  registry.declare("kb_sync_failing", Type::Gauge, "1 when the last sync attempt failed.");
  registry.set("kb_sync_total", static_cast<std::int64_t>(s.successes), {{"result", "success"}});
  registry.set("kb_sync_total", static_cast<std::int64_t>(s.failures), {{"result", "failure"}});
  for (const auto& [code, n] : s.failures_by_code)
    registry.set("kb_sync_failures_total", static_cast<std::int64_t>(n), {{"code", code}});
  registry.set("kb_sync_last_success_timestamp_seconds", s.last_sync.value_or(0));
  registry.set("kb_sync_failing", s.last_error ? 1 : 0);
}

std::string metricsText(const SyncStatus& s) {
  metrics::Registry registry;
  recordMetrics(s, registry);
  return registry.text();
}

Result<void> lowerThreadPriority() {
  // nice +10 on this thread only (Linux: a thread id with PRIO_PROCESS names one
  // thread). Never below where it already is: lowering a nice value needs a privilege.
  const auto tid = static_cast<id_t>(::gettid());
  errno = 0;
  const int now = ::getpriority(PRIO_PROCESS, tid);
  if (now == -1 && errno != 0)
    return fail(Errc::Io, std::string("cannot read the nice value: ") + std::strerror(errno));
  if (::setpriority(PRIO_PROCESS, tid, std::max(now, kBackgroundNice)) != 0)
    return fail(Errc::Io, std::string("cannot set nice ") + std::to_string(kBackgroundNice) + ": " +
                              std::strerror(errno));
  // ioprio_set has no glibc wrapper. IOPRIO_WHO_PROCESS with a thread id names
  // that thread; the class sits in the top bits of the value, the level below.
  constexpr int kWhoProcess = 1, kClassShift = 13;
  ::syscall(SYS_ioprio_set, kWhoProcess, static_cast<int>(tid),
            (kIoClassBestEffort << kClassShift) | kBackgroundIoLevel);
  return {};
}

SyncWorker::SyncWorker(SyncOptions options, trust::TrustRoot root, std::chrono::seconds interval,
                       std::chrono::seconds first_retry)
    : options_(std::move(options)),
      root_(std::move(root)),
      interval_(interval),
      first_retry_(std::min(first_retry, interval)) {
  options_.http.cancel = &cancel_;
}

SyncWorker::~SyncWorker() {
  stop();
}

void SyncWorker::start() {
  thread_ = std::thread([this] { run(); });
}

void SyncWorker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cancel_ = true;
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SyncWorker::syncNow() {
  {
    std::lock_guard lock(mutex_);
    now_requested_ = true;
  }
  wake_.notify_all();
}

SyncStatus SyncWorker::status() const {
  std::lock_guard lock(mutex_);
  return status_;
}

void SyncWorker::run() {
  // A worker that cannot lower itself still syncs, only less politely.
  // KB_SYNC_PRIORITY=normal keeps the normal class: for the benchmark that
  // measures what the background class buys (tests/bench/tap_during_sync.mjs).
  const char* priority = std::getenv("KB_SYNC_PRIORITY");
  if (!priority || std::string_view(priority) != "normal") (void)lowerThreadPriority();
  std::mt19937_64 rng(std::random_device{}());
  std::chrono::seconds backoff = first_retry_;
  for (;;) {
    const UnixSeconds started = nowSeconds();
    auto r = syncOnce(options_, root_, started);  // the strand is never involved
    std::chrono::milliseconds wait;
    {
      std::lock_guard lock(mutex_);
      status_.last_sync_attempt = started;
      if (r) {
        status_.last_sync = started;
        status_.last_error.reset();
        status_.source = r->mirror;
        status_.mirror_serial = r->serial;
        status_.timestamp_expires_at = r->timestamp_expires_at;
        ++status_.successes;
        backoff = first_retry_;
        wait = interval_;
      } else {
        status_.last_error = r.error();
        ++status_.failures;
        ++status_.failures_by_code[std::string(codeName(r.error().code))];
        // Jitter: a fleet that lost its mirror together does not return together.
        std::uniform_real_distribution<double> jitter(0.5, 1.0);
        wait = std::chrono::milliseconds(
            static_cast<std::int64_t>(static_cast<double>(backoff.count()) * 1000.0 * jitter(rng)));
        backoff = std::min(backoff * 2, interval_);
      }
    }
    if (on_attempt_) on_attempt_();
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, wait, [this] { return stopping_ || now_requested_; });
    if (stopping_) return;
    now_requested_ = false;
  }
}

}  // namespace kb::sync
