#include "trust/errors.h"

namespace kb {

namespace {

class Category final : public ErrorCategory {
 public:
  const char* name() const noexcept override { return "kb.trust"; }
  std::string_view codeName(int value) const noexcept override {
    switch (static_cast<TrustErrc>(value)) {
      case TrustErrc::BadSignature:
        return "BAD_SIGNATURE";
      case TrustErrc::UnknownKey:
        return "UNKNOWN_KEY";
      case TrustErrc::ThresholdNotMet:
        return "THRESHOLD_NOT_MET";
      case TrustErrc::DuplicateSignature:
        return "DUPLICATE_SIGNATURE";
      case TrustErrc::RootExpired:
        return "ROOT_EXPIRED";
      case TrustErrc::Rollback:
        return "ROLLBACK";
    }
    return "INTERNAL";
  }
};

}  // namespace

const ErrorCategory& trustCategory() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(TrustErrc code) noexcept {
  return {static_cast<int>(code), trustCategory()};
}

}  // namespace kb
