#pragma once
/// The console's search index: a separate SQLite file (STATE_DIR/console-index.db)
/// built from a verified staff cache file, never written into the cache itself.
/// It maps name keys (FTS5), kelurahan, RT and the NIK's keyed hash to card
/// numbers. It is only an accelerator: every card it names is looked up in the
/// cache again (bucket re-hash) and re-matched against the query before it is
/// shown, so an edited index can hide a person but never invent or alter one.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "trust/trust.h"

namespace kb::console {

struct IndexStats {
  std::uint64_t records = 0;
  std::string content_digest;  ///< hex, of the cache state the index was built from
};

class SearchIndex {
 public:
  /// Opens `index_path` if it was built from the state whose content digest is
  /// `content_digest` (hex); otherwise rebuilds it from `cache_file` (checked
  /// against `root`, every bucket re-hashed while reading) and renames it in.
  static Result<SearchIndex> openOrBuild(const std::filesystem::path& index_path,
                                         const std::filesystem::path& cache_file,
                                         const trust::TrustRoot& root,
                                         std::string_view content_digest);
  SearchIndex(SearchIndex&&) noexcept;
  SearchIndex& operator=(SearchIndex&&) noexcept;
  ~SearchIndex();

  const IndexStats& stats() const;

  /// Card numbers whose NIK hash (hex) is `nik_hash`, at most `limit`.
  Result<std::vector<std::string>> byNikHash(std::string_view nik_hash, std::size_t limit);
  /// Card numbers matching the name alternatives (see name_key.h), optionally
  /// narrowed by kelurahan words and RT; whole-word matches first, then
  /// prefixes; at most `limit`.
  Result<std::vector<std::string>> byName(const std::vector<std::vector<std::string>>& name_alts,
                                          const std::vector<std::string>& kelurahan_keys,
                                          std::string_view rt, std::size_t limit);

 private:
  struct Impl;
  explicit SearchIndex(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// The FTS5 expression for the name alternatives and kelurahan keys; every term
/// is [a-z0-9]+ in double quotes, so no input can change its syntax. Exposed for tests.
std::string ftsExpression(const std::vector<std::vector<std::string>>& name_alts,
                          const std::vector<std::string>& kelurahan_keys, std::string_view rt,
                          bool prefix);

}  // namespace kb::console
