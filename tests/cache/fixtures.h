#pragma once
// Shared test and benchmark helpers for the cache: keys, trust roots,
// synthetic records, hand-made bundles, a temporary directory.

#include <cstdint>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "cache/bundle.h"
#include "crypto/crypto.h"
#include "roster/record.h"
#include "trust/trust.h"

namespace kb {
/// GoogleTest prints error codes by name.
template <class E>
requires std::is_error_code_enum_v<E>
void PrintTo(const E& e, std::ostream* os) {
  *os << codeName(e);
}
}  // namespace kb

namespace kb::cache::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// 2026-11-21T00:00:00Z: the tests' "today".
inline constexpr UnixSeconds kNow = 1'795'219'200;
inline constexpr UnixSeconds kDay = 86400;

struct Keys {
  crypto::SigningKey root, snapshot, snapshot2, stranger;
};
Keys makeKeys();

/// Root listing `snapshot` and `snapshot2` for role snapshot (threshold as given).
std::string rootText(const Keys& keys, UnixSeconds expires, int snapshot_threshold = 1);
trust::TrustRoot makeRoot(const Keys& keys, UnixSeconds now = kNow, int snapshot_threshold = 1);

/// A deterministic kiosk-profile card; `variant` changes dates and status but
/// keeps every string's length (for same-length mix-and-match bodies).
roster::CardRecord syntheticCard(std::uint64_t i, std::uint64_t variant = 0);
std::vector<roster::CardRecord> syntheticCards(std::uint64_t n, std::uint64_t variant = 0);
std::string cardNo(std::uint64_t i);

/// A bundle assembled by hand (no publish()), for malformed and mismatched cases.
struct Parts {
  BundleSpec spec;
  std::vector<std::string> entries;  ///< in (bucket, card_no) order
};
Parts snapshotParts(const std::vector<roster::CardRecord>& cards, std::int64_t serial,
                    UnixSeconds signed_at, UnixSeconds expires_at);
std::string build(const Parts& parts, const std::vector<crypto::SigningKey>& keys);
std::string build(std::string_view manifest, const std::vector<std::string>& entries);

void writeFile(const std::filesystem::path& p, std::string_view bytes);
/// Runs `sql` against a cache file the way an attacker with file access would; a statement
/// that fails fails the calling test (a GoogleTest fatal failure).
void tamper(const std::filesystem::path& db, const std::string& sql);
std::string readAll(const std::filesystem::path& p);

}  // namespace kb::cache::testing
