#pragma once
/// Publishing: records -> a signed snapshot bundle, and with a base snapshot a
/// delta holding only what changed (kbctl publish, docs/contracts.md §2).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cache/bundle.h"
#include "common/error.h"
#include "crypto/crypto.h"
#include "roster/record.h"
#include "roster/roster.h"
#include "trust/trust.h"

namespace kb::cache {

struct PublishOptions {
  roster::Profile profile = roster::Profile::Kiosk;
  std::int64_t serial = 0;
  UnixSeconds signed_at = 0;
  UnixSeconds expires_at = 0;
  std::filesystem::path out_dir;
  std::optional<std::filesystem::path> base;  ///< a previous snapshot of the same profile
  Limits limits;                              ///< for reading the base
  /// Streaming publisher: roster bytes per partition (a partition is parsed
  /// and sorted in memory, one at a time).
  std::uint64_t partition_bytes = 16ull << 20;
  /// Streaming publisher: partitions parsed (and runs sorted) at once, each on
  /// its own thread and each holding one partition in memory. 0: one per core,
  /// at most 4. The bundles do not depend on it.
  std::size_t threads = 0;
};

struct PublishResult {
  std::filesystem::path snapshot;
  std::optional<std::filesystem::path> delta;
  std::uint64_t records = 0;
  std::uint64_t snapshot_bytes = 0;
  std::uint64_t delta_entries = 0;
  std::uint64_t delta_bytes = 0;
  std::string note;  ///< e.g. why no delta could be written
};

/// Writes DIR/snapshot-N.kbs (and DIR/delta-B-N.kbs). Every key must be listed
/// for role snapshot in `root` (UNKNOWN_KEY) and together meet its threshold
/// (THRESHOLD_NOT_MET); nothing is written on any error.
Result<PublishResult> publish(std::vector<roster::CardRecord> records, const trust::TrustRoot& root,
                              const std::vector<crypto::SigningKey>& keys,
                              const PublishOptions& options);

/// The streaming publisher (kbctl publish): the same bundles as parseRoster +
/// publish() give for the same CSV, in bounded memory. The CSV is split by a
/// hash of card_no into partition files under a work directory in out_dir (so
/// all rows of a card meet in one partition, wherever they are in the file),
/// each partition is checked by the roster parser with the file's own line
/// numbers and encoded, and the encoded records are merged in body order
/// into the bundle writer. A bad roster gives BAD_ROSTER with every issue found
/// (up to `roster_options.max_issues`, earliest lines first) in `issues`.
Result<PublishResult> publishRoster(const std::filesystem::path& roster_csv,
                                    const roster::RosterOptions& roster_options,
                                    const trust::TrustRoot& root,
                                    const std::vector<crypto::SigningKey>& keys,
                                    const PublishOptions& options,
                                    std::vector<roster::RosterIssue>& issues,
                                    std::vector<std::string>& warnings);

}  // namespace kb::cache
