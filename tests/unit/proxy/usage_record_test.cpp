#include "proxy/usage_record.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace awf::proxy {
namespace {

using Json = nlohmann::json;

TokenUsage tokens(std::uint64_t input, std::uint64_t output, std::uint64_t cache_read = 0,
                  std::uint64_t cache_write = 0, bool includes_cache = false) {
  TokenUsage usage;
  usage.input = input;
  usage.output = output;
  usage.cache_read = cache_read;
  usage.cache_write = cache_write;
  usage.input_includes_cache = includes_cache;
  return usage;
}

TEST(UsageRecord, FormatHasAwfsRequiredFieldsInOrder) {
  UsageRecord record;
  record.timestamp_ms = 1764000000123;
  record.request_id = "req-1";
  record.provider = "anthropic";
  record.model = "claude-sonnet-4-5";
  record.path = "/v1/messages";
  record.status = 200;
  record.streaming = true;
  record.usage = tokens(10, 20, 30, 40);
  record.usage.reasoning = 5;
  record.duration_ms = 812;
  record.response_bytes = 4096;
  const std::string line = format_usage_record(record);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_TRUE(line.starts_with(
      R"({"_schema":"token-usage/v0.28.0","timestamp":"2025-11-24T16:00:00.123Z",)"
      R"("event":"token_usage","request_id":"req-1","provider":"anthropic",)"
      R"("model":"claude-sonnet-4-5","path":"/v1/messages","status":200,"streaming":true,)"
      R"("input_tokens":10,"output_tokens":20,"cache_read_tokens":30,"cache_write_tokens":40,)"
      R"("duration_ms":812,)"))
      << line;
  const Json json = Json::parse(line);
  EXPECT_EQ(json["response_bytes"], 4096);
  EXPECT_EQ(json["reasoning_tokens"], 5);
  EXPECT_FALSE(json.contains("ai_credits_this_response"));  // no price chosen
}

TEST(UsageRecord, CreditFieldsWhenPriced) {
  UsageRecord record;
  record.provider = "openai";
  record.model = "gpt-5.4";
  record.status = 200;
  record.price = choose_price({}, "openai", "gpt-5.4");
  record.credits = 0.125;
  record.credits_total = 2;
  const Json json = Json::parse(format_usage_record(record));
  EXPECT_EQ(json["ai_credits_this_response"], 0.125);
  EXPECT_EQ(json["ai_credits_total"].dump(), "2");
  EXPECT_EQ(json["ai_credits_pricing_source"], "curated");
  EXPECT_EQ(json["ai_credits_pricing_tier"], "default");
  EXPECT_EQ(json["ai_credits_accounting_policy"], "concrete_model");
  EXPECT_EQ(json["ai_credits_fallback_pricing_used"], false);
  EXPECT_FALSE(json.contains("ai_credits_dynamic_selector"));
}

TEST(UsageRecord, HostileModelNameStaysOneLine) {
  UsageRecord record;
  record.model = "x\n\"}\xff";
  const std::string line = format_usage_record(record);
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  EXPECT_FALSE(Json::parse(line, nullptr, false).is_discarded());
}

TEST(UsageRecord, ChoosesTablePricesByCanonicalNameAndPrefix) {
  const PricingConfig none;
  ASSERT_TRUE(choose_price(none, "anthropic", "claude-sonnet-4-5"));
  EXPECT_EQ(choose_price(none, "anthropic", "claude-sonnet-4-5")->price.output, 15.0);
  // '.' as '-', provider prefix and date suffix dropped.
  EXPECT_EQ(choose_price(none, "copilot", "copilot/claude-opus-4.7")->price.input, 5.0);
  EXPECT_EQ(choose_price(none, "openai", "gpt-5-codex-mini-alpha-2025-11-07")->price.input, 0.25);
  EXPECT_EQ(choose_price(none, "anthropic", "claude-haiku-4-5-20251001")->price.input, 1.0);
  // Longest prefix: gpt-5.4-mini-high is gpt-5.4-mini, not gpt-5.4.
  EXPECT_EQ(choose_price(none, "openai", "gpt-5.4-mini-high")->price.input, 0.75);
  EXPECT_FALSE(choose_price(none, "openai", "gpt-4o"));
  EXPECT_FALSE(choose_price(none, "openai", "gpt-5.45"));
}

TEST(UsageRecord, FallbacksInAwfsOrder) {
  PricingConfig config;
  config.default_price = AiPrice{1, 0.1, std::nullopt, 2};
  const auto chosen = choose_price(config, "openai", "gpt-4o");
  ASSERT_TRUE(chosen);
  EXPECT_EQ(chosen->source, "configured_default");
  EXPECT_TRUE(chosen->fallback);
  const auto unknown = choose_price({}, "openai", "unknown");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->source, "builtin_fallback");
  EXPECT_EQ(unknown->policy, "unknown_model_fallback");
  const auto selector = choose_price({}, "copilot", "Auto");
  ASSERT_TRUE(selector);
  EXPECT_EQ(selector->dynamic_selector, "copilot:auto");
  EXPECT_EQ(selector->price.output, 50.0);
  EXPECT_FALSE(choose_price({}, "openai", "auto"));
}

