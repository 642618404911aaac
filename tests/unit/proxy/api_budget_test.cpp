#include "proxy/api_budget.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace awf::proxy {
namespace {

using ::testing::HasSubstr;

nlohmann::json error_of(const BudgetRefusal& refusal) {
  return nlohmann::json::parse(refusal.body)["error"];
}

UsageRecord record_of(std::string provider, std::string model, TokenUsage usage) {
  UsageRecord record;
  record.provider = std::move(provider);
  record.model = std::move(model);
  record.status = 200;
  record.usage = usage;
  return record;
}

TokenUsage usage(std::uint64_t input, std::uint64_t output, std::uint64_t cache_read = 0,
                 std::uint64_t reasoning = 0) {
  TokenUsage u;
  u.input = input;
  u.output = output;
  u.cache_read = cache_read;
  u.reasoning = reasoning;
  return u;
}

TEST(ApiBudget, ParsesTheConfigKeysAndMaxTurnsWinsOverMaxRuns) {
  const BudgetConfig config = parse_budget_config(
      R"({"maxRuns": 500, "maxTurns": 7, "maxAiCredits": 12.5, "maxEffectiveTokens": 1000,
          "modelMultipliers": {"claude-opus-4.5": 3, "gpt-5-mini": 0.25},
          "defaultModelMultiplier": 2, "maxCacheMisses": 5, "models": {}})");
  EXPECT_EQ(config.max_runs, 7u);
  EXPECT_EQ(config.max_ai_credits, 12.5);
  EXPECT_EQ(config.max_effective_tokens, 1000u);
  ASSERT_EQ(config.multipliers.size(), 2u);
  EXPECT_EQ(config.multipliers[0], (std::pair<std::string, double>{"claude-opus-4.5", 3}));
  EXPECT_EQ(config.default_multiplier, 2.0);
  // The keys that have flags arrive through the flags, not here.
  EXPECT_FALSE(config.max_cache_misses);
  EXPECT_FALSE(parse_budget_config("").max_runs);
  EXPECT_FALSE(parse_budget_config(R"({"maxRuns": 3})").max_ai_credits);
  EXPECT_EQ(parse_budget_config(R"({"maxRuns": 3})").max_runs, 3u);
}

TEST(ApiBudget, BadValuesNameTheKey) {
  EXPECT_THROW(parse_budget_config(R"({"maxRuns": 0})"), std::invalid_argument);
  try {
    parse_budget_config(R"({"maxTurns": 2.5})");
    FAIL();
  } catch (const std::invalid_argument& error) {
    EXPECT_THAT(error.what(), HasSubstr("config.apiProxy.maxTurns"));
  }
  try {
    parse_budget_config(R"({"modelMultipliers": {"gpt-5": -1}})");
    FAIL();
  } catch (const std::invalid_argument& error) {
    EXPECT_THAT(error.what(), HasSubstr("config.apiProxy.modelMultipliers.gpt-5"));
  }
  EXPECT_THROW(parse_budget_config(R"({"maxAiCredits": "ten"})"), std::invalid_argument);
  EXPECT_THROW(parse_budget_config(R"({"maxEffectiveTokens": -5})"), std::invalid_argument);
}

TEST(ApiBudget, FlagMultipliersWinOverTheFiles) {
  std::vector<std::pair<std::string, double>> multipliers = {{"a", 1}, {"b", 2}};
  merge_multipliers(multipliers, {{"b", 5}, {"c", 3}});
  EXPECT_EQ(multipliers,
            (std::vector<std::pair<std::string, double>>{{"a", 1}, {"b", 5}, {"c", 3}}));
}

TEST(ApiBudget, InferenceRequestsAreAwfs) {
  EXPECT_TRUE(is_inference_request("POST", "/v1/chat/completions"));
  EXPECT_TRUE(is_inference_request("POST", "/chat/completions?x=1"));
  EXPECT_TRUE(is_inference_request("POST", "/serving/v1/chat/completions/"));
  EXPECT_TRUE(is_inference_request("POST", "/responses"));
  EXPECT_TRUE(is_inference_request("POST", "/v1/messages"));
  EXPECT_TRUE(is_inference_request("POST", "/v1beta/models/gemini-2.5-pro:generateContent"));
  EXPECT_TRUE(is_inference_request("POST", "/v1/models/g:streamGenerateContent?alt=sse"));
  EXPECT_FALSE(is_inference_request("GET", "/v1/chat/completions"));
  EXPECT_FALSE(is_inference_request("POST", "/v1/models"));
  EXPECT_FALSE(is_inference_request("POST", "/v1/messages/count_tokens"));
  EXPECT_FALSE(is_inference_request("POST", "/v1/embeddings"));
}

