#pragma once
/// The membership cache as the daemon and kbctl see it: open the verified
/// state (falling back to the previous one), answer lookups that re-check
/// integrity every time, report freshness. Thread-safe: concurrent lookups
/// each read through a read-only connection of their own (a small pool), so
/// they do not wait for one another. An import may run in another process at
/// any time: it renames a new file in, which lookup() and refresh() notice
/// and open.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "cache/bundle.h"
#include "cache/verdict.h"
#include "common/error.h"
#include "trust/trust.h"

namespace kb::cache {

struct CacheOptions {
  FreshnessPolicy freshness;
  std::optional<roster::Profile> profile;  ///< refuse to serve another profile's data
  /// The trust state file (trustStatePath(db)): a file below its serial is never
  /// served, a root not chained from its pinned root serves nothing.
  std::optional<std::filesystem::path> trust_state;
  bool raise_trust_state = false;  ///< the daemon: raise it from each verified open
  /// TCTI of the TPM whose NV counter also holds the serial (tpm/counter.h);
  /// nullopt: no TPM, the trust state file alone.
  std::optional<std::string> tpm_tcti;
  std::filesystem::path root_chain_dir;  ///< where root-<version>.json links of the chain are
};

/// Why the cache is not serving its current verified file (CacheInfo::code).
inline constexpr std::string_view kCodeFallback = "FALLBACK";  ///< serving DB.prev
inline constexpr std::string_view kCodeRollback = "ROLLBACK";  ///< files below the trust state
inline constexpr std::string_view kCodeNoCache = "NO_CACHE";
inline constexpr std::string_view kCodeUnverifiable = "UNVERIFIABLE";
inline constexpr std::string_view kCodeTrustState = "TRUST_STATE";  ///< unreadable or unwritable
inline constexpr std::string_view kCodeRoot =
    "ROOT_NOT_TRUSTED";  ///< not chained from the pinned root

struct CacheInfo {
  bool serving = false;
  std::filesystem::path file;  ///< the file answering lookups (DB or DB.prev)
  std::string reason;          ///< why that file, or why nothing is served
  std::string code;            ///< empty when the current file serves normally; else a kCode*
  std::optional<SnapshotInfo> snapshot;
  Freshness freshness = Freshness::Expired;
  std::int64_t age_seconds = 0;
  roster::Profile profile = roster::Profile::Kiosk;
  BundleType arrived_as = BundleType::Snapshot;  ///< the last import was a snapshot or a delta
  std::uint64_t record_count = 0;
  std::uint32_t bucket_count = 0;
  std::string content_digest;  ///< hex
  std::string bundle_sha256;   ///< hex of the bundle file last imported
  UnixSeconds imported_at = 0;
  UnixSeconds newest_signed_seen = 0;
};
nlohmann::json toJson(const CacheInfo& info);

class Cache {
 public:
  /// Never fails: without a verifiable file every lookup answers UNVERIFIABLE
  /// and info() says why.
  static Cache open(std::filesystem::path db, trust::TrustRoot root, UnixSeconds now,
                    CacheOptions options = {});
  Cache(Cache&&) noexcept;
  Cache& operator=(Cache&&) noexcept;
  ~Cache();

  /// Reads the card's bucket, re-hashes it against the signed digests, decides.
  Verdict lookup(std::string_view card_no, UnixSeconds now);
  CacheInfo info(UnixSeconds now) const;
  /// Opens the file again if an import replaced it since it was opened; true if so.
  bool refresh();
  /// Opens the files again (e.g. with a newer trust root).
  void reopen(UnixSeconds now);
  void reopen(trust::TrustRoot root, UnixSeconds now);
  /// Re-hashes every bucket of the serving file (O(records); start-up or status).
  Result<void> checkAll();

 private:
  struct Impl;
  explicit Cache(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kb::cache