TEST(UsageRecord, ConfiguredProviderPriceWinsThroughAliases) {
  const PricingConfig config = parse_pricing_config(
      R"({"providers":{"github":{"models":{"claude-sonnet-4.5":{"cost":{"input":"0.000002",
      "output":0.00001,"cache_write":0.000004}}}}}})");
  ASSERT_EQ(config.models.size(), 1u);
  const auto chosen = choose_price(config, "copilot", "Claude-Sonnet-4-5");
  ASSERT_TRUE(chosen);
  EXPECT_EQ(chosen->source, "operator");
  EXPECT_DOUBLE_EQ(chosen->price.input, 2.0);
  EXPECT_DOUBLE_EQ(chosen->price.output, 10.0);
  EXPECT_DOUBLE_EQ(chosen->price.cached_input, 0.2);
  EXPECT_DOUBLE_EQ(*chosen->price.cache_write, 4.0);
  // Another provider's listing does not apply.
  EXPECT_EQ(choose_price(config, "anthropic", "claude-sonnet-4-5")->source, "curated");
}

TEST(UsageRecord, ParsesDefaultPricing) {
  const PricingConfig config =
      parse_pricing_config(R"({"defaultAiCreditsPricing":{"input":3,"output":15}})");
  ASSERT_TRUE(config.default_price);
  EXPECT_DOUBLE_EQ(config.default_price->cached_input, 0.3);
  EXPECT_FALSE(config.default_price->cache_write);
  EXPECT_FALSE(parse_pricing_config("").default_price);
}

TEST(UsageRecord, RefusesBadPricingNamingTheKey) {
  const auto message = [](const char* json) {
    try {
      parse_pricing_config(json);
    } catch (const std::invalid_argument& error) {
      return std::string(error.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(
      message(R"({"providers":{"openai":{"models":{"m":{"cost":{"input":-1,"output":1}}}}}})"),
      "config.apiProxy.providers.openai.models.m.cost.input must be a price in dollars per "
      "token, a number >= 0 (got -1)");
  EXPECT_NE(message(R"({"providers":{"openai":{"models":{"m":{"cost":{"input":1}}}}}})")
                .find("config.apiProxy.providers.openai.models.m.cost must be an object"),
            std::string::npos);
  EXPECT_NE(message(R"({"providers":{"openai":{"models":[]}}})")
                .find("config.apiProxy.providers.openai.models must be"),
            std::string::npos);
  EXPECT_NE(message(R"({"defaultAiCreditsPricing":{"input":"x","output":1}})")
                .find("config.apiProxy.defaultAiCreditsPricing.input"),
            std::string::npos);
  // Entries without a cost, and providers without models, are other settings.
  EXPECT_EQ(message(R"({"providers":{"openai":{"baseUrl":"x","models":{"m":{"limit":1}}}}})"),
            "accepted");
}

TEST(UsageRecord, CreditsOpenAiShapeTakesCachedOutOfInput) {
  // gpt-5.4: input 2.50, cached 0.25, output 15.00 $/1M; 1 credit = $0.01.
  const AiPrice price = choose_price({}, "openai", "gpt-5.4")->price;
  const double credits = ai_credits(tokens(1'000'000, 100'000, 400'000, 0, true), "openai", price);
  // 600k fresh * 2.5 + 400k * 0.25 + 100k * 15 = 1.5 + 0.1 + 1.5 dollars = 310 credits.
  EXPECT_DOUBLE_EQ(round_credits(credits), 310.0);
}

TEST(UsageRecord, CreditsAnthropicCountsCacheApart) {
  const AiPrice price = choose_price({}, "anthropic", "claude-sonnet-4-5")->price;
  const double credits = ai_credits(tokens(1'000'000, 0, 1'000'000, 1'000'000), "anthropic", price);
  // 3 + 0.30 + 3.75 dollars.
  EXPECT_DOUBLE_EQ(round_credits(credits), 705.0);
  // No cache-write price: those tokens are free.
  const AiPrice no_write{1, 0.1, std::nullopt, 1};
  EXPECT_DOUBLE_EQ(ai_credits(tokens(0, 0, 0, 1'000'000), "anthropic", no_write), 0.0);
}

TEST(UsageRecord, RoundsToSixDecimals) {
  EXPECT_DOUBLE_EQ(round_credits(0.0000004), 0.0);
  EXPECT_DOUBLE_EQ(round_credits(0.1234566), 0.123457);
}

TEST(UsageRecord, RequestIdRule) {
  EXPECT_TRUE(valid_request_id("abc-DEF_1.2"));
  EXPECT_TRUE(valid_request_id(std::string(128, 'a')));
  EXPECT_FALSE(valid_request_id(std::string(129, 'a')));
  EXPECT_FALSE(valid_request_id(""));
  EXPECT_FALSE(valid_request_id("a b"));
  EXPECT_FALSE(valid_request_id("a\nb"));
}

}  // namespace
}  // namespace awf::proxy
