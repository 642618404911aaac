#include "logs/rule_audit.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

#include "test_entries.h"

namespace awf::logs {
namespace {

using testing::entry;

ManifestRule rule(std::uint32_t number, const std::string& action, const std::string& entry) {
  ManifestRule r;
  r.id = action + "-" + std::to_string(number);
  r.rule = number;
  r.action = action;
  r.entry = entry;
  return r;
}

// As awf writes it (v1): AWF's rules without a number, which records never name, beside the
// numbered ones.
Manifest manifest() {
  Manifest m;
  ManifestRule ports;
  ports.id = "deny-unsafe-ports";
  ports.action = "deny";
  m.rules = {ports, rule(3, "deny", "gist.github.com"), rule(1, "allow", "github.com"),
             rule(2, "allow", "unused.test")};
  return m;
}

std::vector<LogEntry> sample_run() {
  return {entry("connect", "api.github.com", true, 1000, 1),
          entry("dns", "api.github.com", true, 1000, 1),
          entry("connect", "gist.github.com", false, 2000, 3),
          entry("dns", "evil.test", false, 3000), entry("blocked", "203.0.113.10", false, 4000)};
}

TEST(RuleAudit, LabelsComeFromTheManifest) {
  const Manifest m = manifest();
  const auto run = sample_run();
  EXPECT_EQ(rule_label(run[0], &m), "#1 allow github.com");
  EXPECT_EQ(rule_label(run[0], nullptr), "#1");
  EXPECT_EQ(rule_label(run[2], &m), "#3 deny gist.github.com");
  EXPECT_EQ(rule_label(run[3], &m), "default deny");
  EXPECT_EQ(rule_label(entry("connect", "x.test", true), &m), "(none)");
}

TEST(RuleAudit, HitsPerRuleIncludingUnusedRules) {
  const Manifest m = manifest();
  const std::string text = format_rule_audit(sample_run(), &m, {}, Palette{});
  EXPECT_NE(text.find("#1 allow github.com      2 hits"), std::string::npos) << text;
  EXPECT_NE(text.find("#2 allow unused.test     0 hits"), std::string::npos) << text;
  EXPECT_NE(text.find("#3 deny gist.github.com  1 hit\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("unsafe-ports"), std::string::npos) << text;
  EXPECT_NE(text.find("default deny             2 hits"), std::string::npos) << text;
  EXPECT_NE(text.find("Records (5):"), std::string::npos) << text;
  EXPECT_NE(text.find("rule: #3 deny gist.github.com"), std::string::npos) << text;
}

TEST(RuleAudit, Filters) {
  const auto run = sample_run();
  AuditFilter by_rule;
  by_rule.rule = 1;
  EXPECT_TRUE(matches(run[0], by_rule));
  EXPECT_FALSE(matches(run[2], by_rule));
  AuditFilter by_default;
  by_default.rule = 0;
  EXPECT_TRUE(matches(run[3], by_default));
  EXPECT_FALSE(matches(run[0], by_default));
  AuditFilter by_domain;
  by_domain.domain = "GitHub.com.";
  EXPECT_TRUE(matches(run[0], by_domain));
  EXPECT_TRUE(matches(run[2], by_domain));
  EXPECT_FALSE(matches(run[3], by_domain));
  EXPECT_FALSE(matches(entry("connect", "notgithub.com", true), by_domain));
  AuditFilter denied;
  denied.allowed = false;
  EXPECT_FALSE(matches(run[0], denied));
  EXPECT_TRUE(matches(run[4], denied));
}

TEST(RuleAudit, OneRuleShowsOnlyThatRule) {
  const Manifest m = manifest();
  AuditFilter filter;
  filter.rule = 3;
  const std::string text = format_rule_audit(sample_run(), &m, filter, Palette{});
  EXPECT_EQ(text.find("#1 allow"), std::string::npos) << text;
  EXPECT_EQ(text.find("default deny"), std::string::npos) << text;
  EXPECT_NE(text.find("Records (1):"), std::string::npos) << text;
}

}  // namespace
}  // namespace awf::logs
