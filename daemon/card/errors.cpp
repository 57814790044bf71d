#include "card/errors.h"

namespace kb {

namespace {

class Category final : public ErrorCategory {
 public:
  const char* name() const noexcept override { return "kb.card"; }
  std::string_view codeName(int value) const noexcept override {
    switch (static_cast<CardErrc>(value)) {
      case CardErrc::WrongChip:
        return "WRONG_CHIP";
      case CardErrc::CardNotBlank:
        return "CARD_NOT_BLANK";
      case CardErrc::VerifyFailed:
        return "VERIFY_FAILED";
    }
    return "INTERNAL";
  }
};

}  // namespace

const ErrorCategory& cardCategory() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(CardErrc code) noexcept {
  return {static_cast<int>(code), cardCategory()};
}

}  // namespace kb