TEST(ApiBudget, MaxRunsCountsTwoHundredsOfModelCallsOnly) {
  BudgetConfig config;
  config.max_runs = 2;
  ApiBudget budget(config, {});
  EXPECT_FALSE(budget.check("openai", std::nullopt));
  budget.answered(true, 200);
  budget.answered(false, 200);  // GET /v1/models
  budget.answered(true, 500);   // a failed call
  budget.answered(true, 429);
  EXPECT_FALSE(budget.check("openai", std::nullopt));
  budget.answered(true, 201);
  const auto refused = budget.check("anthropic", std::nullopt);  // shared by the providers
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429);
  EXPECT_EQ(refused->type, "max_runs_exceeded");
  EXPECT_EQ(refused->body,
            R"({"error":{"type":"max_runs_exceeded","message":"Maximum LLM invocations exceeded )"
            R"((2 / 2).","invocation_count":2,"max_runs":2}})");
  EXPECT_THAT(refused->reason, HasSubstr("maxRuns of 2 reached"));
  EXPECT_THAT(refused->reason, HasSubstr("(max_runs_exceeded)"));
}

TEST(ApiBudget, PermissionDeniedCountsEvery401And403) {
  BudgetConfig config;
  config.max_permission_denied = 2;
  ApiBudget budget(config, {});
  budget.answered(false, 401);
  EXPECT_FALSE(budget.check("openai", std::nullopt));
  budget.answered(true, 403);
  const auto refused = budget.check("openai", std::nullopt);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  const auto error = error_of(*refused);
  EXPECT_EQ(error["type"], "permission_denied_limit_exceeded");
  EXPECT_EQ(error["denied_count"], 2);
  EXPECT_EQ(error["max_permission_denied"], 2);
  EXPECT_THAT(error["message"].get<std::string>(),
              HasSubstr("Permission denied limit exceeded (2 / 2). The run has been stopped"));
}

TEST(ApiBudget, CacheMissesCountInARowAndACacheReadEndsTheStreak) {
  BudgetConfig config;
  config.max_cache_misses = 2;
  ApiBudget budget(config, {});
  UsageRecord miss = record_of("anthropic", "claude-sonnet-4-5", usage(100, 10));
  UsageRecord hit = record_of("anthropic", "claude-sonnet-4-5", usage(100, 10, 50));
  UsageRecord no_input = record_of("anthropic", "claude-sonnet-4-5", usage(0, 10));
  budget.account(miss);
  budget.account(hit);
  budget.account(miss);
  budget.account(no_input);  // neither a miss nor a hit
  EXPECT_FALSE(budget.check("anthropic", std::nullopt));
  budget.account(miss);
  const auto refused = budget.check("openai", std::nullopt);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  EXPECT_EQ(error_of(*refused), nlohmann::json::parse(R"({"type":"max_cache_misses_exceeded",
              "message":"Maximum consecutive cache misses exceeded (2 / 2).",
              "consecutive_cache_misses":2,"max_cache_misses":2})"));
}

TEST(ApiBudget, AiCreditsPriceTheRecordsAndRefuseOnceTheMaxIsReached) {
  BudgetConfig config;
  config.max_ai_credits = 1;
  ApiBudget budget(config, {});
  // gpt-5.4 at AWF's prices: 0.46 credits for this usage (see usage_record_test).
  UsageRecord first = record_of("openai", "gpt-5.4", usage(1000, 200, 400, 50));
  budget.account(first);
  ASSERT_TRUE(first.price);
  EXPECT_NEAR(first.credits, 0.46, 1e-9);
  EXPECT_NEAR(first.credits_total, 0.46, 1e-9);
  EXPECT_FALSE(first.effective);  // only with maxEffectiveTokens
  UsageRecord second = first;
  budget.account(second);
  EXPECT_NEAR(second.credits_total, 0.92, 1e-9);
  EXPECT_FALSE(budget.check("openai", "gpt-5.4"));
  UsageRecord third = first;
  budget.account(third);
  const auto refused = budget.check("openai", "gpt-5.4");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  const auto error = error_of(*refused);
  EXPECT_EQ(error["type"], "ai_credits_limit_exceeded");
  EXPECT_EQ(error["message"], "Maximum AI credits exceeded (1.380000 / 1).");
  EXPECT_NEAR(error["total_ai_credits"].get<double>(), 1.38, 1e-9);
  EXPECT_EQ(error["max_ai_credits"], 1);
  EXPECT_EQ(error["hard_cap"], false);
}

