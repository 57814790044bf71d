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
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cache/cache.h"
#include "console/query.h"
#include "console/search_index.h"
#include "roster/nik_key.h"

namespace kb::console {

inline constexpr std::size_t kMaxResults = 20;

struct SearchAnswer {
  std::vector<roster::CardRecord> results;
  bool truncated = false;  ///< more matched than were returned: narrow with kelurahan/RT
  cache::CacheInfo data;   ///< what the answer came from (age, freshness)
  std::string nik_hash;    ///< the keyed hash a NIK search looked for (for its audit line)
};

class Searcher {
 public:
  Searcher(cache::Cache& cache, trust::TrustRoot root, std::filesystem::path index_path,
           std::string nik_key);
  /// Waits for an index build in progress.
  ~Searcher();
  Searcher(const Searcher&) = delete;
  Searcher& operator=(const Searcher&) = delete;

  /// Builds or opens the index for the state being served, here and now
  /// (start-up). An error means name and NIK search answer UNVERIFIABLE until
  /// a later build works.
  Result<void> prepare(UnixSeconds now);

  /// Called periodically (and by search): when the cache serves a state the
  /// index was not built from (an import), builds the new index on a thread
  /// of its own. Until it is ready the old index keeps answering (every hit
  /// is re-checked against the new cache, so it can only miss people added by
  /// the import, never show changed or removed data). Returns true while a
  /// build is running.
  bool maintain(UnixSeconds now);

  /// The root later index builds verify the cache file with: the newer one a
  /// sync walked to (the cache is reopened with it at the same time).
  void useRoot(trust::TrustRoot root);

  /// How often the index was (re)built or opened since construction; for tests.
  std::uint64_t indexGeneration() const;

  /// UNVERIFIABLE when the cache cannot vouch for the answer (no verified file,
  /// a bucket that fails its digest, data past expiry and grace).
  Result<SearchAnswer> search(const SearchQuery& query, UnixSeconds now);

  /// Hex HMAC-SHA-256 of the NIK under the NIK key, as in the staff cache.
  std::string nikHash(std::string_view nik) const;
  /// roster::birthDateHash under the NIK key, as in the staff cache.
  std::string birthHash(std::string_view card_no, std::string_view birth_date) const;

 private:
  /// The index to answer with; starts a background build when it is stale.
  Result<std::shared_ptr<SearchIndex>> currentIndex(UnixSeconds now);
  Result<bool> accept(const std::string& card_no, const SearchQuery& q, const std::string& nik_hash,
                      UnixSeconds now, SearchAnswer& out);

  cache::Cache& cache_;
  std::filesystem::path index_path_;
  roster::NikKey nik_key_;
  mutable std::mutex mu_;  // guards everything below
  trust::TrustRoot root_;
  std::shared_ptr<SearchIndex> index_;
  std::thread builder_;
  bool building_ = false;
  std::string build_error_;
  std::uint64_t generation_ = 0;
};

/// {"results": [{card_no, holder, nik_last4, kelurahan, rt, category, card_status}],
///  "truncated": bool, "data": {serial, signed_at, age_seconds, freshness}}
nlohmann::json toJson(const SearchAnswer& answer);
/// The data block above, for every console answer.
nlohmann::json dataJson(const cache::CacheInfo& info);

}  // namespace kb::console
