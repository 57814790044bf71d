#include "common/error.h"

namespace kb {

std::string ErrorCategory::message(int value) const {
  return std::string(codeName(value));
}

namespace {

std::string_view nameOf(Errc code) noexcept {
  switch (code) {
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
  return {};
}

constinit const EnumCategory<Errc, nameOf> kCategory("kb.common");

}  // namespace

std::error_code make_error_code(Errc code) noexcept {
  return kCategory.code(code);
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
