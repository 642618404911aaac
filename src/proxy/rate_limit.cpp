#include "proxy/rate_limit.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace awf::proxy {

void SlidingWindow::advance(std::int64_t now) {
  if (!last_) {
    last_ = now;
    return;
  }
  const std::int64_t elapsed = now - *last_;
  if (elapsed <= 0) return;  // the same slot, or a clock that went back: nothing expires
  if (elapsed >= kSlots) {
    counts_.fill(0);
    total_ = 0;
  } else {
    for (std::int64_t step = 1; step <= elapsed; ++step) {
      std::uint64_t& slot = counts_[static_cast<std::size_t>((*last_ + step) % kSlots)];
      total_ -= slot;
      slot = 0;
    }
  }
  last_ = now;
}

std::uint64_t SlidingWindow::count(std::int64_t now) {
  advance(now);
  return total_;
}

void SlidingWindow::add(std::int64_t now, std::uint64_t value) {
  advance(now);
  // A clock that went back counts in the newest slot: the window never loses a request.
  const std::int64_t unit = std::max(now, *last_);
  counts_[static_cast<std::size_t>(unit % kSlots)] += value;
  total_ += value;
}

std::uint64_t SlidingWindow::units_until_below(std::int64_t now, std::uint64_t limit) const {
  std::uint64_t freed = 0;
  for (std::int64_t age = kSlots - 1; age >= 0; --age) {
    const std::int64_t unit = now - age;
    freed += counts_[static_cast<std::size_t>(((unit % kSlots) + kSlots) % kSlots)];
    if (total_ - freed < limit) return static_cast<std::uint64_t>(kSlots - age);
  }
  return kSlots;
}

std::optional<RateRefusal> RateLimiter::admit(std::string_view provider,
                                              std::uint64_t request_bytes, std::int64_t now_ms) {
  const std::lock_guard lock(mutex_);
  auto it = providers_.find(provider);
  if (it == providers_.end()) it = providers_.emplace(std::string(provider), Windows{}).first;
  Windows& windows = it->second;
  // Unix time is never negative here; the floor keeps the slot arithmetic simple.
  const std::int64_t second = std::max<std::int64_t>(now_ms, 0) / 1000;
  const std::int64_t minute = second / 60;

  RateRefusal refusal;
  if (windows.requests_minute.count(second) >= limits_.per_minute) {
    refusal.kind = RateLimitKind::PerMinute;
    refusal.limit = limits_.per_minute;
    refusal.retry_after = windows.requests_minute.units_until_below(second, limits_.per_minute);
  } else if (windows.requests_hour.count(minute) >= limits_.per_hour) {
    refusal.kind = RateLimitKind::PerHour;
    refusal.limit = limits_.per_hour;
    refusal.retry_after = 60 * windows.requests_hour.units_until_below(minute, limits_.per_hour);
  } else if (const std::uint64_t bytes = windows.bytes_minute.count(second);
             bytes + request_bytes > limits_.bytes_per_minute) {
    refusal.kind = RateLimitKind::BytesPerMinute;
    refusal.limit = limits_.bytes_per_minute;
    refusal.remaining = limits_.bytes_per_minute > bytes ? limits_.bytes_per_minute - bytes : 0;
    refusal.retry_after =
        windows.bytes_minute.units_until_below(second, limits_.bytes_per_minute);
  } else {
    windows.requests_minute.add(second, 1);
    windows.requests_hour.add(minute, 1);
    if (request_bytes > 0) windows.bytes_minute.add(second, request_bytes);
    return std::nullopt;
  }
  refusal.reset_at = second + static_cast<std::int64_t>(refusal.retry_after);
  return refusal;
}

std::string_view rate_limit_name(RateLimitKind kind) {
  switch (kind) {
    case RateLimitKind::PerMinute:
      return "rpm";
    case RateLimitKind::PerHour:
      return "rph";
    case RateLimitKind::BytesPerMinute:
      return "bytes_pm";
  }
  return "rpm";
}

std::string rate_limit_body(std::string_view provider, const RateRefusal& refusal) {
  std::string_view label = "requests per minute";
  std::string_view window = "per_minute";
  if (refusal.kind == RateLimitKind::PerHour) {
    label = "requests per hour";
    window = "per_hour";
  } else if (refusal.kind == RateLimitKind::BytesPerMinute) {
    label = "bytes per minute";
    window = "per_minute_bytes";
  }
  const std::string name(provider);
  nlohmann::ordered_json error = {
      {"type", "rate_limit_error"},
      {"message", "Rate limit exceeded for " + name + " provider. Limit: " +
                      std::to_string(refusal.limit) + " " + std::string(label) +
                      ". Retry after " + std::to_string(refusal.retry_after) + " seconds."},
      {"provider", name},
      {"limit", refusal.limit},
      {"window", window},
      {"retry_after", refusal.retry_after}};
  return nlohmann::ordered_json{{"error", error}}.dump();
}

}  // namespace awf::proxy
