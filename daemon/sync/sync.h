#pragma once
/// One sync of a cache from its mirrors (docs/contracts.md §6): fetch
/// timestamp.json, walk root-N+1.json... from the trusted root (each step by the
/// rotation rule), verify the timestamp with the newest root, choose the
/// cheapest path (the delta from the installed serial, else the snapshot),
/// download it within the announced length and the deadline (resuming a partial
/// download), check its SHA-256 against the timestamp, and import it through the
/// cache's atomic import. Mirrors are tried in order until one succeeds. On any
/// error the served cache is untouched. Used by the daemon and `kbctl sync`.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cache/store.h"
#include "common/error.h"
#include "sync/http.h"
#include "sync/timestamp.h"
#include "trust/trust.h"

namespace kb::sync {

struct SyncOptions {
  std::filesystem::path db;          ///< the cache file (CACHE.db)
  std::vector<std::string> mirrors;  ///< base URLs, tried in order
  HttpOptions http;
  std::filesystem::path work_dir;  ///< downloads in progress; empty: CACHE.db.sync/
  std::filesystem::path root_dir;  ///< accepted root-N.json are kept here; empty: db's directory
  cache::ImportOptions import;     ///< passed to importBundle (trust state, limits...)
  std::int64_t floor_serial = 0;   ///< a serial already accepted (e.g. the trust state's)
};

/// What a daemon node (kiosk or console) syncs with: its cache file and the
/// trust state beside it, its mirrors and their CA, and the state directory,
/// where roots fetched from mirrors are kept and the cache's chain is checked
/// from; `profile` is the data its cache holds.
SyncOptions nodeSyncOptions(const std::filesystem::path& db, std::vector<std::string> mirrors,
                            std::string mirror_ca, const std::filesystem::path& state_dir,
                            roster::Profile profile);

enum class SyncOutcome { Current, Updated };

struct SyncReport {
  SyncOutcome outcome = SyncOutcome::Current;
  std::string mirror;  ///< the one that answered
  std::int64_t serial = 0;
  std::optional<std::int64_t> previous_serial;
  bool via_delta = false;
  std::uint64_t bytes = 0;  ///< bundle bytes received
  bool resumed = false;     ///< a partial download was continued
  int root_version = 0;     ///< the trusted root after the sync
  UnixSeconds timestamp_signed_at = 0;
  UnixSeconds timestamp_expires_at = 0;
  std::vector<Error> failed_mirrors;  ///< mirrors tried before the one that answered
};

/// Applies the root-(V+1).json, root-(V+2).json... found in `dir` to `root`,
/// each by the rotation rule, and returns the newest (so a kiosk starts from
/// the roots it fetched earlier).
trust::TrustRoot newestLocalRoot(trust::TrustRoot root, const std::filesystem::path& dir,
                                 UnixSeconds now);

/// One sync. `root` is the trusted root and is advanced to the newest root
/// accepted from a mirror. The error is the last mirror's (its message names
/// every mirror's fault).
Result<SyncReport> syncOnce(const SyncOptions& options, trust::TrustRoot& root, UnixSeconds now);

/// "https://host/path" + "/" if missing.
std::string mirrorBase(std::string url);

}  // namespace kb::sync
