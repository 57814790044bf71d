#pragma once
/// Per-operator token buckets: `burst` lookups at once, refilled at
/// `per_minute`. Thread-safe. Times are passed in, so tests need no clock.

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace kb::console {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  RateLimiter(std::uint32_t burst, std::uint32_t per_minute);

  /// nullopt: allowed (one token taken); otherwise the whole seconds to wait (>= 1).
  std::optional<std::uint32_t> take(const std::string& who, Clock::time_point now);

 private:
  struct Bucket {
    double tokens;
    Clock::time_point at;
  };
  double burst_;
  double per_second_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace kb::console
