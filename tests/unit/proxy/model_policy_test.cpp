#include "proxy/model_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace awf::proxy {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string policy_error(std::string_view json) {
  try {
    parse_model_policy(json);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "<no error>";
}

TEST(ModelPolicy, ParsesAwfKeys) {
  const ModelPolicy policy = parse_model_policy(R"({"maxRuns": 3,
      "models": {"agent": ["copilot/claude-sonnet-4.6", "small"],
                 "small": ["openai/gpt-5-mini"]},
      "allowedModels": ["gpt-*"], "disallowedModels": ["*opus*"], "requestedModel": "agent"})");
  ASSERT_EQ(policy.aliases.size(), 2u);
  EXPECT_EQ(policy.aliases[0].name, "agent");
  EXPECT_THAT(policy.aliases[0].patterns, ElementsAre("copilot/claude-sonnet-4.6", "small"));
  EXPECT_THAT(policy.aliases[1].patterns, ElementsAre("openai/gpt-5-mini"));
  EXPECT_THAT(policy.allowed, ElementsAre("gpt-*"));
  EXPECT_THAT(policy.disallowed, ElementsAre("*opus*"));
  EXPECT_EQ(policy.requested_model, "agent");
  EXPECT_THAT(policy.aliases_json, HasSubstr(R"("agent":["copilot/claude-sonnet-4.6","small"])"));
  EXPECT_FALSE(policy.inactive());
  EXPECT_TRUE(parse_model_policy("").inactive());
  EXPECT_TRUE(parse_model_policy(R"({"maxRuns": 3})").inactive());
}

TEST(ModelPolicy, BadValuesNameTheirKey) {
  EXPECT_THAT(policy_error(R"({"models": ["a"]})"), HasSubstr("config.apiProxy.models must"));
  EXPECT_THAT(policy_error(R"({"models": {"a": "gpt"}})"), HasSubstr("config.apiProxy.models.a"));
  EXPECT_THAT(policy_error(R"({"models": {"a": [1]}})"), HasSubstr("non-empty strings"));
  EXPECT_THAT(policy_error(R"({"models": {"a": {"patterns": ["x"]}}})"),
              HasSubstr("config.apiProxy.models.a must be a list"));
  EXPECT_THAT(policy_error(R"({"allowedModels": "gpt-*"})"),
              HasSubstr("config.apiProxy.allowedModels"));
  EXPECT_THAT(policy_error(R"({"disallowedModels": [""]})"),
              HasSubstr("config.apiProxy.disallowedModels"));
  EXPECT_THAT(policy_error(R"({"requestedModel": 5})"),
              HasSubstr("config.apiProxy.requestedModel"));
}

TEST(ModelPolicy, GlobsAsAwf) {
  EXPECT_TRUE(model_glob_match("*opus*", "claude-OPUS-4"));
  EXPECT_TRUE(model_glob_match("gpt-5*", "gpt-5"));
  EXPECT_TRUE(model_glob_match("*", ""));
  EXPECT_FALSE(model_glob_match("gpt-5", "gpt-5-mini"));
  EXPECT_FALSE(model_glob_match("gpt-?", "gpt-5"));  // '?' is literal
  EXPECT_TRUE(model_glob_match("gpt-?", "gpt-?"));
  EXPECT_TRUE(model_glob_match("a*b*c", "aXbYbZc"));
  EXPECT_FALSE(model_glob_match("a*b*c", "aXbYbZ"));
  EXPECT_TRUE(model_glob_match(std::string(50, '*') + "x", std::string(5000, 'a') + "x"));
}

