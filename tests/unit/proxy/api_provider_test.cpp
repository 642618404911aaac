#include "proxy/api_provider.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>

namespace awf::proxy {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Pair;

const ProviderInfo& provider(Provider id) {
  return providers()[static_cast<std::size_t>(id)];
}

std::string target_error(std::string_view text) {
  try {
    parse_api_target(text);
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "<no error>";
}

TEST(ApiProvider, TableMatchesAwf) {
  for (std::size_t i = 0; i < providers().size(); ++i) {
    EXPECT_EQ(static_cast<std::size_t>(providers()[i].id), i);
    EXPECT_EQ(providers()[i].port, kFirstApiPort + i);
    EXPECT_EQ(provider_by_port(providers()[i].port), &providers()[i]);
  }
  EXPECT_EQ(provider_by_port(3128), nullptr);
  EXPECT_EQ(provider(Provider::Anthropic).key_header, "x-api-key");
  EXPECT_EQ(provider(Provider::Gemini).key_header, "x-goog-api-key");
  EXPECT_TRUE(provider(Provider::OpenAi).bearer);
  EXPECT_TRUE(provider(Provider::Copilot).bearer);
}

TEST(ApiProvider, Targets) {
  EXPECT_EQ(parse_api_target("api.example.test").authority(), "api.example.test");
  EXPECT_EQ(parse_api_target("API.Example.Test.").host, "api.example.test");
  const ApiTarget with_port = parse_api_target("gw.test:8443");
  EXPECT_EQ(with_port.port, 8443);
  EXPECT_EQ(with_port.authority(), "gw.test:8443");
  EXPECT_EQ(parse_api_target("https://gw.test:443/").authority(), "gw.test");
  EXPECT_EQ(parse_api_target("[2001:db8::1]:9443").authority(), "[2001:db8::1]:9443");
  EXPECT_EQ(parse_api_target("[2001:db8::1]").port, 443);
  EXPECT_EQ(parse_api_target("10.0.0.1").host, "10.0.0.1");
  EXPECT_THAT(target_error("http://gw.test"), HasSubstr("only https://"));
  EXPECT_THAT(target_error("ftp://gw.test"), HasSubstr("only https://"));
  EXPECT_THAT(target_error("gw.test/v1"), HasSubstr("without a path"));
  EXPECT_THAT(target_error("gw.test?x"), HasSubstr("without a path"));
  EXPECT_THAT(target_error("user:pw@gw.test"), HasSubstr("user info"));
  EXPECT_THAT(target_error(""), HasSubstr("no host"));
  EXPECT_THAT(target_error("https://"), HasSubstr("no host"));
  EXPECT_THAT(target_error("gw.test:0"), HasSubstr("port"));
  EXPECT_THAT(target_error("gw.test:65536"), HasSubstr("port"));
  EXPECT_THAT(target_error("bad host.test"), HasSubstr("invalid host"));
  EXPECT_THAT(target_error("[::1"), HasSubstr("'['"));
  EXPECT_THAT(target_error("1.."), HasSubstr("empty label"));
  EXPECT_THAT(target_error("a..b.test"), HasSubstr("invalid host"));
}

TEST(ApiProvider, BasePaths) {
  EXPECT_EQ(normalize_base_path(""), "");
  EXPECT_EQ(normalize_base_path("/"), "");
  EXPECT_EQ(normalize_base_path("serving-endpoints"), "/serving-endpoints");
  EXPECT_EQ(normalize_base_path("/a/b//"), "/a/b");
  for (const char* bad : {"/a b", "/a?x", "/a#x", "/../x", "/a/./b", "/a\\b", "/a\n"}) {
    EXPECT_THROW(normalize_base_path(bad), std::invalid_argument) << bad;
  }
}

TEST(ApiProvider, CredentialHeaders) {
  for (const char* name : {"Authorization", "authorization", "X-Api-Key", "x-goog-api-key",
                           "API-KEY", "Cookie", "Proxy-Authorization"}) {
    EXPECT_TRUE(is_credential_header(name)) << name;
  }
  for (const char* name : {"Content-Type", "anthropic-version", "x-api-keys", "User-Agent"}) {
    EXPECT_FALSE(is_credential_header(name)) << name;
  }
}

TEST(ApiProvider, UpstreamTargets) {
  const ProviderInfo& openai = provider(Provider::OpenAi);
  const ProviderInfo& gemini = provider(Provider::Gemini);
  EXPECT_EQ(upstream_target(openai, "", "/v1/chat/completions"), "/v1/chat/completions");
  EXPECT_EQ(upstream_target(openai, "/serving", "/v1/models?limit=2"),
            "/serving/v1/models?limit=2");
  EXPECT_EQ(upstream_target(openai, "", "/x?key=1"), "/x?key=1");  // only Gemini's key moves
  EXPECT_EQ(upstream_target(gemini, "", "/v1beta/models?key=sk&alt=sse"), "/v1beta/models?alt=sse");
  EXPECT_EQ(upstream_target(gemini, "", "/m?alt=sse&key=sk"), "/m?alt=sse");
  EXPECT_EQ(upstream_target(gemini, "", "/m?key"), "/m");
  EXPECT_EQ(upstream_target(gemini, "", "/m?keys=1"), "/m?keys=1");
  EXPECT_EQ(upstream_target(openai, "", "http://evil.test/x"), "");
  EXPECT_EQ(upstream_target(openai, "", "*"), "");
  EXPECT_EQ(path_for_log("/v1/x?key=secret"), "/v1/x");
}

TEST(ApiProvider, HealthAndMessages) {
  EXPECT_EQ(health_json(provider(Provider::Copilot), false),
            R"({"status":"healthy","provider":"copilot","configured":false})");
  EXPECT_THAT(missing_key_message(provider(Provider::Gemini)), HasSubstr("GEMINI_API_KEY"));
}

TEST(ApiProvider, SandboxVariables) {
  const auto openai = sandbox_variables(provider(Provider::OpenAi));
  EXPECT_THAT(openai, Contains(Pair("OPENAI_BASE_URL", "http://127.0.0.1:10000")));
  EXPECT_THAT(openai, Contains(Pair("OPENAI_API_KEY", "sk-placeholder-for-api-proxy")));
  EXPECT_THAT(openai, Contains(Pair("CODEX_API_KEY", "sk-placeholder-for-api-proxy")));
  const auto anthropic = sandbox_variables(provider(Provider::Anthropic));
  EXPECT_THAT(anthropic, Contains(Pair("ANTHROPIC_BASE_URL", "http://127.0.0.1:10001")));
  EXPECT_THAT(anthropic, Contains(Pair("ANTHROPIC_AUTH_TOKEN",
                                       "sk-ant-placeholder-key-for-credential-isolation")));
  const auto copilot = sandbox_variables(provider(Provider::Copilot));
  EXPECT_THAT(copilot, Contains(Pair("COPILOT_API_URL", "http://127.0.0.1:10002")));
  EXPECT_THAT(copilot, Contains(Pair("COPILOT_GITHUB_TOKEN", "ghu_" + std::string(36, 'a'))));
  EXPECT_THAT(copilot, Contains(Pair("COPILOT_PROVIDER_BASE_URL", "http://127.0.0.1:10002")));
  EXPECT_THAT(copilot, Contains(Pair("COPILOT_OFFLINE", "true")));
  const auto gemini = sandbox_variables(provider(Provider::Gemini));
  EXPECT_THAT(gemini, Contains(Pair("GOOGLE_GEMINI_BASE_URL", "http://127.0.0.1:10003")));
  EXPECT_THAT(gemini, Contains(Pair("GEMINI_API_BASE_URL", "http://127.0.0.1:10003")));
  EXPECT_THAT(gemini, Contains(Pair("GEMINI_API_KEY",
                                    "gemini-api-key-placeholder-for-credential-isolation")));
  const auto vertex = sandbox_variables(provider(Provider::Vertex));
  EXPECT_THAT(vertex, Contains(Pair("GOOGLE_VERTEX_BASE_URL", "http://127.0.0.1:10004")));
  EXPECT_THAT(vertex, Contains(Pair("GOOGLE_API_KEY",
                                    "google-api-key-placeholder-for-credential-isolation")));
}

// AWF's key variables: GOOGLE_API_KEY is Vertex's alone.
TEST(ApiProvider, KeyVariables) {
  EXPECT_EQ(provider(Provider::Gemini).key_variables,
            std::vector<std::string_view>{"GEMINI_API_KEY"});
  EXPECT_EQ(provider(Provider::Vertex).key_variables,
            std::vector<std::string_view>{"GOOGLE_API_KEY"});
  EXPECT_EQ(provider(Provider::Vertex).key_header, "x-goog-api-key");
  EXPECT_EQ(provider(Provider::Vertex).default_target, "aiplatform.googleapis.com");
  EXPECT_EQ(key_variable_names(provider(Provider::OpenAi)), "OPENAI_API_KEY or CODEX_API_KEY");
}

// AWF's buildUpstreamPath: the base path is not added twice.
TEST(ApiProvider, UpstreamTargetKeepsOneBasePath) {
  const ProviderInfo& openai = provider(Provider::OpenAi);
  const ProviderInfo& vertex = provider(Provider::Vertex);
  EXPECT_EQ(upstream_target(openai, "/v1", "/responses"), "/v1/responses");
  EXPECT_EQ(upstream_target(openai, "/v1", "/v1/chat/completions?a=1"), "/v1/chat/completions?a=1");
  EXPECT_EQ(upstream_target(openai, "/v1", "/v1"), "/v1");
  EXPECT_EQ(upstream_target(openai, "/v1", "/v10/x"), "/v1/v10/x");
  EXPECT_EQ(upstream_target(vertex, "", "/v1/m?apiKey=x&alt=sse&api_key=y"), "/v1/m?alt=sse");
}

}  // namespace
}  // namespace awf::proxy
