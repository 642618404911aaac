#include "cli/environment.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace awf::cli {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(Environment, Assignment) {
  EXPECT_EQ(parse_env_assignment("A=b"), (EnvEntry{"A", "b"}));
  EXPECT_EQ(parse_env_assignment("A="), (EnvEntry{"A", ""}));
  EXPECT_EQ(parse_env_assignment("_X1=a=b=c"), (EnvEntry{"_X1", "a=b=c"}));
  for (const char* bad : {"A", "", "=x", "1A=x", "A B=x", "A-B=x", "é=x"}) {
    EXPECT_NE(error_of([&] { parse_env_assignment(bad); }), "<no error>") << bad;
  }
  EXPECT_THAT(error_of([&] { parse_env_assignment("NOVALUE"); }), HasSubstr("KEY=VALUE"));
}

TEST(Environment, File) {
  const auto entries = parse_env_file(
      "# comment\n\nA=1\r\n  B=2 \nexport C=\"q\"\n   # indented comment\nD=x#y\n");
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0], (EnvEntry{"A", "1"}));
  EXPECT_EQ(entries[1], (EnvEntry{"B", "2 "}));  // values are literal, spaces included
  EXPECT_EQ(entries[2], (EnvEntry{"C", "\"q\""}));  // no quote removal, as docker's --env-file
  EXPECT_EQ(entries[3], (EnvEntry{"D", "x#y"}));
  EXPECT_THAT(error_of([] { parse_env_file("B = 2\n"); }), HasSubstr("line 1"));
  EXPECT_THAT(error_of([] { parse_env_file("A=1\n\nbroken line\n"); }), HasSubstr("line 3"));
  EXPECT_TRUE(parse_env_file("").empty());
}

TEST(Environment, GhHost) {
  EXPECT_EQ(gh_host_from_server_url("https://github.com"), "");
  EXPECT_EQ(gh_host_from_server_url("https://GitHub.com/"), "");
  EXPECT_EQ(gh_host_from_server_url("https://ghe.corp.test/"), "ghe.corp.test");
  EXPECT_EQ(gh_host_from_server_url("https://ghe.corp.test:8443"), "ghe.corp.test");
  EXPECT_EQ(gh_host_from_server_url("https://ghe.corp.test:8443/path/"), "ghe.corp.test");
  EXPECT_EQ(gh_host_from_server_url(""), "");
}

TEST(Environment, LayersAndPrecedence) {
  EnvLayers layers;
  layers.builtins = {{"PATH", "/bin"}, {"HTTP_PROXY", "http://127.0.0.1:3128"}, {"NO_COLOR", "1"}};
  layers.host = {{"PATH", "/host/bin"}, {"HTTP_PROXY", "http://corp:8080"},
                 {"https_proxy", "http://corp:8080"}, {"HOME", "/root"}, {"SUDO_USER", "me"},
                 {"SSH_AUTH_SOCK", "/tmp/ssh-x/agent"}, {"EDITOR", "vi"}, {"X", "host"},
                 {"GITHUB_TOKEN", "ghp_x"}, {"BIG", std::string(kMaxInheritedValue + 1, 'a')}};
  layers.file = {{"X", "file"}, {"Y", "file"}, {"OPENAI_API_KEY", "sk-x"}};
  layers.explicit_entries = {{"Y", "cli"}, {"NO_COLOR", "0"}, {"SECRET2", "s"}};
  layers.excluded = {"SECRET2", "EDITOR"};
  const BuiltEnvironment built = build_environment(layers);
  EXPECT_THAT(built.env, ElementsAre("PATH=/host/bin", "HTTP_PROXY=http://127.0.0.1:3128",
                                     "NO_COLOR=0", "X=file", "Y=cli"));
  EXPECT_THAT(built.withheld, ElementsAre("OPENAI_API_KEY", "SECRET2"));
  EXPECT_THAT(built.oversized, ElementsAre("BIG"));
}

TEST(Environment, OverridesWinAndAreNeverWithheld) {
  EnvLayers layers;
  layers.builtins = {{"PATH", "/bin"}};
  layers.explicit_entries = {{"OPENAI_API_KEY", "sk-real"}, {"OPENAI_BASE_URL", "http://x"}};
  layers.host = {{"OPENAI_API_KEY", "sk-host"}};
  layers.overrides = {{"OPENAI_API_KEY", "sk-placeholder"}, {"OPENAI_BASE_URL", "http://awf"}};
  const BuiltEnvironment built = build_environment(layers);
  EXPECT_THAT(built.env,
              ElementsAre("PATH=/bin", "OPENAI_API_KEY=sk-placeholder", "OPENAI_BASE_URL=http://awf"));
  EXPECT_THAT(built.withheld, ElementsAre("OPENAI_API_KEY"));
}

TEST(Environment, SecretsNeverPass) {
  for (const std::string_view name : secret_env_names()) {
    EnvLayers layers;
    layers.host = {{std::string(name), "h"}};
    layers.file = {{std::string(name), "f"}};
    layers.explicit_entries = {{std::string(name), "e"}};
    const BuiltEnvironment built = build_environment(layers);
    EXPECT_TRUE(built.env.empty()) << name;
    EXPECT_THAT(built.withheld, Contains(std::string(name)));
  }
  EXPECT_EQ(secret_env_names().size(), 20u);
}

TEST(Environment, HostOnlyNames) {
  for (const char* name : {"HOME", "SUDO_UID", "no_proxy", "ALL_PROXY", "Https_Proxy",
                           "DBUS_SESSION_BUS_ADDRESS", "DOCKER_HOST", "SSH_AUTH_SOCK"}) {
    EXPECT_TRUE(is_host_only_env(name)) << name;
  }
  for (const char* name : {"PATH", "EDITOR", "LANG", "CI", "GITHUB_WORKSPACE"}) {
    EXPECT_FALSE(is_host_only_env(name)) << name;
  }
}

}  // namespace
}  // namespace awf::cli
