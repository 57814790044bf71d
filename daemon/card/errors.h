#pragma once
/// The error codes of personalising and checking a card: a std::error_code category of its own
/// (common/error.h). The names are those of `error: CODE:` (docs/contracts.md §2).

#include <system_error>
#include <type_traits>

#include "common/error.h"

namespace kb {

enum class CardErrc {
  WrongChip = 1,  ///< WRONG_CHIP: the card on the reader is not the chip the command needs
  CardNotBlank,   ///< CARD_NOT_BLANK: the card holds data or has locked pages: it cannot be
                  ///< personalised
  VerifyFailed,   ///< VERIFY_FAILED: what was written does not read back as written (or does not
                  ///< verify)
};

std::error_code make_error_code(CardErrc code) noexcept;

}  // namespace kb

template <>
struct std::is_error_code_enum<kb::CardErrc> : std::true_type {};
