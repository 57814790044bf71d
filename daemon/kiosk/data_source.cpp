#include "kiosk/data_source.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cstring>

#include "cache/cache.h"

namespace kb::kiosk {

CacheSource::CacheSource(cache::Cache& cache, const std::filesystem::path& file) : cache_(cache) {
  if (file.empty()) return;
  file_name_ = file.filename().string();
  watch_fd_ = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (watch_fd_ < 0) return;
  auto dir = file.parent_path();
  if (dir.empty()) dir = ".";
  // Replaced by rename (imports), created, deleted, written in place or re-moded.
  const std::uint32_t mask = IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | IN_MODIFY |
                             IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF;
  if (inotify_add_watch(watch_fd_, dir.c_str(), mask) < 0) {
    ::close(watch_fd_);
    watch_fd_ = -1;
  }
}

CacheSource::~CacheSource() {
  if (watch_fd_ >= 0) ::close(watch_fd_);
}

bool CacheSource::fileChanged() {
  if (watch_fd_ < 0) return true;
  bool changed = false;
  alignas(inotify_event) std::array<char, 4096> buffer{};
  for (;;) {
    const auto n = ::read(watch_fd_, buffer.data(), buffer.size());
    if (n <= 0) break;  // EAGAIN: nothing more queued
    for (std::size_t at = 0; at < static_cast<std::size_t>(n);) {
      inotify_event event{};
      std::memcpy(&event, buffer.data() + at, sizeof event);
      const char* name = buffer.data() + at + sizeof event;
      if (event.mask & (IN_Q_OVERFLOW | IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) {
        ::close(watch_fd_);  // the directory went away or events were lost: check every time
        watch_fd_ = -1;
        return true;
      }
      if (event.len > 0 && file_name_ == name) changed = true;
      at += sizeof event + event.len;
    }
  }
  return changed;
}

Lookup CacheSource::lookup(std::string_view card_no, UnixSeconds now) {
  Lookup out;
  // Refused data (e.g. ROLLBACK) answers UNVERIFIABLE with the reason, shown as "no data".
  out.no_cache = !cache_.info(now).serving;
  out.verdict = cache_.lookup(card_no, now);
  return out;
}

DataStatus CacheSource::status(UnixSeconds now) {
  // An import (kbctl, USB stick, sync) swaps the file under a running kiosk; the
  // watch says when, the periodic check covers what a watch cannot see.
  if (fileChanged() || now - checked_at_ >= kRecheckSeconds || now < checked_at_) {
    cache_.refresh();
    checked_at_ = now;
  }
  auto info = cache_.info(now);
  DataStatus s;
  s.serving = info.serving;
  s.code = info.code;
  nlohmann::json null;
  s.data = {{"freshness", "NONE"},    {"serial", null},      {"signed_at", null},
            {"expires_at", null},     {"age_seconds", null}, {"last_sync", null},
            {"last_sync_error", null}};
  if (info.imported_at > 0) s.data["last_sync"] = formatUtc(info.imported_at);
  if (!info.serving) {
    s.reason = info.reason.empty() ? "no verified cache" : info.reason;
    s.data["last_sync_error"] = s.reason;
    return s;
  }
  s.usable = info.freshness != cache::Freshness::Expired;
  if (!s.code.empty()) {
    s.reason = info.reason;  // serving, but not as it should (FALLBACK, TRUST_STATE)
    s.data["last_sync_error"] = s.reason;
  }
  if (!s.usable) {
    s.reason = "data past its signed expiry and grace period";
    if (s.code.empty()) s.code = "EXPIRED";
  }
  s.data["freshness"] = cache::freshnessName(info.freshness);
  s.data["age_seconds"] = info.age_seconds;
  s.age_seconds = info.age_seconds;
  s.records = info.record_count;
  if (info.snapshot) {
    s.serial = info.snapshot->serial;
    s.data["serial"] = info.snapshot->serial;
    s.data["signed_at"] = formatUtc(info.snapshot->signed_at);
    s.data["expires_at"] = formatUtc(info.snapshot->expires_at);
  }
  return s;
}

}  // namespace kb::kiosk
