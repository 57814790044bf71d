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
      case Errc::BadSignature:
        return "BAD_SIGNATURE";
      case Errc::UnknownKey:
        return "UNKNOWN_KEY";
      case Errc::ThresholdNotMet:
        return "THRESHOLD_NOT_MET";
      case Errc::DuplicateSignature:
        return "DUPLICATE_SIGNATURE";
      case Errc::Expired:
        return "EXPIRED";
      case Errc::RootExpired:
        return "ROOT_EXPIRED";
      case Errc::Rollback:
        return "ROLLBACK";
      case Errc::WrongBase:
        return "WRONG_BASE";
      case Errc::DigestMismatch:
        return "DIGEST_MISMATCH";
      case Errc::ClockBehind:
        return "CLOCK_BEHIND";
      case Errc::BadRoster:
        return "BAD_ROSTER";
      case Errc::NoCard:
        return "NO_CARD";
      case Errc::ReadError:
        return "READ_ERROR";
      case Errc::ReaderLost:
        return "READER_LOST";
      case Errc::WrongChip:
        return "WRONG_CHIP";
      case Errc::CardNotBlank:
        return "CARD_NOT_BLANK";
      case Errc::VerifyFailed:
        return "VERIFY_FAILED";
      case Errc::Unverifiable:
        return "UNVERIFIABLE";
      case Errc::WrongProfile:
        return "WRONG_PROFILE";
      case Errc::MirrorUnreachable:
        return "MIRROR_UNREACHABLE";
      case Errc::TlsUntrusted:
        return "TLS_UNTRUSTED";
      case Errc::HttpStatus:
        return "HTTP_STATUS";
      case Errc::LengthMismatch:
        return "LENGTH_MISMATCH";
      case Errc::Freeze:
        return "FREEZE";
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
