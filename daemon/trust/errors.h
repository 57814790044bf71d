#pragma once
/// The error codes of signatures, trust roots and anti-rollback: a std::error_code category of its
/// own (common/error.h). The names are those of `error: CODE:` (docs/contracts.md §2).

#include <system_error>
#include <type_traits>

#include "common/error.h"

namespace kb {

enum class TrustErrc {
  BadSignature = 1,    ///< BAD_SIGNATURE: a signature does not verify
  UnknownKey,          ///< UNKNOWN_KEY: signed by a key the trust root does not list for the role
  ThresholdNotMet,     ///< THRESHOLD_NOT_MET: fewer valid signatures than the role's threshold
  DuplicateSignature,  ///< DUPLICATE_SIGNATURE: the same key signed twice: never counted twice
  RootExpired,         ///< ROOT_EXPIRED: the trust root itself is past its expiry
  Rollback,            ///< ROLLBACK: a root version or serial not newer than the installed one
};

std::error_code make_error_code(TrustErrc code) noexcept;

}  // namespace kb

template <>
struct std::is_error_code_enum<kb::TrustErrc> : std::true_type {};
