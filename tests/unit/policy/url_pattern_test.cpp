#include "policy/url_pattern.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "policy/policy.h"

namespace awf::policy {
namespace {

using ::testing::HasSubstr;

std::string pattern_error(std::string_view text) {
  try {
    parse_url_pattern(text);
  } catch (const PolicyError& error) {
    return error.what();
  }
  return "<no error>";
}

bool allows(std::string_view pattern, std::string_view host, std::string_view target) {
  const auto path = canonical_request_path(target);
  return path && url_pattern_matches(parse_url_pattern(pattern), host, *path);
}

TEST(UrlPattern, Grammar) {
  const UrlPattern p = parse_url_pattern(" HTTPS://GitHub.com/my-org/* ");
  EXPECT_EQ(p.host, "github.com");
  EXPECT_EQ(p.path, "/my-org/*");
  EXPECT_EQ(parse_url_pattern("https://*.githubusercontent.com/org/*").host,
            "*.githubusercontent.com");
  EXPECT_EQ(parse_url_pattern("https://[2001:db8::1]/x").host, "2001:db8::1");
  EXPECT_THAT(pattern_error("http://github.com/x"), HasSubstr("starts with https://"));
  EXPECT_THAT(pattern_error("github.com/x"), HasSubstr("starts with https://"));
  EXPECT_THAT(pattern_error("https://github.com"), HasSubstr("has a path"));
  EXPECT_THAT(pattern_error("https://*"), HasSubstr("has a path"));
  EXPECT_THAT(pattern_error("https://*/x"), HasSubstr("every host"));
  EXPECT_THAT(pattern_error("https://*.*/x"), HasSubstr("every host"));
  EXPECT_NE(pattern_error("https://*.com/x"), "<no error>");
  EXPECT_THAT(pattern_error("https:///x"), HasSubstr("no host"));
  EXPECT_THAT(pattern_error("https://github.com:8443/x"), HasSubstr("ports"));
  EXPECT_THAT(pattern_error("https://git hub.com/x"), HasSubstr("host"));
  EXPECT_THAT(pattern_error("https://github.com/a b"), HasSubstr("path"));
  EXPECT_THAT(pattern_error("https://github.com/a#b"), HasSubstr("path"));
}

TEST(UrlPattern, ListsSplitOnCommas) {
  const auto patterns = parse_url_patterns({"https://a.test/x/*, https://b.test/y", ""});
  ASSERT_EQ(patterns.size(), 2u);
  EXPECT_EQ(patterns[1].host, "b.test");
}

TEST(UrlPattern, AnchoredMatching) {
  EXPECT_TRUE(allows("https://github.com/my-org/*", "github.com", "/my-org/repo"));
  EXPECT_TRUE(allows("https://github.com/my-org/*", "github.com", "/my-org/"));
  EXPECT_TRUE(allows("https://github.com/my-org/*", "github.com", "/my-org/r/info/refs?service=x"));
  EXPECT_FALSE(allows("https://github.com/my-org/*", "github.com", "/my-org"));
  EXPECT_FALSE(allows("https://github.com/my-org/*", "github.com", "/other-org/repo"));
  EXPECT_FALSE(allows("https://github.com/my-org/*", "github.com", "/x/my-org/repo"));
  EXPECT_FALSE(allows("https://github.com/my-org/*", "api.github.com", "/my-org/repo"));
  EXPECT_TRUE(allows("https://github.com/exact", "github.com", "/exact"));
  EXPECT_FALSE(allows("https://github.com/exact", "github.com", "/exact?x=1"));
  EXPECT_FALSE(allows("https://github.com/exact", "github.com", "/exactly"));
  // '*' in the host never reaches into the path (the host is matched on its own).
  EXPECT_TRUE(allows("https://*.github.com/a/*", "raw.github.com", "/a/b"));
  EXPECT_FALSE(allows("https://*.github.com/a/*", "github.com", "/a/b"));
  EXPECT_TRUE(allows("https://github.com/*/releases/*", "github.com", "/o/r/releases/v1"));
}

TEST(UrlPattern, TraversalCannotLeaveThePrefix) {
  EXPECT_FALSE(allows("https://github.com/my-org/*", "github.com", "/my-org/../evil/x"));
  EXPECT_FALSE(allows("https://github.com/my-org/*", "github.com", "/my-org/%2e%2e/evil"));
  EXPECT_FALSE(allows("https://github.com/my-org/*", "github.com", "/my-org/%2E%2e/evil"));
  EXPECT_FALSE(allows("https://github.com/my-org/*", "github.com", "/my-org//..//evil"));
  EXPECT_FALSE(allows("https://github.com/my-org/*", "github.com", "/my-org%2f..%2fevil"));
  EXPECT_TRUE(allows("https://github.com/my-org/*", "github.com", "/evil/../my-org/x"));
  EXPECT_TRUE(allows("https://github.com/my-org/*", "github.com", "/./my-org/./x"));
}

TEST(UrlPattern, CanonicalPaths) {
  EXPECT_EQ(canonical_request_path("/"), "/");
  EXPECT_EQ(canonical_request_path("/a//b/"), "/a/b/");
  EXPECT_EQ(canonical_request_path("/a/./b/../c?x=/../y"), "/a/c?x=/../y");
  EXPECT_EQ(canonical_request_path("/../../etc"), "/etc");
  EXPECT_EQ(canonical_request_path("/a/.."), "/");
  EXPECT_EQ(canonical_request_path("/a/b/.."), "/a/");
  EXPECT_EQ(canonical_request_path("/a/%2e"), "/a/");
  EXPECT_EQ(canonical_request_path("/a%20b"), "/a%20b");
  for (const char* bad : {"", "a", "http://x/", "*", "/a\\b", "/a%2fb", "/a%5Cb", "/a#b", "/a b",
                          "/\x01", "/\xc3\xa9"}) {
    EXPECT_FALSE(canonical_request_path(bad)) << bad;
  }
}

TEST(UrlPattern, Mentions) {
  const auto patterns = parse_url_patterns({"https://github.com/a/*,https://*.example.test/x"});
  EXPECT_TRUE(url_patterns_mention(patterns, "github.com"));
  EXPECT_TRUE(url_patterns_mention(patterns, "cdn.example.test"));
  EXPECT_FALSE(url_patterns_mention(patterns, "example.test"));
  EXPECT_FALSE(url_patterns_mention(patterns, "api.github.com"));
}

}  // namespace
}  // namespace awf::policy