TEST(ApiBudget, TheHardCapAppliesWithoutAMaximum) {
  ApiBudget budget({}, {});
  // 10000 credits = $100: 10M output tokens of a $10/1M model... use a configured default.
  PricingConfig pricing;
  pricing.default_price = AiPrice{0, 0, std::nullopt, 1'000'000};  // $1 per output token
  ApiBudget priced({}, pricing);
  UsageRecord record = record_of("openai", "some-model", usage(0, 99));
  priced.account(record);
  EXPECT_FALSE(priced.check("openai", std::nullopt));  // 9900 credits
  UsageRecord more = record_of("openai", "some-model", usage(0, 1));
  priced.account(more);
  const auto refused = priced.check("openai", std::nullopt);
  ASSERT_TRUE(refused);
  const auto error = error_of(*refused);
  EXPECT_EQ(error["hard_cap"], true);
  EXPECT_EQ(error["max_ai_credits"], 10000);
  EXPECT_THAT(error["message"].get<std::string>(), HasSubstr("Hard cap on AI credits reached"));
  EXPECT_FALSE(budget.check("openai", std::nullopt));
}

TEST(ApiBudget, UnderMaxAiCreditsAModelWithoutAPriceCostsTheUnknownModelsPrice) {
  BudgetConfig config;
  config.max_ai_credits = 100;
  ApiBudget budget(config, {});
  EXPECT_FALSE(budget.reads_model());
  EXPECT_FALSE(budget.check("openai", "my-private-model"));  // AWF: 400; awf: charged
  UsageRecord record = record_of("openai", "my-private-model", usage(1'000'000, 0));
  budget.account(record);
  ASSERT_TRUE(record.price);
  EXPECT_EQ(record.price->source, "builtin_fallback");
  EXPECT_TRUE(record.price->fallback);
  EXPECT_DOUBLE_EQ(record.credits, 300);  // $3 per 1M input tokens
  // Without the budget the record stays unpriced, as the usage accounting has it.
  ApiBudget none({}, {});
  UsageRecord plain = record_of("openai", "my-private-model", usage(1'000'000, 0));
  none.account(plain);
  EXPECT_FALSE(plain.price);
  // A configured default price wins.
  PricingConfig pricing;
  pricing.default_price = AiPrice{1, 0.1, std::nullopt, 2};
  ApiBudget with_default(config, pricing);
  UsageRecord priced = record_of("openai", "my-private-model", usage(1'000'000, 0));
  with_default.account(priced);
  EXPECT_EQ(priced.price->source, "configured_default");
  EXPECT_DOUBLE_EQ(priced.credits, 100);
}

TEST(ApiBudget, ModelMultipliersAreExactThenLongestPrefixThenTheDefault) {
  BudgetConfig config;
  config.multipliers = {{"claude-opus", 5}, {"claude-opus-4", 10}, {"gpt-5", 2}};
  EXPECT_EQ(model_multiplier(config, "gpt-5"), 2);
  EXPECT_EQ(model_multiplier(config, "gpt-5-mini"), 2);
  EXPECT_EQ(model_multiplier(config, "gpt-5.4"), 1);  // not a '-' extension
  EXPECT_EQ(model_multiplier(config, "claude-opus-4-5"), 10);
  EXPECT_EQ(model_multiplier(config, "claude-opus-3"), 5);
  config.default_multiplier = 0.5;
  EXPECT_EQ(model_multiplier(config, "other"), 0.5);
}