TEST(ModelPolicy, RefusalsAsAwf) {
  ModelPolicy policy = parse_model_policy(R"({"disallowedModels": ["*opus*"]})");
  EXPECT_EQ(check_model(policy, "claude-opus-4")->reason, "disallowed");
  EXPECT_FALSE(check_model(policy, "claude-sonnet-4"));
  EXPECT_EQ(check_model(policy, "Auto")->reason, "dynamic_model_unverifiable");
  EXPECT_FALSE(check_model(policy, ""));
  policy =
      parse_model_policy(R"({"allowedModels": ["gpt-*", "auto"], "disallowedModels": ["gpt-4*"]})");
  EXPECT_EQ(check_model(policy, "claude-x")->reason, "not_allowed");
  EXPECT_EQ(check_model(policy, "gpt-4o")->reason, "disallowed");  // deny beats allow
  EXPECT_FALSE(check_model(policy, "gpt-5"));
  EXPECT_FALSE(check_model(policy, "auto"));  // allowed by name
  const auto body =
      nlohmann::json::parse(model_refusal_json(ModelRefusal{"claude-opus-4", "disallowed"}));
  EXPECT_EQ(body["error"]["type"], "model_policy_violation");
  EXPECT_EQ(body["error"]["model"], "claude-opus-4");
  EXPECT_EQ(body["error"]["reason"], "disallowed");
  EXPECT_EQ(body["error"]["message"],
            "Model 'claude-opus-4' is not permitted: it is explicitly disallowed by the model "
            "policy.");
}

TEST(ModelPolicy, AliasesResolvePerProvider) {
  const ModelPolicy policy = parse_model_policy(R"({"models": {
      "agent": ["copilot/claude-sonnet-4.5", "copilot/claude-sonnet-4.6", "openai/gpt-5", "small"],
      "small": ["openai/gpt-5-mini", "anthropic/claude-*"],
      "loop": ["loop", "again"], "again": ["loop", "openai/o3"]},
      "disallowedModels": ["*4.6*"]})");
  EXPECT_EQ(resolve_model_alias(policy, "copilot", "AGENT"), "claude-sonnet-4.5");  // 4.6 refused
  EXPECT_EQ(resolve_model_alias(policy, "openai", "agent"), "gpt-5");  // highest version first
  EXPECT_EQ(resolve_model_alias(policy, "openai", "small"), "gpt-5-mini");
  EXPECT_EQ(resolve_model_alias(policy, "anthropic", "small"), std::nullopt);  // a glob only
  EXPECT_EQ(resolve_model_alias(policy, "gemini", "agent"), std::nullopt);
  EXPECT_EQ(resolve_model_alias(policy, "openai", "gpt-5"), std::nullopt);  // not an alias
  EXPECT_EQ(resolve_model_alias(policy, "openai", "loop"), "o3");           // the cycle ends
}

TEST(ModelPolicy, AliasesWithTheProvidersModelList) {
  const ModelPolicy policy = parse_model_policy(R"({"models": {
      "agent": ["sonnet", "openai/gpt-5*"], "sonnet": ["copilot/claude-sonnet-*"],
      "fixed": ["copilot/claude-opus-9"]}, "disallowedModels": ["*4.6*"]})");
  const std::vector<std::string> copilot = {"claude-sonnet-4.5", "claude-sonnet-4.6", "gpt-5",
                                            "agent"};
  EXPECT_TRUE(alias_needs_catalog(policy, "copilot", "agent"));
  EXPECT_FALSE(alias_needs_catalog(policy, "copilot", "fixed"));
  EXPECT_FALSE(alias_needs_catalog(policy, "copilot", "gpt-5"));
  EXPECT_EQ(resolve_model_alias(policy, "copilot", "sonnet"), std::nullopt);  // globs only
  EXPECT_EQ(resolve_model_alias(policy, "copilot", "sonnet", &copilot), "claude-sonnet-4.5");
  const std::vector<std::string> openai = {"gpt-5", "gpt-5.2", "gpt-4o"};
  EXPECT_EQ(resolve_model_alias(policy, "openai", "agent", &openai), "gpt-5.2");
  // A literal the list lacks is no candidate; a listed name is used as it is.
  EXPECT_EQ(resolve_model_alias(policy, "copilot", "fixed", &copilot), std::nullopt);
  EXPECT_EQ(resolve_model_alias(policy, "copilot", "agent", &copilot), std::nullopt);
}

