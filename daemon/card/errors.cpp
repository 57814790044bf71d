#include "card/errors.h"

namespace kb {

namespace {

std::string_view nameOf(CardErrc code) noexcept {
  switch (code) {
    case CardErrc::WrongChip:
      return "WRONG_CHIP";
    case CardErrc::CardNotBlank:
      return "CARD_NOT_BLANK";
    case CardErrc::VerifyFailed:
      return "VERIFY_FAILED";
  }
  return {};
}

constinit const EnumCategory<CardErrc, nameOf> kCategory("kb.card");

}  // namespace

std::error_code make_error_code(CardErrc code) noexcept {
  return kCategory.code(code);
}

}  // namespace kb
