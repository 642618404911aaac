#include "logs/suggest.h"

#include <gtest/gtest.h>

#include "test_entries.h"

namespace awf::logs {
namespace {

using testing::entry;

TEST(Suggest, GroupsSeveralSubdomainsUnderTheirRegistrableDomain) {
  const Suggestion s = suggest_allow_domains({
      entry("connect", "api.example.com", false),
      entry("dns", "cdn.example.com", false),
      entry("dns", "cdn.example.com", false),
      entry("connect", "one.example.org", false),
      entry("connect", "allowed.test", true),
  });
  EXPECT_EQ(s.domains, (std::vector<std::string>{"example.com", "one.example.org"}));
  EXPECT_EQ(s.requests, 4u);
  EXPECT_EQ(s.groups, std::vector<std::string>{"api.example.com, cdn.example.com -> example.com"});
  EXPECT_EQ(allow_domains_flag(s), "--allow-domains 'example.com,one.example.org'");
}

TEST(Suggest, NeverAPublicSuffix) {
  const Suggestion s = suggest_allow_domains({
      entry("dns", "a.github.io", false),
      entry("dns", "b.github.io", false),
      entry("dns", "co.uk", false),
      entry("dns", "x.a.github.io", false),
  });
  // github.io is a public suffix: its names are separate sites, never grouped into it.
  EXPECT_EQ(s.domains, (std::vector<std::string>{"a.github.io", "b.github.io"}));
  EXPECT_EQ(s.unsuggestable, std::vector<std::string>{"co.uk"});
}

TEST(Suggest, OnlyDenialsTheAllowlistCouldFix) {
  LogEntry internal = entry("connect", "internal.example.com", false, 1000, 1);
  internal.record.reason = "resolves to internal address 10.0.0.5 (private (RFC 1918))";
  LogEntry blocked = entry("connect", "gist.github.com", false, 1000, 3);
  blocked.record.reason = "blocked by 'gist.github.com'";
  LogEntry sni = entry("connect", "a.example.net", false);
  sni.record.reason = "TLS SNI 'a' does not match CONNECT host 'b'";
  const Suggestion s =
      suggest_allow_domains({internal, blocked, sni, entry("blocked", "203.0.113.10", false),
                             entry("connect", "203.0.113.20", false)});
  EXPECT_EQ(s.domains, std::vector<std::string>{"203.0.113.20"});
  EXPECT_EQ(s.blocked, std::vector<std::string>{"gist.github.com"});
}

TEST(Suggest, NothingDenied) {
  const Suggestion s = suggest_allow_domains({entry("connect", "allowed.test", true)});
  EXPECT_TRUE(s.domains.empty());
  EXPECT_EQ(allow_domains_flag(s), "");
}

TEST(Suggest, NamesAreNormalized) {
  const Suggestion s = suggest_allow_domains({entry("dns", "WWW.Example.COM.", false)});
  EXPECT_EQ(s.domains, std::vector<std::string>{"www.example.com"});
}

}  // namespace
}  // namespace awf::logs
