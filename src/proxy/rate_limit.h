// The API proxy's rate limits (--rate-limit-rpm, --rate-limit-rph, --rate-limit-bytes-pm):
// per provider, requests per minute, requests per hour and request bytes per minute, counted
// in sliding windows (60 one-second slots for the minute, 60 one-minute slots for the hour),
// as AWF's api-proxy counts them. No I/O: the caller passes the clock. A refused request is
// not counted. One limiter serves every gateway worker (admit() takes a lock).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace awf::proxy {

struct RateLimits {
  // AWF's defaults for a limit left out when another one is given.
  std::uint64_t per_minute = 600;
  std::uint64_t per_hour = 10000;
  std::uint64_t bytes_per_minute = 50ull * 1024 * 1024;
};

enum class RateLimitKind : std::uint8_t { PerMinute, PerHour, BytesPerMinute };

struct RateRefusal {
  RateLimitKind kind = RateLimitKind::PerMinute;
  std::uint64_t limit = 0;
  std::uint64_t remaining = 0;    // what is left of the limit (bytes: the window's capacity)
  std::uint64_t retry_after = 0;  // seconds until the window has room again (at least 1)
  std::int64_t reset_at = 0;      // Unix seconds: now + retry_after
};

// Counts in `Slots` slots of one time unit each; the window covers the last `Slots` units.
class SlidingWindow {
 public:
  static constexpr std::int64_t kSlots = 60;

  std::uint64_t count(std::int64_t now);
  void add(std::int64_t now, std::uint64_t value);
  // Units until enough of the oldest slots have expired for the total to drop below `limit`.
  std::uint64_t units_until_below(std::int64_t now, std::uint64_t limit) const;

 private:
  void advance(std::int64_t now);

  std::array<std::uint64_t, kSlots> counts_{};
  std::uint64_t total_ = 0;
  std::optional<std::int64_t> last_;
};

class RateLimiter {
 public:
  explicit RateLimiter(RateLimits limits) : limits_(limits) {}

  // One request of `request_bytes` to `provider` at `now_ms` (Unix milliseconds): counted
  // and nullopt when every limit has room, else the limit it would exceed (not counted).
  std::optional<RateRefusal> admit(std::string_view provider, std::uint64_t request_bytes,
                                   std::int64_t now_ms);

 private:
  struct Windows {
    SlidingWindow requests_minute;  // one-second slots
    SlidingWindow requests_hour;    // one-minute slots
    SlidingWindow bytes_minute;     // one-second slots
  };

  const RateLimits limits_;
  std::mutex mutex_;
  std::map<std::string, Windows, std::less<>> providers_;
};

// The 429 answer's JSON body, worded as AWF's:
// {"error":{"type":"rate_limit_error","message":"Rate limit exceeded for openai provider.
//  Limit: 600 requests per minute. Retry after 12 seconds.","provider":"openai","limit":600,
//  "window":"per_minute","retry_after":12}}
std::string rate_limit_body(std::string_view provider, const RateRefusal& refusal);

// "rpm", "rph" or "bytes_pm": the record's name for the limit.
std::string_view rate_limit_name(RateLimitKind kind);

}  // namespace awf::proxy
