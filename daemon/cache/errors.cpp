#include "cache/errors.h"

namespace kb {

namespace {

class Category final : public ErrorCategory {
 public:
  const char* name() const noexcept override { return "kb.cache"; }
  std::string_view codeName(int value) const noexcept override {
    switch (static_cast<CacheErrc>(value)) {
      case CacheErrc::Expired:
        return "EXPIRED";
      case CacheErrc::WrongBase:
        return "WRONG_BASE";
      case CacheErrc::DigestMismatch:
        return "DIGEST_MISMATCH";
      case CacheErrc::ClockBehind:
        return "CLOCK_BEHIND";
      case CacheErrc::Unverifiable:
        return "UNVERIFIABLE";
      case CacheErrc::WrongProfile:
        return "WRONG_PROFILE";
    }
    return "INTERNAL";
  }
};

}  // namespace

const ErrorCategory& cacheCategory() noexcept {
  static const Category category;
  return category;
}

std::error_code make_error_code(CacheErrc code) noexcept {
  return {static_cast<int>(code), cacheCategory()};
}

}  // namespace kb
