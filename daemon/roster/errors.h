#pragma once
/// The error codes of the roster CSV: a std::error_code category of its own
/// (common/error.h). The names are those of `error: CODE:` (docs/contracts.md §2).

#include <system_error>
#include <type_traits>

#include "common/error.h"

namespace kb {

enum class RosterErrc {
  BadRoster = 1,  ///< BAD_ROSTER: roster CSV rejected (file:line: column: reason)
};

std::error_code make_error_code(RosterErrc code) noexcept;

}  // namespace kb

template <>
struct std::is_error_code_enum<kb::RosterErrc> : std::true_type {};
