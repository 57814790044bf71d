#pragma once
// A real staff cache for console tests: a roster CSV parsed with a NIK key,
// published as a signed staff snapshot, imported, opened.

#include <optional>
#include <string>

#include "cache/cache.h"
#include "fixtures.h"

namespace kb::console::testing {

inline constexpr const char* kNikKey = "console-test-nik-key-0123456789";

/// Header of the roster CSV (docs/contracts.md section 1).
std::string rosterHeader();
/// One coverage row; `nik` 16 digits, `name` as in the roster.
std::string rosterRow(const std::string& card_no, const std::string& nik, const std::string& name,
                      const std::string& kelurahan, const std::string& rt,
                      const std::string& card_status = "active",
                      const std::string& program = "JKK");

struct StaffCache {
  cache::testing::TempDir dir;
  cache::testing::Keys keys = cache::testing::makeKeys();
  std::optional<trust::TrustRoot> root;
  std::optional<cache::Cache> cache;
  std::filesystem::path db() const { return dir / "cache.db"; }
  std::filesystem::path index() const { return dir / "console-index.db"; }
};

/// Builds the cache from `csv` (throws std::runtime_error on any failure).
void buildStaffCache(StaffCache& out, const std::string& csv);

/// The hand-written people the search tests look for, plus `synthetic` cards
/// of the synthetic roster (seed 7).
std::string testRoster(std::uint64_t synthetic = 200);

}  // namespace kb::console::testing
