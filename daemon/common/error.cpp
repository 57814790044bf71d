#include "common/error.h"

namespace kb {

std::string_view codeName(Errc code) {
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
    case Errc::NotFound:
      return "NOT_FOUND";
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
    case Errc::Config:
      return "CONFIG";
    case Errc::MirrorUnreachable:
      return "MIRROR_UNREACHABLE";
    case Errc::TlsUntrusted:
      return "TLS_UNTRUSTED";
    case Errc::HttpStatus:
      return "HTTP_STATUS";
    case Errc::Timeout:
      return "TIMEOUT";
    case Errc::LengthMismatch:
      return "LENGTH_MISMATCH";
    case Errc::Freeze:
      return "FREEZE";
    case Errc::DiskFull:
      return "DISK_FULL";
    case Errc::Internal:
      return "INTERNAL";
  }
  return "INTERNAL";
}

std::string formatError(const Error& e) {
  return "error: " + std::string(codeName(e.code)) + ": " + e.message;
}

}  // namespace kb
