#pragma once
/// The SQLite cache file: schema migrations, verified opening, and import of a
/// bundle through a staging file that is swapped in atomically.
///
/// Files beside DB (e.g. CACHE.db): DB.prev (the previous good state, a hard
/// link), DB.staging (an import in progress; deleted by the next import),
/// DB.lock (serialises importers).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cache/bundle.h"
#include "cache/sqlite.h"
#include "common/error.h"
#include "trust/trust.h"

namespace kb::cache {

/// The newest schema version (the highest sql/NNN_*.sql).
int schemaVersion();
/// Creates or upgrades the database at `path` to schema `target`.
Result<void> migrateFile(const std::filesystem::path& path, int target = schemaVersion());

/// A cache file whose stored manifest verifies against the trust root and whose
/// bucket digests hash to the signed content digest.
struct VerifiedFile {
  std::filesystem::path path;
  sql::Db db;  ///< read-only connection
  Manifest manifest;
  std::vector<std::string> bucket_digests;
  UnixSeconds newest_signed_seen = 0;
  UnixSeconds imported_at = 0;
  std::string bundle_sha256;  ///< hex; empty for schema-1 files
};

/// Opens `path` read-only and checks it as described above. UNVERIFIABLE (or
/// the signature error) with a reason if anything does not hold.
Result<VerifiedFile> openVerified(const std::filesystem::path& path, const trust::TrustRoot& root);

/// Re-hashes every bucket of `file` from its rows (a deep check; O(records)).
Result<void> checkAllBuckets(VerifiedFile& file);

/// The bucket's rows hashed as at publish time, after checking that each row's
/// card_no column is the card_no inside its body. Used at every lookup.
struct BucketRead {
  std::string digest;
  std::optional<std::string> body;  ///< the body of `card_no`, if present
};
Result<BucketRead> readBucket(sql::Stmt& select_bucket, std::uint32_t bucket,
                              std::string_view card_no);
/// The statement readBucket expects.
inline constexpr std::string_view kSelectBucketSql =
    "SELECT card_no, body FROM records WHERE bucket = ?1 ORDER BY card_no";

struct ImportOptions {
  Limits limits;
  UnixSeconds clock_tolerance = 300;       ///< slack for CLOCK_BEHIND
  std::optional<roster::Profile> profile;  ///< refuse other profiles (default: the installed one)
  /// The trust state file (trustStatePath(db)) to check against and raise;
  /// nullopt: none (unit tests, the demo's throw-away caches).
  std::optional<std::filesystem::path> trust_state;
  std::filesystem::path root_chain_dir;  ///< where root-<version>.json links of the chain are
  /// TCTI of the TPM whose NV counter also holds the serial (tpm/counter.h);
  /// nullopt: no TPM, the trust state file alone.
  std::optional<std::string> tpm_tcti;
};

struct ImportResult {
  Manifest manifest;
  std::optional<std::int64_t> previous_serial;  ///< the state that was replaced
};

/// Verifies `bundle` and makes it the state served from `db`. Errors: those of
/// readBundle, plus CLOCK_BEHIND, ROLLBACK, WRONG_BASE, DIGEST_MISMATCH (the
/// built state does not hash to the manifest), WRONG_PROFILE, UNVERIFIABLE (the
/// staging database fails PRAGMA quick_check), IO. On any error `db` is
/// untouched. With a trust state: a serial below its highest is ROLLBACK even
/// when no cache file is left, a root not chained from the pinned one is
/// refused, and after the swap the state is raised to the new serial and root.
Result<ImportResult> importBundle(const std::filesystem::path& db,
                                  const std::filesystem::path& bundle, const trust::TrustRoot& root,
                                  UnixSeconds now, const ImportOptions& options = {});

std::filesystem::path withSuffix(const std::filesystem::path& p, const char* suffix);

}  // namespace kb::cache
