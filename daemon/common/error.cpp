#include "common/error.h"

namespace kb {

std::string ErrorCategory::message(int value) const {
  return std::string(codeName(value));
}

namespace {

class CommonCategory final : public ErrorCategory {
 public:
  const char* name() const noexcept override { return "kb.common"; }
  std::string_view codeName(int value) const noexcept override {
    switch (static_cast<Errc>(value)) {
      case Errc::Usage:
        return "USAGE";
      case Errc::Io:
        return "IO";
      case Errc::Malformed:
        return "MALFORMED";
      case Errc::Truncated:
        return "TRUNCATED";
      case Errc::TooLarge:
        return "TOO_LARGE";
      case Errc::NotFound:
        return "NOT_FOUND";
      case Errc::Timeout:
        return "TIMEOUT";
      case Errc::Config:
        return "CONFIG";
      case Errc::Internal:
        return "INTERNAL";
      case Errc::DiskFull:
        return "DISK_FULL";
    }
    return "INTERNAL";
  }
};

}  // namespace

const ErrorCategory& commonCategory() noexcept {
  static const CommonCategory category;
  return category;
}

std::error_code make_error_code(Errc code) noexcept {
  return {static_cast<int>(code), commonCategory()};
}

std::string_view codeName(const std::error_code& code) noexcept {
  if (const auto* ours = dynamic_cast<const ErrorCategory*>(&code.category()))
    return ours->codeName(code.value());
  return "INTERNAL";
}

std::string formatError(const Error& e) {
  return "error: " + std::string(codeName(e.code)) + ": " + e.message;
}

}  // namespace kb
