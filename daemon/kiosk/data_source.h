#pragma once
/// Where the kiosk gets its answers: the verified cache. An interface so the
/// demo can route its "data too old" card to an expired cache, and unit tests
/// can answer without SQLite.

#include <cstdint>
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
class CacheSource : public DataSource {
 public:
  explicit CacheSource(cache::Cache& cache) : cache_(cache) {}
  Lookup lookup(std::string_view card_no, UnixSeconds now) override;
  DataStatus status(UnixSeconds now) override;

 private:
  cache::Cache& cache_;
};

}  // namespace kb::kiosk