TEST(ModelPolicy, ModelListsOfEachWireFormat) {
  EXPECT_THAT(parse_model_list(R"({"object":"list","data":[{"id":"gpt-5"},{"id":"o3"},{"x":1}]})"),
              ElementsAre("gpt-5", "o3"));
  EXPECT_THAT(parse_model_list(R"({"models":[{"name":"models/gemini-2.5-pro"},{"name":5}]})"),
              ElementsAre("gemini-2.5-pro"));
  EXPECT_THAT(parse_model_list(R"({"data":[{"id":"a/b"},{"id":"x?y"},{"id":"ok-1.5"}]})"),
              ElementsAre("ok-1.5"));
  EXPECT_TRUE(parse_model_list("[]").empty());
  EXPECT_TRUE(parse_model_list(R"({"data":{"id":"x"}})").empty());
  EXPECT_TRUE(parse_model_list("not json").empty());
  ModelCatalogs catalogs;
  EXPECT_FALSE(catalogs.get(1));
  catalogs.put(1, {"a"});
  EXPECT_THAT(*catalogs.get(1), ElementsAre("a"));
}

TEST(ModelPolicy, RequestModelFromBodyOrPath) {
  auto model = request_model("POST", "/v1/chat/completions", R"({"model":"gpt-5","n":1})");
  ASSERT_TRUE(model);
  EXPECT_EQ(model->model, "gpt-5");
  EXPECT_FALSE(model->in_path);
  EXPECT_FALSE(request_model("GET", "/v1/models", ""));
  EXPECT_FALSE(request_model("POST", "/v1/x", "not json"));
  EXPECT_FALSE(request_model("POST", "/v1/x", R"({"model": 5})"));
  EXPECT_EQ(request_model("POST", "/v1/x", R"({"n": 1})")->model, "");  // AWF's default alias
  model = request_model("POST", "/v1beta/models/gemini-2.5%2Dpro:generateContent?alt=sse", "{}");
  ASSERT_TRUE(model);
  EXPECT_EQ(model->model, "gemini-2.5-pro");
  EXPECT_TRUE(model->in_path);
  model = request_model(
      "POST",
      "/v1/projects/p/locations/l/publishers/google/models/gemini-pro:streamGenerateContent",
      R"({"contents":[]})");
  EXPECT_EQ(model->model, "gemini-pro");
  EXPECT_FALSE(request_model("GET", "/v1beta/models/", ""));
}

TEST(ModelPolicy, ReplaceKeepsTheRestOfTheRequest) {
  std::string path = "/v1/chat/completions";
  std::string body = R"({"stream":true,"model":"agent","messages":[{"role":"user"}],"t":0.5})";
  replace_request_model({"agent", false}, "gpt-5", path, body);
  EXPECT_EQ(body, R"({"stream":true,"model":"gpt-5","messages":[{"role":"user"}],"t":0.5})");
  EXPECT_EQ(path, "/v1/chat/completions");
  body = R"({"n":1})";
  replace_request_model({"", false}, "gpt-5", path, body);
  EXPECT_EQ(body, R"({"n":1,"model":"gpt-5"})");
  path = "/v1beta/models/fast:generateContent?alt=sse";
  body = "{}";
  replace_request_model({"fast", true}, "gemini-2.5-flash", path, body);
  EXPECT_EQ(path, "/v1beta/models/gemini-2.5-flash:generateContent?alt=sse");
  EXPECT_EQ(body, "{}");
}

// The agent's body, nested deeper than awf re-serialises (a recursion per level): left as it is
// rather than crash the worker's stack.
TEST(ModelPolicy, ReplaceLeavesTooDeepBodiesAlone) {
  std::string path = "/v1/chat/completions";
  const std::string deep = R"({"model":"agent","x":)" + std::string(500000, '[') +
                           std::string(500000, ']') + "}";
  std::string body = deep;
  replace_request_model({"agent", false}, "gpt-5", path, body);
  EXPECT_EQ(body, deep);
}

}  // namespace
}  // namespace awf::proxy
