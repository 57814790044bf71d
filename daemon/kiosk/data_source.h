#pragma once
/// Where the kiosk gets its answers: the verified cache. An interface so the
/// demo can route its "data too old" card to an expired cache, and unit tests
/// can answer without SQLite.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cache/verdict.h"
#include "common/time.h"

namespace kb::cache {
class Cache;
}

namespace kb::kiosk {

/// What a lookup gave the kiosk: the cache's typed verdict. Turned into JSON only
/// where the kiosk state is serialised (Machine::toJson).
struct Lookup {
  std::optional<cache::Verdict> verdict;  ///< nullopt when nothing could be looked up
  bool no_cache = false;                  ///< no valid cache at all
};

struct DataStatus {
  bool serving = false;  ///< a verified cache answers lookups
  bool usable = false;   ///< serving and not past expiry + grace
  std::string reason;    ///< why not usable (no personal data)
  /// Empty when the current verified cache serves; else why not (ROLLBACK, FALLBACK,
  /// NO_CACHE, UNVERIFIABLE, TRUST_STATE, ROOT_NOT_TRUSTED, EXPIRED): /healthz is then 503.
  std::string code;
  std::optional<std::int64_t> serial;
  std::optional<std::int64_t> age_seconds;
  std::uint64_t records = 0;
  nlohmann::json data;  ///< the "data" block of the state document
};

class DataSource {
 public:
  virtual ~DataSource() = default;
  virtual Lookup lookup(std::string_view card_no, UnixSeconds now) = 0;
  virtual DataStatus status(UnixSeconds now) = 0;
};

/// The production source: one cache::Cache (thread-safe, re-verifies each lookup).
///
/// status() does not stat the cache file on every call (/healthz and /metrics ask
/// for it on every request): given the file, it watches the file's directory
/// (inotify) and re-opens the cache only when the file was replaced or written
/// (kbctl import, a USB import, a sync), and otherwise at most every
/// kRecheckSeconds (the periodic check). Without a file, or if the watch cannot be
/// set, it re-checks on every call as before. Call status() from one thread.
class CacheSource : public DataSource {
 public:
  static constexpr UnixSeconds kRecheckSeconds = 30;

  explicit CacheSource(cache::Cache& cache, const std::filesystem::path& file = {});
  ~CacheSource() override;
  CacheSource(const CacheSource&) = delete;
  CacheSource& operator=(const CacheSource&) = delete;

  Lookup lookup(std::string_view card_no, UnixSeconds now) override;
  DataStatus status(UnixSeconds now) override;

 private:
  bool fileChanged();  ///< drains the watch; true if the file may have changed

  cache::Cache& cache_;
  int watch_fd_ = -1;  ///< inotify descriptor, -1 without a watch
  std::string file_name_;
  UnixSeconds checked_at_ = 0;
};

}  // namespace kb::kiosk
