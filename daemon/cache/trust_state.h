#pragma once
/// The trust state: what a node has accepted so far, kept in its own file
/// beside the cache files (`<directory of the cache>/trust-state.json`) so that
/// breaking, deleting or replacing a cache file cannot lower it. It is only ever
/// raised (after each import and when a daemon opens a verified cache), written
/// atomically and synced, and never followed through a symlink.
///
/// It holds, per cache file name, the highest snapshot serial and the newest
/// signed time accepted, and node-wide the trusted root (version and the whole
/// document, the start of the rotation chain). A cache whose serial is below its
/// entry is never served (UNVERIFIABLE, reason ROLLBACK); a root that is not
/// the pinned one or chained from it is refused.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "cache/bundle.h"
#include "common/error.h"
#include "common/time.h"
#include "trust/trust.h"

namespace kb::cache {

struct CacheFloor {
  std::int64_t serial = 0;
  UnixSeconds newest_signed_at = 0;
};

struct TrustState {
  std::map<std::string, CacheFloor, std::less<>> caches;  ///< by cache file name
  int root_version = 0;                                   ///< 0: no root pinned yet
  std::string root_text;                                  ///< the pinned root document

  /// The floor for the cache file `db` (its file name), if any.
  std::optional<CacheFloor> floorOf(const std::filesystem::path& db) const;
};

/// <directory of db>/trust-state.json
std::filesystem::path trustStatePath(const std::filesystem::path& db);

/// The stored state; an empty state when the file does not exist. UNVERIFIABLE
/// for a file that is not a regular file (a symlink, a FIFO), too large, or
/// malformed: a broken trust state is never read as "nothing accepted yet".
Result<TrustState> loadTrustState(const std::filesystem::path& path);

/// What was just accepted; each field only raises the stored one.
struct TrustRaise {
  std::optional<std::filesystem::path> db;  ///< the cache file the serial belongs to
  std::int64_t serial = 0;
  UnixSeconds signed_at = 0;
  const trust::TrustRoot* root = nullptr;  ///< pinned if newer than the stored root
};

/// Raises the stored state under a lock (`<path>.lock`, O_NOFOLLOW) and writes
/// it only if something went up: temporary file created O_EXCL|O_NOFOLLOW, mode
/// 0644, owner that of the directory, fsync, rename, fsync of the directory.
/// Returns the state now stored.
Result<TrustState> raiseTrustState(const std::filesystem::path& path, const TrustRaise& raise);

/// As raiseTrustState, but never waits for the lock: nullopt (nothing done)
/// while someone else holds it. An importer holds it across a write and two
/// fsyncs, which take seconds on a busy disk; the daemon's reload of a swapped
/// cache runs where taps are answered, so it tries and retries later instead
/// of queueing behind the import (the importer raises to what it installed).
Result<std::optional<TrustState>> tryRaiseTrustState(const std::filesystem::path& path,
                                                     const TrustRaise& raise);

/// Checks `root` against the root pinned in `state`: the same document, or a
/// newer version chained from it (each step signed by a threshold of the
/// previous version's root keys and its own). Intermediate versions are read
/// from `chain_dir/root-<version>.json`. With nothing pinned, any root is
/// accepted (it becomes the start of the chain). Errors: ROLLBACK for an older
/// version, UNKNOWN_KEY for another document of the same version, and the
/// rotation's own errors (THRESHOLD_NOT_MET, BAD_SIGNATURE, ...) for a break.
Result<void> checkRootChain(const TrustState& state, const trust::TrustRoot& root,
                            const std::filesystem::path& chain_dir);

/// chmod 0644 and, when running as root, chown to the owner of the file's
/// directory, so that a daemon running as the state directory's user can read
/// what root's `kbctl import` wrote whatever root's umask was.
Result<void> setServedFileOwnership(int fd, const std::filesystem::path& path);

/// `floor` raised to the TPM NV counter's value when `tcti` names a TPM (the
/// counter survives a wiped state directory); unchanged for nullopt. Io when
/// the TPM cannot be read: a configured TPM that fails is never skipped.
Result<std::optional<CacheFloor>> withTpmFloor(std::optional<CacheFloor> floor,
                                               const std::optional<std::string>& tcti);

/// Raises the TPM NV counter to `serial` when `tcti` names a TPM.
Result<void> raiseTpmCounter(const std::optional<std::string>& tcti, std::int64_t serial);

}  // namespace kb::cache
