#pragma once
/// The one freshness policy (docs/contracts.md §3): when data becomes STALE or
/// EXPIRED. Its defaults and limits are the daemon's `soft_age_hours` and
/// `grace_days` and kbctl lookup's `--soft-age-hours` and `--grace-days`.

#include "common/time.h"

namespace kb::cache {

inline constexpr int kDefaultSoftAgeHours = 36;
inline constexpr int kMinSoftAgeHours = 1;
inline constexpr int kMaxSoftAgeHours = 8760;
inline constexpr int kDefaultGraceDays = 3;
inline constexpr int kMinGraceDays = 0;
inline constexpr int kMaxGraceDays = 365;

struct FreshnessPolicy {
  /// Older than this (since signing): STALE.
  UnixSeconds soft_age = UnixSeconds{kDefaultSoftAgeHours} * 3600;
  /// Past expires_at by more than this: EXPIRED.
  UnixSeconds grace = UnixSeconds{kDefaultGraceDays} * 86400;
  /// A clock this far before signed_at is not trusted.
  UnixSeconds clock_tolerance = 300;
  /// The local calendar for coverage dates (WIB, UTC+7).
  UnixSeconds utc_offset = UnixSeconds{7} * 3600;
};

/// The policy for a soft age in hours and a grace period in days (the config's units).
constexpr FreshnessPolicy freshnessPolicy(int soft_age_hours, int grace_days) {
  FreshnessPolicy p;
  p.soft_age = static_cast<UnixSeconds>(soft_age_hours) * 3600;
  p.grace = static_cast<UnixSeconds>(grace_days) * 86400;
  return p;
}

}  // namespace kb::cache