TEST(ApiBudget, EffectiveTokensWeighAndMultiplyAndGoIntoTheRecord) {
  EXPECT_DOUBLE_EQ(effective_tokens(usage(1000, 200, 400, 50), 1), 1000 + 40 + 800 + 200);
  EXPECT_DOUBLE_EQ(effective_tokens(usage(10, 1), 3), 3 * 14);
  BudgetConfig config;
  config.max_effective_tokens = 5000;
  config.multipliers = {{"gpt-5.4", 2}};
  ApiBudget budget(config, {});
  UsageRecord first = record_of("openai", "gpt-5.4", usage(1000, 200, 400, 50));
  budget.account(first);
  ASSERT_TRUE(first.effective);
  EXPECT_DOUBLE_EQ(first.effective->this_response, 4080);
  EXPECT_DOUBLE_EQ(first.effective->total, 4080);
  EXPECT_DOUBLE_EQ(first.effective->multiplier, 2);
  EXPECT_FALSE(budget.check("openai", std::nullopt));
  UsageRecord second = record_of("anthropic", "claude-x", usage(1000, 0));
  budget.account(second);
  EXPECT_DOUBLE_EQ(second.effective->total, 5080);
  const auto refused = budget.check("gemini", std::nullopt);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  EXPECT_EQ(error_of(*refused), nlohmann::json::parse(R"({"type":"effective_tokens_limit_exceeded",
              "message":"Maximum effective tokens exceeded (5080.00 / 5000).",
              "total_effective_tokens":5080,"max_effective_tokens":5000})"));
  // The record carries AWF's fields.
  const std::string line = format_usage_record(first);
  EXPECT_THAT(line, HasSubstr(R"("effective_tokens_this_response":4080,)"
                              R"("effective_tokens_total":4080,"model_multiplier":2,)"));
}

TEST(ApiBudget, TheMultiplierCapRefusesAModelAboveIt) {
  BudgetConfig config;
  config.max_multiplier_cap = 4;
  config.multipliers = {{"claude-opus-4", 10}, {"gpt-5-mini", 0.5}};
  ApiBudget budget(config, {});
  EXPECT_TRUE(budget.reads_model());
  EXPECT_FALSE(budget.check("openai", "gpt-5-mini"));
  EXPECT_FALSE(budget.check("openai", "unlisted"));  // default 1
  EXPECT_FALSE(budget.check("openai", std::nullopt));
  const auto refused = budget.check("anthropic", "claude-opus-4-5");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400);
  EXPECT_EQ(error_of(*refused), nlohmann::json::parse(R"({"type":"model_multiplier_cap_exceeded",
    "message":"Model multiplier cap exceeded: model \"claude-opus-4-5\" has multiplier 10 which exceeds the configured maximum of 4.",
    "model":"claude-opus-4-5","model_multiplier":10,"max_model_multiplier":4})"));
  // Copilot's "auto" picks its model at run time: refused unless it has a multiplier itself.
  const auto unverifiable = budget.check("copilot", "auto");
  ASSERT_TRUE(unverifiable);
  EXPECT_EQ(unverifiable->status, 400);
  EXPECT_EQ(error_of(*unverifiable)["type"], "model_multiplier_cap_unverifiable");
  EXPECT_TRUE(error_of(*unverifiable)["model_multiplier"].is_null());
  EXPECT_FALSE(budget.check("openai", "auto"));
  config.multipliers.emplace_back("auto", 1);
  EXPECT_FALSE(ApiBudget(config, {}).check("copilot", "auto"));
}

TEST(ApiBudget, OrderIsAwfsAndNoBudgetRefusesNothing) {
  BudgetConfig config;
  config.max_runs = 1;
  config.max_permission_denied = 1;
  ApiBudget budget(config, {});
  budget.answered(true, 200);
  budget.answered(false, 403);
  EXPECT_EQ(budget.check("openai", std::nullopt)->type, "max_runs_exceeded");
  ApiBudget none({}, {});
  for (int i = 0; i < 100; ++i) none.answered(true, i % 2 ? 200 : 403);
  EXPECT_FALSE(none.reads_model());
  EXPECT_FALSE(none.check("openai", "anything"));
  EXPECT_EQ(none.counts().runs, 50u);
}

}  // namespace
}  // namespace awf::proxy

