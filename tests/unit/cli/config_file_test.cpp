#include "cli/config_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace awf::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(Ruleset, Parses) {
  const auto rules = parse_ruleset(
      "version: 1\nrules:\n  - domain: github.com\n  - domain: api.test\n    subdomains: false\n");
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].domain, "github.com");
  EXPECT_TRUE(rules[0].subdomains);
  EXPECT_EQ(rules[1].domain, "api.test");
  EXPECT_FALSE(rules[1].subdomains);
  // JSON is YAML too.
  EXPECT_EQ(parse_ruleset(R"({"version":1,"rules":[{"domain":"x.test","subdomains":true}]})")
                .size(),
            1u);
  EXPECT_TRUE(parse_ruleset("version: 1\nrules:\n").empty());
}

TEST(Ruleset, Rejects) {
  EXPECT_THAT(error_of([] { parse_ruleset("rules: []"); }), HasSubstr("no version"));
  EXPECT_THAT(error_of([] { parse_ruleset("version: 2\nrules: []"); }), HasSubstr("version"));
  EXPECT_THAT(error_of([] { parse_ruleset("version: 1\nrule: []"); }), HasSubstr("'rule'"));
  EXPECT_THAT(error_of([] { parse_ruleset("version: 1\nrules: [{domian: x}]"); }),
              HasSubstr("unknown key 'domian'"));
  EXPECT_THAT(error_of([] { parse_ruleset("version: 1\nrules: [{subdomains: true}]"); }),
              HasSubstr("no domain"));
  EXPECT_THAT(error_of([] { parse_ruleset("version: 1\nrules: [{domain: x, subdomains: maybe}]"); }),
              HasSubstr("true or false"));
  EXPECT_THAT(error_of([] { parse_ruleset("version: 1\nrules: x"); }), HasSubstr("list"));
  EXPECT_THAT(error_of([] { parse_ruleset("[: bad"); }), HasSubstr("not valid"));
  EXPECT_THAT(error_of([] { parse_ruleset("- a\n- b"); }), HasSubstr("mapping"));
}

TEST(Config, Parses) {
  const auto settings = parse_config(
      "allowDomains: [a.test, b.test]\nlog_level: debug\nenv-all: true\nmemory-limit: 2g\n");
  ASSERT_EQ(settings.size(), 4u);
  EXPECT_EQ(settings[0].flag, "allow-domains");
  EXPECT_THAT(settings[0].values, ElementsAre("a.test", "b.test"));
  EXPECT_EQ(settings[1].flag, "log-level");
  EXPECT_EQ(settings[2].flag, "env-all");
  EXPECT_THAT(settings[2].values, ElementsAre("true"));
  EXPECT_EQ(parse_config(R"({"pidsLimit": 50})")[0].flag, "pids-limit");
  EXPECT_TRUE(parse_config("").empty());
}

TEST(Config, Rejects) {
  EXPECT_THAT(error_of([] { parse_config("a: {b: c}"); }), HasSubstr("'a'"));
  EXPECT_THAT(error_of([] { parse_config("a: [[1]]"); }), HasSubstr("list elements"));
  EXPECT_THAT(error_of([] { parse_config("just text"); }), HasSubstr("mapping"));
  EXPECT_THAT(error_of([] { parse_config("{\"a\": "); }), HasSubstr("not valid"));
}

TEST(Config, KebabCase) {
  EXPECT_EQ(kebab_case("allowDomains"), "allow-domains");
  EXPECT_EQ(kebab_case("allow_domains"), "allow-domains");
  EXPECT_EQ(kebab_case("allow-domains"), "allow-domains");
  EXPECT_EQ(kebab_case("enableDLP"), "enable-d-l-p");
}

}  // namespace
}  // namespace awf::cli

namespace awf::cli {
namespace {

// Found by fuzz_config_file: a mapping used as a key made yaml-cpp throw its own exception
// type, which escaped as std::terminate.
TEST(Ruleset, NonScalarKeysAreErrors) {
  EXPECT_THAT(error_of([] { parse_ruleset("{\"version\":2,\"rules\":[{\"id\":1}]}:\n"); }),
              HasSubstr("plain names"));
  EXPECT_THAT(error_of([] { parse_ruleset("version: 1\nrules: [{[a]: b}]"); }),
              HasSubstr("plain names"));
  EXPECT_THAT(error_of([] { parse_config("{a: 1}: x\n"); }), HasSubstr("flag names"));
}

}  // namespace
}  // namespace awf::cli
