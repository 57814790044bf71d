#pragma once
/// Who may open the kelurahan operator's screen (docs/contracts.md §4,
/// "Operator"): the PIN whose scrypt hash is in the config, a lockout after
/// repeated wrong PINs, and one session at a time that ends after a quiet
/// period. No Asio here: the routes run login() on a worker thread because
/// scrypt takes tens of milliseconds. Thread-safe.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace kb::web {

struct GateOptions {
  int max_failures = 5;                    ///< wrong PINs in a row before a lockout
  std::chrono::seconds lockout{300};       ///< the first lockout; each further one doubles
  std::chrono::seconds max_lockout{3600};  ///< ... up to this
  std::chrono::seconds session{120};       ///< a session ends this long after its last use
};

class OperatorGate {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Outcome { Ok, Wrong, LockedOut };
  struct Attempt {
    Outcome outcome = Outcome::Wrong;
    std::string token;               ///< Ok: the session's bearer token (hex)
    int attempts_left = 0;           ///< Wrong: before the lockout
    std::int64_t retry_after_s = 0;  ///< LockedOut: seconds until a PIN is tried again
  };

  /// `pin_hash` empty: no operator is configured and every login is refused.
  explicit OperatorGate(std::string pin_hash, GateOptions options = {});
  bool configured() const { return !pin_hash_.empty(); }
  const GateOptions& options() const { return options_; }

  /// While locked out the PIN is not even hashed (a right PIN is refused too).
  Attempt login(std::string_view pin, Clock::time_point now);
  /// A live session's token: true and its quiet period starts again.
  bool check(std::string_view token, Clock::time_point now);
  void logout(std::string_view token);
  /// Seconds the session has left (0 when none).
  std::int64_t sessionLeft(std::string_view token, Clock::time_point now) const;

 private:
  bool liveLocked(std::string_view token, Clock::time_point now) const;

  const std::string pin_hash_;
  const GateOptions options_;
  mutable std::mutex mutex_;
  int failures_ = 0;  ///< wrong PINs since the last right one
  int lockouts_ = 0;  ///< lockouts since the last right PIN
  std::optional<Clock::time_point> locked_until_;
  std::string token_;
  Clock::time_point token_expires_{};
};

}  // namespace kb::web
