#include "web/operator_gate.h"

#include <algorithm>

#include "common/encoding.h"
#include "crypto/pin.h"

namespace kb::web {

OperatorGate::OperatorGate(std::string pin_hash, GateOptions options)
    : pin_hash_(std::move(pin_hash)), options_(options) {}

OperatorGate::Attempt OperatorGate::login(std::string_view pin, Clock::time_point now) {
  Attempt a;
  if (!configured()) return a;
  {
    std::lock_guard lock(mutex_);
    if (locked_until_ && now < *locked_until_) {
      a.outcome = Outcome::LockedOut;
      a.retry_after_s = std::chrono::ceil<std::chrono::seconds>(*locked_until_ - now).count();
      return a;
    }
  }
  // Hashed outside the lock; a concurrent attempt is still counted below.
  auto ok = crypto::verifyPin(pin_hash_, pin);
  std::lock_guard lock(mutex_);
  if (ok && *ok) {
    failures_ = 0;
    lockouts_ = 0;
    locked_until_.reset();
    token_ = hexEncode(crypto::randomBytes(32));  // a new session replaces the old one
    token_expires_ = now + options_.session;
    a.outcome = Outcome::Ok;
    a.token = token_;
    return a;
  }
  ++failures_;
  if (failures_ >= options_.max_failures) {
    const std::chrono::seconds wait =
        std::min(std::chrono::seconds(options_.lockout.count() << std::min(lockouts_, 10)),
                 options_.max_lockout);
    locked_until_ = now + wait;
    ++lockouts_;
    failures_ = options_.max_failures - 1;  // after a lockout, one more wrong PIN locks again
    a.outcome = Outcome::LockedOut;
    a.retry_after_s = wait.count();
    return a;
  }
  a.attempts_left = options_.max_failures - failures_;
  return a;
}

namespace {
bool sameToken(std::string_view a, std::string_view b) {  // no early exit on the first difference
  if (a.empty() || a.size() != b.size()) return false;
  unsigned diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i]) ^ static_cast<unsigned char>(b[i]);
  return diff == 0;
}
}  // namespace

bool OperatorGate::liveLocked(std::string_view token, Clock::time_point now) const {
  return sameToken(token, token_) && now < token_expires_;
}

bool OperatorGate::check(std::string_view token, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  if (!liveLocked(token, now)) return false;
  token_expires_ = now + options_.session;
  return true;
}

void OperatorGate::logout(std::string_view token) {
  std::lock_guard lock(mutex_);
  if (sameToken(token, token_)) token_.clear();
}

std::int64_t OperatorGate::sessionLeft(std::string_view token, Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  if (!liveLocked(token, now)) return 0;
  return std::chrono::ceil<std::chrono::seconds>(token_expires_ - now).count();
}

}  // namespace kb::web
