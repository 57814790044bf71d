#include "console/rate_limit.h"

#include <algorithm>
#include <cmath>

namespace kb::console {

RateLimiter::RateLimiter(std::uint32_t burst, std::uint32_t per_minute)
    : burst_(std::max<std::uint32_t>(burst, 1)),
      per_second_(std::max<std::uint32_t>(per_minute, 1) / 60.0) {}

std::optional<std::uint32_t> RateLimiter::take(const std::string& who, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto [it, fresh] = buckets_.try_emplace(who, Bucket{burst_, now});
  Bucket& b = it->second;
  if (!fresh && now > b.at) {
    const double elapsed = std::chrono::duration<double>(now - b.at).count();
    b.tokens = std::min(burst_, b.tokens + elapsed * per_second_);
    b.at = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return std::nullopt;
  }
  const double wait = (1.0 - b.tokens) / per_second_;
  return static_cast<std::uint32_t>(std::max(1.0, std::ceil(wait)));
}

}  // namespace kb::console
