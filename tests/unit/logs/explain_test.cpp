#include "logs/explain.h"

#include <gtest/gtest.h>

namespace awf::logs {
namespace {

using policy::Policy;

TEST(Target, Forms) {
  auto t = parse_target("api.github.com");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "api.github.com");
  EXPECT_FALSE(t->port);
  t = parse_target("api.github.com:443");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->port, 443);
  t = parse_target("[2001:db8::1]:80");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "[2001:db8::1]");
  EXPECT_EQ(t->port, 80);
  t = parse_target("2001:db8::1");
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->port);
  t = parse_target("https://x.test/path?q");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->host, "x.test");
  EXPECT_EQ(t->port, 443);
  t = parse_target("http://x.test:8080/");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->port, 8080);
  EXPECT_FALSE(parse_target(""));
  EXPECT_FALSE(parse_target("x.test:"));
  EXPECT_FALSE(parse_target("x.test:0"));
  EXPECT_FALSE(parse_target("x.test:65536"));
  EXPECT_FALSE(parse_target("x.test:http"));
  EXPECT_FALSE(parse_target(":443"));
  EXPECT_FALSE(parse_target("[::1"));
  EXPECT_FALSE(parse_target("[::1]x"));
  // A space, a control byte or a URL delimiter in the host is a mistake, not a name.
  EXPECT_FALSE(parse_target("a b"));
  EXPECT_FALSE(parse_target("a\tb"));
  EXPECT_FALSE(parse_target("user@x.test"));
}

TEST(Explain, AllowedByARuleOnBothProtocols) {
  const Policy p = Policy::build({"github.com"}, {"gist.github.com"});
  const Explanation e = explain(p, *parse_target("api.github.com:443"));
  EXPECT_TRUE(e.allowed);
  EXPECT_NE(e.text.find("https  ALLOWED  rule #1 allow 'github.com': allowed by 'github.com'"),
            std::string::npos)
      << e.text;
  EXPECT_NE(e.text.find("Verdict: ALLOWED (https on port 443)"), std::string::npos) << e.text;
}

TEST(Explain, BlockBeatsAllow) {
  const Policy p = Policy::build({"github.com"}, {"gist.github.com"});
  const Explanation e = explain(p, *parse_target("gist.github.com"));
  EXPECT_FALSE(e.allowed);
  EXPECT_NE(e.text.find("DENIED   rule #2 block 'gist.github.com'"), std::string::npos) << e.text;
}

TEST(Explain, NotInAllowlist) {
  const Policy p = Policy::build({"github.com"}, {});
  const Explanation e = explain(p, *parse_target("evil.test"));
  EXPECT_FALSE(e.allowed);
  EXPECT_NE(e.text.find("DENIED   no rule: not in allowlist"), std::string::npos) << e.text;
  EXPECT_NE(e.text.find("Verdict: DENIED (neither http nor https)"), std::string::npos);
}

TEST(Explain, OnlyPorts80And443AreServed) {
  const Policy p = Policy::build({"github.com"}, {});
  const Explanation e = explain(p, *parse_target("github.com:22"));
  EXPECT_FALSE(e.allowed);
  EXPECT_NE(e.text.find("Port 22: not served"), std::string::npos) << e.text;
  EXPECT_TRUE(explain(p, *parse_target("github.com:80")).allowed);
}

TEST(Explain, ProtocolPrefixes) {
  const Policy p = Policy::build({"https://secure.test"}, {});
  EXPECT_TRUE(explain(p, *parse_target("secure.test:443")).allowed);
  EXPECT_FALSE(explain(p, *parse_target("http://secure.test/")).allowed);
  const Explanation e = explain(p, *parse_target("secure.test"));
  EXPECT_TRUE(e.allowed);
  EXPECT_NE(e.text.find("(https only)"), std::string::npos) << e.text;
}

}  // namespace
}  // namespace awf::logs
