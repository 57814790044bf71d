#pragma once
/// Typed errors shared by every library. Each code maps to the `error: CODE:` prefix
/// that kbctl and the daemon print (docs/contracts.md §2).

#include <expected>
#include <string>
#include <string_view>

namespace kb {

enum class Errc {
  Usage,               ///< bad command line
  Io,                  ///< a file or device could not be read or written
  Malformed,           ///< input does not follow its format
  Truncated,           ///< input ends before its declared length
  TooLarge,            ///< input exceeds a configured limit (endless-data attack)
  BadSignature,        ///< a signature does not verify
  UnknownKey,          ///< signed by a key the trust root does not list for the role
  ThresholdNotMet,     ///< fewer valid signatures than the role's threshold
  DuplicateSignature,  ///< the same key signed twice: never counted twice
  Expired,             ///< a snapshot or delta is past its signed expiry
  RootExpired,         ///< the trust root itself is past its expiry
  Rollback,            ///< serial or version not newer than the installed one
  WrongBase,           ///< a delta names a base that is not installed
  DigestMismatch,      ///< content does not match the digest its manifest signs
  ClockBehind,         ///< system clock earlier than the newest signed time seen
  BadRoster,           ///< roster CSV rejected (file:line: column: reason)
  NotFound,            ///< no such record
  NoCard,              ///< no card arrived within the wait
  ReadError,           ///< a card read failed part-way
  ReaderLost,          ///< the reader went away
  WrongChip,           ///< the card on the reader is not the chip the command needs
  CardNotBlank,        ///< the card holds data or has locked pages: it cannot be personalised
  VerifyFailed,        ///< what was written does not read back as written (or does not verify)
  Unverifiable,        ///< stored data failed its integrity check
  WrongProfile,        ///< a bundle or cache of the other profile (kiosk vs staff)
  Config,              ///< configuration rejected
  // Mirror sync (docs/contracts.md §6): each fault of a download has its own code.
  MirrorUnreachable,  ///< no connection to the mirror (refused, no route, DNS)
  TlsUntrusted,       ///< the mirror's certificate is not trusted
  HttpStatus,         ///< the mirror answered with an HTTP error status
  Timeout,            ///< a transfer was slower than its deadline
  LengthMismatch,     ///< a file is shorter or longer than the timestamp says
  Freeze,             ///< the mirror's timestamp has expired: no newer data is reaching us
  DiskFull,           ///< no space (or file size limit) while writing a download
  Internal,           ///< a broken invariant
};

std::string_view codeName(Errc code);

struct Error {
  Errc code;
  std::string message;
};

template <class T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(Errc code, std::string message) {
  return std::unexpected(Error{code, std::move(message)});
}

/// "error: CODE: message" as printed on stderr by every command.
std::string formatError(const Error& e);

/// Exit status of both binaries (kbctl, kartu-bahagiad): 0 success, kExitUsage for a
/// wrong command line (USAGE), kExitFailure for every other error.
inline constexpr int kExitUsage = 2;
inline constexpr int kExitFailure = 1;
/// kExitUsage for a USAGE error, else kExitFailure.
inline int exitCodeOf(const Error& e) {
  return e.code == Errc::Usage ? kExitUsage : kExitFailure;
}

}  // namespace kb
