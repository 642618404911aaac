#include "proxy/api_reflect.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace awf::proxy {
namespace {

TEST(ApiReflect, AwfShapeWithoutKeys) {
  std::array<bool, kProviderCount> configured{};
  configured[static_cast<std::size_t>(Provider::Copilot)] = true;
  const auto reflect = nlohmann::json::parse(reflect_json(configured, R"({"agent":["gpt-5"]})", BudgetConfig{}));
  ASSERT_EQ(reflect["endpoints"].size(), kProviderCount);
  const auto& copilot = reflect["endpoints"][2];
  EXPECT_EQ(copilot["provider"], "copilot");
  EXPECT_EQ(copilot["port"], 10002);
  EXPECT_EQ(copilot["base_url"], "http://api-proxy:10002");
  EXPECT_EQ(copilot["configured"], true);
  EXPECT_TRUE(copilot["models"].is_null());
  EXPECT_EQ(copilot["models_url"], "http://api-proxy:10002/models");
  EXPECT_EQ(reflect["endpoints"][0]["models_url"], "http://api-proxy:10000/v1/models");
  EXPECT_EQ(reflect["endpoints"][0]["configured"], false);
  EXPECT_TRUE(reflect["endpoints"][4]["models_url"].is_null());  // Vertex: no list
  EXPECT_EQ(reflect["endpoints"][4]["provider"], "vertex");
  EXPECT_EQ(reflect["models_fetch_complete"], false);
  EXPECT_EQ(reflect["model_aliases"]["agent"][0], "gpt-5");
  EXPECT_TRUE(nlohmann::json::parse(reflect_json(configured, "", BudgetConfig{}))["model_aliases"].is_null());
}

// AWF's guards' reflect states: off, then on with what the run counted.
TEST(ApiReflect, BudgetCountersAsAwfReportsThem) {
  const std::array<bool, kProviderCount> configured{};
  const std::string base = reflect_json(configured, "", BudgetConfig{});
  const auto start = nlohmann::json::parse(base);
  EXPECT_EQ(start["runs"], nlohmann::json::parse(
                               R"({"enabled":false,"max_runs":null,"invocation_count":0,
                                   "remaining_runs":null})"));
  EXPECT_EQ(start["cache_misses"]["enabled"], false);
  EXPECT_TRUE(start["cache_misses"]["remaining_cache_misses"].is_null());
  EXPECT_EQ(start["permission_denied"],
            nlohmann::json::parse(
                R"({"enabled":false,"max_permission_denied":null,"denied_count":0})"));
  EXPECT_EQ(start["ai_credits"], nlohmann::json::parse(R"({"total":0.0,"by_model":{}})"));

  BudgetConfig budget;
  budget.max_runs = 5;
  budget.max_cache_misses = 2;
  budget.max_permission_denied = 3;
  BudgetCounts counts;
  counts.runs = 2;
  counts.cache_misses = 3;
  counts.permission_denied = 1;
  counts.ai_credits = 1.23456789;
  counts.credits_by_model = {{"gpt-5", 1.0}, {"claude-x", 0.23456789}};
  ModelLists models;
  models[0] = std::vector<std::string>{"gpt-5", "gpt-5-mini"};
  models[1] = std::vector<std::string>{};  // a failed fetch: nothing discovered
  const auto live = nlohmann::json::parse(reflect_live(base, models, budget, counts));
  EXPECT_EQ(live["runs"], nlohmann::json::parse(
                              R"({"enabled":true,"max_runs":5,"invocation_count":2,
                                  "remaining_runs":3})"));
  EXPECT_EQ(live["cache_misses"],
            nlohmann::json::parse(R"({"enabled":true,"max_cache_misses":2,
                                      "consecutive_cache_misses":3,"remaining_cache_misses":0})"));
  EXPECT_EQ(live["permission_denied"]["denied_count"], 1);
  EXPECT_EQ(live["ai_credits"]["total"], 1.234568);
  EXPECT_EQ(live["ai_credits"]["by_model"]["claude-x"]["total"], 0.234568);
  EXPECT_EQ(live["endpoints"][0]["models"], nlohmann::json::parse(R"(["gpt-5","gpt-5-mini"])"));
  EXPECT_TRUE(live["endpoints"][1]["models"].is_null());
  EXPECT_EQ(live["endpoints"][2], start["endpoints"][2]);
}

}  // namespace
}  // namespace awf::proxy
