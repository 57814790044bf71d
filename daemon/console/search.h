#pragma once
/// Staff search over the verified cache: by card number, by NIK (hashed with
/// the NIK key at once; the plain NIK goes no further), or by name with
/// optional kelurahan and RT through the search index. Every result is looked
/// up in the cache again (its bucket re-hashed against the signed digests) and
/// re-matched against the query before it is returned.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cache/cache.h"
#include "console/query.h"
#include "console/search_index.h"

namespace kb::console {

inline constexpr std::size_t kMaxResults = 20;

struct SearchAnswer {
  std::vector<roster::CardRecord> results;
  bool truncated = false;  ///< more matched than were returned: narrow with kelurahan/RT
  cache::CacheInfo data;   ///< what the answer came from (age, freshness)
};

class Searcher {
 public:
  Searcher(cache::Cache& cache, trust::TrustRoot root, std::filesystem::path index_path,
           std::string nik_key);

  /// Builds or opens the index for the state being served (start-up). An
  /// error means name and NIK search answer UNVERIFIABLE until a later try works.
  Result<void> prepare(UnixSeconds now);

  /// UNVERIFIABLE when the cache cannot vouch for the answer (no verified file,
  /// a bucket that fails its digest, data past expiry and grace).
  Result<SearchAnswer> search(const SearchQuery& query, UnixSeconds now);

  /// Hex HMAC-SHA-256 of the NIK under the NIK key, as in the staff cache.
  std::string nikHash(std::string_view nik) const;
  /// roster::birthDateHash under the NIK key, as in the staff cache.
  std::string birthHash(std::string_view card_no, std::string_view birth_date) const;

 private:
  Result<void> ensureIndex(UnixSeconds now);
  Result<bool> accept(const std::string& card_no, const SearchQuery& q, const std::string& nik_hash,
                      UnixSeconds now, SearchAnswer& out);

  cache::Cache& cache_;
  trust::TrustRoot root_;
  std::filesystem::path index_path_;
  std::string nik_key_;
  std::mutex mu_;  // guards index_
  std::optional<SearchIndex> index_;
};

/// {"results": [{card_no, holder, nik_last4, kelurahan, rt, category, card_status}],
///  "truncated": bool, "data": {serial, signed_at, age_seconds, freshness}}
nlohmann::json toJson(const SearchAnswer& answer);
/// The data block above, for every console answer.
nlohmann::json dataJson(const cache::CacheInfo& info);

}  // namespace kb::console
