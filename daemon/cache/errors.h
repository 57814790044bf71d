#pragma once
/// The error codes of bundles and the installed cache: a std::error_code category of its own
/// (common/error.h). The names are those of `error: CODE:` (docs/contracts.md §2).

#include <system_error>
#include <type_traits>

#include "common/error.h"

namespace kb {

enum class CacheErrc {
  Expired = 1,     ///< EXPIRED: a snapshot or delta is past its signed expiry
  WrongBase,       ///< WRONG_BASE: a delta names a base that is not installed
  DigestMismatch,  ///< DIGEST_MISMATCH: content does not match the digest its manifest signs
  ClockBehind,     ///< CLOCK_BEHIND: system clock earlier than the newest signed time seen
  Unverifiable,    ///< UNVERIFIABLE: stored data failed its integrity check
  WrongProfile,    ///< WRONG_PROFILE: a bundle or cache of the other profile (kiosk vs staff)
};

std::error_code make_error_code(CacheErrc code) noexcept;

}  // namespace kb

template <>
struct std::is_error_code_enum<kb::CacheErrc> : std::true_type {};
