#include "proxy/rate_limit.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace awf::proxy {
namespace {

constexpr std::int64_t kStart = 1'700'000'000'000;  // a Unix time in ms, on a minute boundary

RateLimits limits(std::uint64_t rpm, std::uint64_t rph, std::uint64_t bytes) {
  RateLimits l;
  l.per_minute = rpm;
  l.per_hour = rph;
  l.bytes_per_minute = bytes;
  return l;
}

TEST(RateLimiter, AdmitsUpToThePerMinuteLimitThenRefusesWithRetryAfter) {
  RateLimiter limiter(limits(3, 100, 1'000'000));
  EXPECT_FALSE(limiter.admit("openai", 10, kStart));
  EXPECT_FALSE(limiter.admit("openai", 10, kStart + 10'000));
  EXPECT_FALSE(limiter.admit("openai", 10, kStart + 20'000));
  const auto refused = limiter.admit("openai", 10, kStart + 30'000);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->kind, RateLimitKind::PerMinute);
  EXPECT_EQ(refused->limit, 3u);
  // The first request (at 0 s) leaves the window at 60 s: 30 s from now.
  EXPECT_EQ(refused->retry_after, 30u);
  EXPECT_EQ(refused->reset_at, kStart / 1000 + 60);
}

TEST(RateLimiter, ARefusedRequestIsNotCountedAndTheWindowSlides) {
  RateLimiter limiter(limits(2, 100, 1'000'000));
  EXPECT_FALSE(limiter.admit("openai", 0, kStart));
  EXPECT_FALSE(limiter.admit("openai", 0, kStart + 1'000));
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.admit("openai", 0, kStart + 2'000));
  // At 60 s the request from 0 s has left the window: one fits again, not two.
  EXPECT_FALSE(limiter.admit("openai", 0, kStart + 60'000));
  EXPECT_TRUE(limiter.admit("openai", 0, kStart + 60'500));
  // After a quiet minute and more, the whole window is empty.
  EXPECT_FALSE(limiter.admit("openai", 0, kStart + 200'000));
  EXPECT_FALSE(limiter.admit("openai", 0, kStart + 200'000));
}

TEST(RateLimiter, ProvidersHaveTheirOwnWindows) {
  RateLimiter limiter(limits(1, 100, 1'000'000));
  EXPECT_FALSE(limiter.admit("openai", 0, kStart));
  EXPECT_TRUE(limiter.admit("openai", 0, kStart));
  EXPECT_FALSE(limiter.admit("anthropic", 0, kStart));
}

TEST(RateLimiter, PerHourLimitCountsInMinutes) {
  RateLimiter limiter(limits(1000, 2, 1'000'000));
  EXPECT_FALSE(limiter.admit("gemini", 0, kStart));
  EXPECT_FALSE(limiter.admit("gemini", 0, kStart + 5 * 60'000));
  const auto refused = limiter.admit("gemini", 0, kStart + 10 * 60'000);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->kind, RateLimitKind::PerHour);
  EXPECT_EQ(refused->retry_after, 50u * 60);  // the first one leaves at 60 min
  EXPECT_FALSE(limiter.admit("gemini", 0, kStart + 60 * 60'000));
}

TEST(RateLimiter, BytesPerMinuteRefusesARequestThatWouldOverflow) {
  RateLimiter limiter(limits(1000, 1000, 100));
  EXPECT_FALSE(limiter.admit("openai", 60, kStart));
  const auto refused = limiter.admit("openai", 41, kStart + 1'000);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->kind, RateLimitKind::BytesPerMinute);
  EXPECT_EQ(refused->remaining, 40u);
  EXPECT_FALSE(limiter.admit("openai", 40, kStart + 1'000));  // exactly the limit fits
  // A single request larger than the limit is never admitted.
  EXPECT_TRUE(limiter.admit("copilot", 101, kStart));
}

TEST(RateLimiter, AClockThatGoesBackLosesNoRequest) {
  RateLimiter limiter(limits(2, 100, 1'000'000));
  EXPECT_FALSE(limiter.admit("openai", 0, kStart + 30'000));
  EXPECT_FALSE(limiter.admit("openai", 0, kStart));  // earlier than the last one
  EXPECT_TRUE(limiter.admit("openai", 0, kStart + 31'000));
}

TEST(RateLimitBody, IsAwfsJsonError) {
  RateRefusal refusal;
  refusal.kind = RateLimitKind::PerHour;
  refusal.limit = 10000;
  refusal.retry_after = 120;
  const auto body = nlohmann::json::parse(rate_limit_body("anthropic", refusal));
  EXPECT_EQ(body["error"]["type"], "rate_limit_error");
  EXPECT_EQ(body["error"]["provider"], "anthropic");
  EXPECT_EQ(body["error"]["limit"], 10000);
  EXPECT_EQ(body["error"]["window"], "per_hour");
  EXPECT_EQ(body["error"]["retry_after"], 120);
  EXPECT_EQ(body["error"]["message"],
            "Rate limit exceeded for anthropic provider. Limit: 10000 requests per hour. Retry "
            "after 120 seconds.");
  EXPECT_EQ(rate_limit_name(RateLimitKind::BytesPerMinute), "bytes_pm");
}

}  // namespace
}  // namespace awf::proxy