namespace awf::proxy {
namespace {

TEST(TokenSteering, WarningsForTheHighestThresholdCrossedFirstThenTheOthers) {
  BudgetConfig config;
  config.max_effective_tokens = 10'000;
  config.token_steering = true;
  ApiBudget budget(config, {});
  EXPECT_FALSE(budget.take_steering_message());
  UsageRecord record = record_of("openai", "m", usage(7'900, 0));
  budget.account(record);
  EXPECT_FALSE(budget.take_steering_message());  // 79 %
  UsageRecord more = record_of("openai", "m", usage(200, 0));
  budget.account(more);  // 81 %
  EXPECT_EQ(budget.take_steering_message(),
            "[AWF TOKEN WARNING] You have used 80% of your effective token budget. Begin "
            "planning to wrap up your current work.");
  EXPECT_FALSE(budget.take_steering_message());  // given once
  UsageRecord jump = record_of("openai", "m", usage(1'850, 0));
  budget.account(jump);  // 99.5 %: 90, 95 and 99 at once
  EXPECT_THAT(*budget.take_steering_message(), HasSubstr("used 99%"));
  EXPECT_THAT(*budget.take_steering_message(), HasSubstr("used 95%"));
  EXPECT_THAT(*budget.take_steering_message(), HasSubstr("used 90%"));
  EXPECT_FALSE(budget.take_steering_message());
  // Off without the flag.
  config.token_steering = false;
  ApiBudget quiet(config, {});
  UsageRecord all = record_of("openai", "m", usage(10'000, 0));
  quiet.account(all);
  EXPECT_FALSE(quiet.take_steering_message());
}

TEST(TokenSteering, RunTimeWarningsCountFromTheStartAgainstTheAgentTimeout) {
  BudgetConfig config;
  config.token_steering = true;
  config.agent_timeout_minutes = 10;
  config.started_ms = 1'000'000;
  ApiBudget budget(config, {});
  EXPECT_FALSE(budget.take_time_warning(1'000'000 + 7 * 60'000));  // 70 %
  EXPECT_EQ(budget.take_time_warning(1'000'000 + 8 * 60'000),
            "[AWF TIME WARNING] You have used 80% of your allotted run time. Begin planning to "
            "wrap up your current work.");
  EXPECT_FALSE(budget.take_time_warning(1'000'000 + 8 * 60'000 + 1));
  EXPECT_THAT(*budget.take_time_warning(1'000'000 + 10 * 60'000), HasSubstr("used 99%"));
  EXPECT_THAT(*budget.take_time_warning(1'000'000 + 10 * 60'000), HasSubstr("used 95%"));
  EXPECT_FALSE(budget.take_steering_message());  // no effective-token budget
  config.agent_timeout_minutes = 0;
  EXPECT_FALSE(ApiBudget(config, {}).take_time_warning(1'000'000 + 60 * 60'000));
  config.agent_timeout_minutes = 10;
  config.token_steering = false;
  EXPECT_FALSE(ApiBudget(config, {}).take_time_warning(1'000'000 + 60 * 60'000));
}

TEST(TokenSteering, TheWarningGoesWhereEachProviderReadsInstructions) {
  EXPECT_EQ(
      inject_steering_message(
          R"({"model":"gpt","messages":[{"role":"system","content":"s"},{"role":"user","content":"u"}],"stream":true})",
          "openai", "W"),
      R"({"model":"gpt","messages":[{"role":"system","content":"s"},{"role":"system","content":"W"},{"role":"user","content":"u"}],"stream":true})");
  EXPECT_EQ(
      inject_steering_message(R"({"messages":[{"role":"user","content":"u"}]})", "copilot", "W"),
      R"({"messages":[{"role":"system","content":"W"},{"role":"user","content":"u"}]})");
  EXPECT_FALSE(inject_steering_message(R"({"input":"x"})", "openai", "W"));
  EXPECT_FALSE(inject_steering_message("not json", "openai", "W"));
  EXPECT_FALSE(inject_steering_message("[1]", "anthropic", "W"));
  // Too deep to re-serialise safely: no warning rather than a crash.
  EXPECT_FALSE(inject_steering_message(
      R"({"x":)" + std::string(500000, '[') + std::string(500000, ']') + "}", "anthropic", "W"));
  EXPECT_EQ(inject_steering_message(R"({"system":"be brief","model":"c"})", "anthropic", "W"),
            R"({"system":"be brief\n\nW","model":"c"})");
  EXPECT_EQ(inject_steering_message(R"({"system":[{"type":"text","text":"a"}]})", "anthropic", "W"),
            R"({"system":[{"type":"text","text":"a"},{"type":"text","text":"W"}]})");
  EXPECT_EQ(inject_steering_message(R"({"model":"c"})", "anthropic", "W"),
            R"({"model":"c","system":"W"})");
  EXPECT_EQ(inject_steering_message(R"({"contents":[]})", "gemini", "W"),
            R"({"contents":[],"systemInstruction":{"parts":[{"text":"W"}]}})");
  EXPECT_EQ(
      inject_steering_message(
          R"({"systemInstruction":{"role":"x","parts":[{"text":"a"}]},"contents":[]})", "gemini",
          "W"),
      R"({"systemInstruction":{"role":"x","parts":[{"text":"a"},{"text":"W"}]},"contents":[]})");
}

}  // namespace
}  // namespace awf::proxy
