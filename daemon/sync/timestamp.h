#pragma once
/// timestamp.json: the one small file a kiosk fetches first from a mirror.
/// Signed by the trust root's `timestamp` role with an expiry of hours, it names
/// the newest snapshot and every delta ending at it, each with its SHA-256 and
/// length, so a client never downloads more than it announces and a mirror
/// cannot mix files of different releases (docs/contracts.md §6).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/time.h"
#include "crypto/crypto.h"
#include "trust/trust.h"

namespace kb::sync {

inline constexpr std::string_view kTimestampType = "kartu-bahagia/timestamp";
inline constexpr std::string_view kTimestampFile = "timestamp.json";
inline constexpr std::uint64_t kMaxTimestampBytes = 64u << 10;
inline constexpr std::uint64_t kMaxRootBytes = 1u << 20;

/// One file the timestamp names.
struct FileRef {
  std::string name;         ///< e.g. "snapshot-7.kbs", "delta-6-7.kbs" (top level of the mirror)
  std::int64_t serial = 0;  ///< the serial it brings a node to
  std::int64_t base_serial = 0;  ///< deltas: the serial they apply to
  std::string sha256;            ///< 32 raw bytes
  std::uint64_t length = 0;
};

struct Timestamp {
  std::int64_t serial = 0;  ///< of the newest snapshot
  UnixSeconds signed_at = 0;
  UnixSeconds expires_at = 0;
  int root_version = 1;  ///< the newest root-N.json on the mirror
  FileRef snapshot;
  std::vector<FileRef> deltas;  ///< each ending at `serial`, by base serial
  std::string text;             ///< the signed envelope
};

std::string snapshotName(std::int64_t serial);
std::string deltaName(std::int64_t base, std::int64_t serial);
std::string rootName(int version);

/// The root_version member without checking any signature: which roots to
/// fetch before the timestamp can be verified by the newest of them.
Result<int> peekRootVersion(std::string_view text);

/// Parses and verifies a timestamp against `root`: its shape (MALFORMED), the
/// timestamp role's signatures and threshold (BAD_SIGNATURE, UNKNOWN_KEY,
/// THRESHOLD_NOT_MET, DUPLICATE_SIGNATURE), `now > expires_at` (FREEZE: the
/// mirror keeps serving an old, validly signed state), a serial below
/// `floor_serial` (ROLLBACK: the state this node already accepted is newer).
Result<Timestamp> parseTimestamp(std::string_view text, const trust::TrustRoot& root,
                                 UnixSeconds now, std::int64_t floor_serial);

/// The signed timestamp document for `ts` (its text member is ignored).
std::string signTimestamp(const Timestamp& ts, const std::vector<crypto::SigningKey>& keys);

/// What `kbctl timestamp` does: finds the newest snapshot-N.kbs in `dir`,
/// verifies it and every delta-B-N.kbs against `root`, and describes them.
/// The newest root-V.json in `dir` (at least `root`'s version) is named.
Result<Timestamp> describeMirror(const std::filesystem::path& dir, const trust::TrustRoot& root,
                                 UnixSeconds now, UnixSeconds expires_at);

}  // namespace kb::sync
