#pragma once
/// Typed errors. `kb::Error` carries a std::error_code: each library declares its own
/// error enum and category next to its header (ReaderErrc in drivers/reader.h, CardErrc
/// in card/errors.h, TrustErrc in trust/errors.h, RosterErrc in roster/errors.h,
/// CacheErrc in cache/errors.h, SyncErrc in sync/errors.h), so this layer knows none of
/// them. Here are only the generic codes every layer produces (kb::Errc). Every category
/// is a kb::EnumCategory (below): it names its codes for the `error: CODE:` prefix that
/// kbctl and the daemon print (docs/contracts.md §2).

#include <expected>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>

namespace kb {

/// The generic codes. Values start at 1: a std::error_code of value 0 means "no error".
enum class Errc {
  Usage = 1,  ///< bad command line
  Io,         ///< a file or device could not be read or written
  Malformed,  ///< input does not follow its format
  Truncated,  ///< input ends before its declared length
  TooLarge,   ///< input exceeds a configured limit (endless-data attack)
  NotFound,   ///< no such record, file or directory
  Timeout,    ///< an operation was slower than its deadline
  Config,     ///< a setting is rejected (by the config parser or the library it configures)
  DiskFull,   ///< no space (or a file size limit) while writing a file or a download
  Internal,   ///< a broken invariant
};

/// Base of every kb error category: adds the code's name in the CLI contract.
class ErrorCategory : public std::error_category {
 public:
  /// "READER_LOST", "IO", ...: the CODE of `error: CODE: message`.
  virtual std::string_view codeName(int value) const noexcept = 0;
  /// The code's name (the message of an Error says what happened).
  std::string message(int value) const override;
};

/// The category of one library's error enum E (the only kind there is). `Name` names E's codes:
/// one function per enum with one `switch (code)` and no `default:`, so an enumerator without a
/// name fails the build (-Wswitch is an error in the dev preset); it returns "" for a value that
/// is no enumerator, which reads as INTERNAL. A library defines one, constinit, in its errors.cpp:
///   constinit const EnumCategory<CacheErrc, nameOf> kCategory("kb.cache");
///   std::error_code make_error_code(CacheErrc code) noexcept { return kCategory.code(code); }
template <class E, std::string_view (*Name)(E) noexcept>
requires std::is_enum_v<E>
class EnumCategory final : public ErrorCategory {
 public:
  explicit constexpr EnumCategory(const char* name) noexcept : name_(name) {}
  const char* name() const noexcept override { return name_; }
  std::string_view codeName(int value) const noexcept override {
    const std::string_view n = Name(static_cast<E>(value));
    return n.empty() ? std::string_view("INTERNAL") : n;
  }
  std::error_code code(E e) const noexcept { return {static_cast<int>(e), *this}; }

 private:
  const char* name_;
};

std::error_code make_error_code(Errc code) noexcept;

}  // namespace kb

template <>
struct std::is_error_code_enum<kb::Errc> : std::true_type {};

namespace kb {

/// The contract name of any code; "INTERNAL" for a category that is not ours.
std::string_view codeName(const std::error_code& code) noexcept;

struct Error {
  std::error_code code;
  std::string message;
};

template <class T>
using Result = std::expected<T, Error>;

template <class E>
requires std::is_error_code_enum_v<E> std::unexpected<Error> fail(E code, std::string message) {
  return std::unexpected(Error{make_error_code(code), std::move(message)});
}

inline std::unexpected<Error> fail(std::error_code code, std::string message) {
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
