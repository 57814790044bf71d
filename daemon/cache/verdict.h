#pragma once
/// What a lookup resolves to (docs/contracts.md §3), decided by a pure function.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cache/freshness.h"
#include "common/time.h"
#include "roster/record.h"

namespace kb::cache {

enum class VerdictCode { Active, Inactive, Blocked, NotFound, Unverifiable };
enum class Freshness { Fresh, Stale, Expired };
std::string_view verdictName(VerdictCode v);  ///< "ACTIVE", ...
std::string_view freshnessName(Freshness f);  ///< "FRESH", ...

struct SnapshotInfo {
  std::int64_t serial = 0;
  UnixSeconds signed_at = 0;
  UnixSeconds expires_at = 0;
};

struct Verdict {
  VerdictCode verdict = VerdictCode::Unverifiable;
  Freshness freshness = Freshness::Expired;
  std::optional<SnapshotInfo> snapshot;
  std::int64_t age_seconds = 0;
  std::optional<roster::CardRecord> card;
  std::vector<bool> active_today;  ///< parallel to card->coverages
  std::string reason;              ///< why UNVERIFIABLE or STALE; empty otherwise
};

/// FRESH while age <= soft_age and now <= expires_at; EXPIRED once now >
/// expires_at + grace; STALE between.
Freshness freshnessAt(const SnapshotInfo& snapshot, UnixSeconds now, const FreshnessPolicy& policy);
/// status active and valid_from <= today <= valid_to, today in policy.utc_offset.
bool coverageActive(const roster::Coverage& coverage, UnixSeconds now,
                    const FreshnessPolicy& policy);

/// The verdict for a verified lookup result (`card` absent = not in the state).
Verdict decide(std::optional<roster::CardRecord> card, const SnapshotInfo& snapshot,
               UnixSeconds now, const FreshnessPolicy& policy);
/// UNVERIFIABLE with a reason; `snapshot` if one is known.
Verdict unverifiable(std::string reason, const std::optional<SnapshotInfo>& snapshot,
                     UnixSeconds now, const FreshnessPolicy& policy);

/// The verdict document of docs/contracts.md §3 (plus `reason`, `active_today`).
nlohmann::json toJson(const Verdict& verdict);

}  // namespace kb::cache
