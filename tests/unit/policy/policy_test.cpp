#include "policy/policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace awf::policy {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

Policy make(std::vector<std::string> allow, std::vector<std::string> block = {}) {
  return Policy::build(allow, block);
}

bool allowed(const Policy& p, std::string_view host, Protocol proto = Protocol::Https) {
  return p.decide(host, proto).allowed;
}

std::string build_error_exact(const std::string& entry) {
  try {
    Policy::build({"x.test"}, {}, {entry});
  } catch (const PolicyError& e) {
    return e.what();
  }
  return "<no error>";
}

// The PolicyError message for the given lists, or "<no error>".
std::string build_error(std::vector<std::string> allow, std::vector<std::string> block = {}) {
  try {
    Policy::build(allow, block);
  } catch (const PolicyError& e) {
    return e.what();
  }
  return "<no error>";
}

// ---------------------------------------------------------------------------------------------
// Plain entries

TEST(PolicyPlain, AllowsDomainAndEverySubdomain) {
  const Policy p = make({"github.com"});
  EXPECT_TRUE(allowed(p, "github.com"));
  EXPECT_TRUE(allowed(p, "api.github.com"));
  EXPECT_TRUE(allowed(p, "a.b.c.d.github.com"));
}

// The lookup fetches the slots of the first eight levels ahead and walks the rest one by one:
// rules and blocks past that depth still decide.
TEST(PolicyPlain, RulesDeeperThanEightLabels) {
  const Policy p = make({"l3.l2.l1.k9.k8.k7.k6.k5.k4.k3.k2.deep.test",
                         "*.w9.w8.w7.w6.w5.w4.w3.w2.test", "s*.x9.x8.x7.x6.x5.x4.x3.x2.test"},
                        {"b10.l3.l2.l1.k9.k8.k7.k6.k5.k4.k3.k2.deep.test"});
  EXPECT_TRUE(allowed(p, "l3.l2.l1.k9.k8.k7.k6.k5.k4.k3.k2.deep.test"));
  EXPECT_TRUE(allowed(p, "a.l3.l2.l1.k9.k8.k7.k6.k5.k4.k3.k2.deep.test"));
  EXPECT_FALSE(allowed(p, "l2.l1.k9.k8.k7.k6.k5.k4.k3.k2.deep.test"));
  EXPECT_FALSE(allowed(p, "x.l2.l1.k9.k8.k7.k6.k5.k4.k3.k2.deep.test"));
  EXPECT_FALSE(allowed(p, "b10.l3.l2.l1.k9.k8.k7.k6.k5.k4.k3.k2.deep.test"));
  EXPECT_FALSE(allowed(p, "c.b10.l3.l2.l1.k9.k8.k7.k6.k5.k4.k3.k2.deep.test"));
  EXPECT_TRUE(allowed(p, "a.w9.w8.w7.w6.w5.w4.w3.w2.test"));
  EXPECT_FALSE(allowed(p, "w9.w8.w7.w6.w5.w4.w3.w2.test"));
  EXPECT_TRUE(allowed(p, "svc.x9.x8.x7.x6.x5.x4.x3.x2.test"));
  EXPECT_FALSE(allowed(p, "api.x9.x8.x7.x6.x5.x4.x3.x2.test"));
}

TEST(PolicyPlain, DoesNotAllowLookalikes) {
  const Policy p = make({"github.com"});
  for (const char* host : {"notgithub.com", "github.com.evil.com", "evilgithub.com", "hub.com",
                           "com", "github.co", "github.comm", "api.github.co"}) {
    const Decision d = p.decide(host, Protocol::Https);
    EXPECT_FALSE(d.allowed) << host;
    EXPECT_EQ(d.reason, "not in allowlist") << host;
    EXPECT_EQ(d.rule, "") << host;
  }
}

TEST(PolicyPlain, DecisionNamesTheRule) {
  const Policy p = make({"example.org", "github.com", "api.github.com"});
  Decision d = p.decide("x.github.com", Protocol::Https);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.rule, "github.com");
  EXPECT_EQ(d.reason, "allowed by 'github.com'");
  // The most specific entry is reported.
  d = p.decide("v3.api.github.com", Protocol::Http);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.rule, "api.github.com");
}

TEST(PolicyPlain, DecisionCarriesTheManifestId) {
  const Policy p = make({"example.org", "github.com"}, {"gist.github.com"});
  const std::vector<RuleInfo> rules = p.rules();
  ASSERT_EQ(rules.size(), 3u);
  EXPECT_EQ(rules[0].id, 1u);
  EXPECT_EQ(rules[1].entry, "github.com");
  EXPECT_FALSE(rules[1].block);
  EXPECT_EQ(rules[2].id, 3u);
  EXPECT_TRUE(rules[2].block);
  EXPECT_EQ(p.decide("api.github.com", Protocol::Https).rule_id, 2u);
  EXPECT_EQ(p.decide("gist.github.com", Protocol::Https).rule_id, 3u);
  EXPECT_EQ(p.decide("other.test", Protocol::Https).rule_id, 0u);
}

TEST(PolicyPlain, ExactEntriesCoverOnlyTheName) {
  const Policy p = Policy::build({"example.org"}, {"bad.api.test"}, {"api.test", "ip.test"});
  EXPECT_TRUE(allowed(p, "api.test"));
  EXPECT_TRUE(allowed(p, "API.test."));
  EXPECT_FALSE(allowed(p, "v2.api.test"));
  EXPECT_FALSE(allowed(p, "test"));
  EXPECT_FALSE(allowed(p, "bad.api.test"));
  EXPECT_EQ(p.decide("api.test", Protocol::Http).rule_id, 2u);
  const std::vector<RuleInfo> rules = p.rules();
  ASSERT_EQ(rules.size(), 4u);
  EXPECT_FALSE(rules[0].exact);
  EXPECT_TRUE(rules[1].exact);
  EXPECT_TRUE(rules[2].exact);
  EXPECT_TRUE(rules[3].block);
  EXPECT_FALSE(rules[3].exact);
  // A subdomain entry still covers what an exact entry does not.
  const Policy both = Policy::build({"api.test"}, {}, {"api.test"});
  EXPECT_TRUE(allowed(both, "v2.api.test"));
  EXPECT_THAT(build_error_exact("*.api.test"), HasSubstr("exact name"));
}

TEST(PolicyPlain, CaseInsensitiveBothSides) {
  const Policy p = make({"GitHub.COM"});
  EXPECT_TRUE(allowed(p, "github.com"));
  EXPECT_TRUE(allowed(p, "API.GITHUB.COM"));
  EXPECT_EQ(p.decide("Api.GitHub.com", Protocol::Http).rule, "GitHub.COM");
  EXPECT_FALSE(allowed(p, "GITHUB.ORG"));
}

TEST(PolicyPlain, TrailingDotBothSides) {
  const Policy with_dot = make({"github.com."});
  EXPECT_TRUE(allowed(with_dot, "github.com"));
  EXPECT_TRUE(allowed(with_dot, "api.github.com."));
  EXPECT_EQ(with_dot.decide("github.com", Protocol::Https).rule, "github.com.");
  const Policy without = make({"github.com"});
  EXPECT_TRUE(allowed(without, "github.com."));
  EXPECT_TRUE(allowed(without, "x.github.com."));
  // Only one trailing dot is the same name.
  EXPECT_EQ(without.decide("github.com..", Protocol::Https).reason, "invalid host name");
}

TEST(PolicyPlain, TrailingSlashAndSpacesAreNotPartOfTheRule) {
  const Policy p = make({"  github.com/ ", "\thttps://example.org/"});
  EXPECT_EQ(p.decide("github.com", Protocol::Https).rule, "github.com");
  EXPECT_EQ(p.decide("example.org", Protocol::Https).rule, "https://example.org");
  EXPECT_EQ(p.decide("example.org", Protocol::Http).rule, "https://example.org");
}

TEST(PolicyPlain, InternationalizedNamesBothSides) {
  const Policy utf8 = make({"bücher.example"});
  EXPECT_TRUE(allowed(utf8, "xn--bcher-kva.example"));
  EXPECT_TRUE(allowed(utf8, "bücher.example"));
  EXPECT_TRUE(allowed(utf8, "BÜCHER.example"));
  EXPECT_TRUE(allowed(utf8, "www.bücher.example."));
  EXPECT_FALSE(allowed(utf8, "bucher.example"));
  EXPECT_EQ(utf8.decide("bücher.example", Protocol::Https).rule, "bücher.example");

  const Policy puny = make({"XN--BCHER-KVA.example"});
  EXPECT_TRUE(allowed(puny, "bücher.example"));
  EXPECT_TRUE(allowed(puny, "shop.bücher.example"));
}

TEST(PolicyPlain, UnderscoreLabels) {
  const Policy p = make({"x.com", "_acme-challenge.example.org"});
  EXPECT_TRUE(allowed(p, "_dmarc.x.com"));
  EXPECT_TRUE(allowed(p, "_acme-challenge.example.org"));
  EXPECT_FALSE(allowed(p, "example.org"));
}

TEST(PolicyPlain, SingleLabelAndPrivateNames) {
  const Policy p = make({"localhost", "host.docker.internal", "test"});
  EXPECT_TRUE(allowed(p, "localhost"));
  EXPECT_TRUE(allowed(p, "host.docker.internal"));
  EXPECT_FALSE(allowed(p, "docker.internal"));
  EXPECT_TRUE(allowed(p, "origin.test"));
}

// ---------------------------------------------------------------------------------------------
// Wildcards

TEST(PolicyWildcard, LeadingStarCoversSubdomainsOnly) {
  const Policy p = make({"*.github.com"});
  EXPECT_TRUE(allowed(p, "a.github.com"));
  EXPECT_TRUE(allowed(p, "a.b.github.com"));
  EXPECT_FALSE(allowed(p, "github.com"));
  EXPECT_FALSE(allowed(p, "agithub.com"));
  EXPECT_FALSE(allowed(p, "a.github.com.evil.com"));
  EXPECT_EQ(p.decide("x.github.com", Protocol::Http).rule, "*.github.com");
}

TEST(PolicyWildcard, StarInsideALabel) {
  const Policy p = make({"api-*.example.com"});
  EXPECT_TRUE(allowed(p, "api-.example.com"));
  EXPECT_TRUE(allowed(p, "api-v1.example.com"));
  EXPECT_TRUE(allowed(p, "API-V2.Example.com"));
  EXPECT_FALSE(allowed(p, "api.example.com"));
  EXPECT_FALSE(allowed(p, "example.com"));
  EXPECT_FALSE(allowed(p, "x.api-v1.example.com"));  // anchored: no implicit subdomains
  EXPECT_TRUE(allowed(p, "api-v1.eu.example.com"));  // '*' itself covers dots
  EXPECT_FALSE(allowed(p, "xapi-v1.example.com"));
}

TEST(PolicyWildcard, StarAtLabelStartAndMiddleLabel) {
  const Policy p = make({"*-cdn.example.com", "a.*.example.net", "x*y.example.org"});
  EXPECT_TRUE(allowed(p, "eu-cdn.example.com"));
  EXPECT_TRUE(allowed(p, "-cdn.example.com"));
  EXPECT_FALSE(allowed(p, "cdn.example.com"));
  EXPECT_FALSE(allowed(p, "eu-cdn.x.example.com"));
  EXPECT_TRUE(allowed(p, "a.b.example.net"));
  EXPECT_TRUE(allowed(p, "a.b.c.example.net"));
  EXPECT_FALSE(allowed(p, "a.example.net"));
  EXPECT_FALSE(allowed(p, "b.example.net"));
  EXPECT_FALSE(allowed(p, "b.a.c.example.net"));
  EXPECT_TRUE(allowed(p, "xy.example.org"));
  EXPECT_TRUE(allowed(p, "x-1-y.example.org"));
  EXPECT_FALSE(allowed(p, "xyz.example.org"));
  EXPECT_FALSE(allowed(p, "yx.example.org"));
}

TEST(PolicyWildcard, SeveralWildcardLabels) {
  const Policy p = make({"*.*.example.com"});
  EXPECT_TRUE(allowed(p, "a.b.example.com"));
  EXPECT_TRUE(allowed(p, "a.b.c.example.com"));
  EXPECT_FALSE(allowed(p, "a.example.com"));
}

TEST(PolicyWildcard, UnderscoreIsCoveredByStar) {
  // Underscore is a host character here, so '*' covers it (also for blocklist wildcards).
  const Policy p = make({"*.x.com"});
  EXPECT_TRUE(allowed(p, "_dmarc.x.com"));
}

TEST(PolicyWildcard, PrivateSuffixAndUnknownTldAreAccepted) {
  const Policy p = make({"*.github.io", "*.test"});
  EXPECT_TRUE(allowed(p, "octocat.github.io"));
  EXPECT_FALSE(allowed(p, "github.io"));
  EXPECT_TRUE(allowed(p, "origin.test"));
}

TEST(PolicyWildcard, IdnSuffix) {
  const Policy p = make({"*.bücher.example"});
  EXPECT_TRUE(allowed(p, "www.xn--bcher-kva.example"));
  EXPECT_TRUE(allowed(p, "www.BÜCHER.example"));
  EXPECT_FALSE(allowed(p, "bücher.example"));
}

TEST(PolicyWildcard, TrailingDot) {
  const Policy p = make({"*.github.com."});
  EXPECT_TRUE(allowed(p, "a.github.com"));
  EXPECT_TRUE(allowed(p, "a.github.com."));
}

// ---------------------------------------------------------------------------------------------
// Protocol prefixes

TEST(PolicyProtocol, HttpOnly) {
  const Policy p = make({"http://plain.example.com"});
  EXPECT_TRUE(allowed(p, "plain.example.com", Protocol::Http));
  EXPECT_TRUE(allowed(p, "sub.plain.example.com", Protocol::Http));
  const Decision d = p.decide("plain.example.com", Protocol::Https);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, "allowed for http only by 'http://plain.example.com'");
  EXPECT_EQ(d.rule, "http://plain.example.com");
  EXPECT_TRUE(allowed(p, "plain.example.com", Protocol::Dns));
}

TEST(PolicyProtocol, HttpsOnly) {
  const Policy p = make({"HTTPS://secure.example.com/"});
  EXPECT_TRUE(allowed(p, "secure.example.com", Protocol::Https));
  const Decision d = p.decide("a.secure.example.com", Protocol::Http);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, "allowed for https only by 'HTTPS://secure.example.com'");
  EXPECT_TRUE(allowed(p, "secure.example.com", Protocol::Dns));
  EXPECT_FALSE(allowed(p, "other.example.com", Protocol::Dns));
}

TEST(PolicyProtocol, NoPrefixAllowsBoth) {
  const Policy p = make({"both.example.com"});
  EXPECT_TRUE(allowed(p, "both.example.com", Protocol::Http));
  EXPECT_TRUE(allowed(p, "both.example.com", Protocol::Https));
  EXPECT_TRUE(allowed(p, "both.example.com", Protocol::Dns));
}

TEST(PolicyProtocol, TwoPrefixedEntriesCombine) {
  const Policy p = make({"http://x.com", "https://x.com"});
  EXPECT_EQ(p.decide("x.com", Protocol::Http).rule, "http://x.com");
  EXPECT_EQ(p.decide("x.com", Protocol::Https).rule, "https://x.com");
}

TEST(PolicyProtocol, DeeperEntryForOtherProtocol) {
  // https for the whole domain, http only for one subdomain.
  const Policy p = make({"https://x.com", "http://legacy.x.com"});
  EXPECT_TRUE(allowed(p, "legacy.x.com", Protocol::Http));
  EXPECT_TRUE(allowed(p, "legacy.x.com", Protocol::Https));
  EXPECT_FALSE(allowed(p, "api.x.com", Protocol::Http));
}

TEST(PolicyProtocol, WildcardWithPrefix) {
  const Policy p = make({"https://*.cdn.example.com"});
  EXPECT_TRUE(allowed(p, "a.cdn.example.com", Protocol::Https));
  const Decision d = p.decide("a.cdn.example.com", Protocol::Http);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, "allowed for https only by 'https://*.cdn.example.com'");
}

// ---------------------------------------------------------------------------------------------
// Blocklist

TEST(PolicyBlock, BlockBeatsAllow) {
  const Policy p = make({"github.com"}, {"evil.github.com"});
  const Decision d = p.decide("evil.github.com", Protocol::Https);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, "blocked by 'evil.github.com'");
  EXPECT_EQ(d.rule, "evil.github.com");
  EXPECT_FALSE(allowed(p, "x.evil.github.com"));
  EXPECT_TRUE(allowed(p, "api.github.com"));
  EXPECT_TRUE(allowed(p, "github.com"));
}

TEST(PolicyBlock, BlockOfParentDomain) {
  const Policy p = make({"api.github.com"}, {"github.com"});
  EXPECT_EQ(p.decide("api.github.com", Protocol::Https).reason, "blocked by 'github.com'");
}

TEST(PolicyBlock, BlockAlsoAppliesToDns) {
  const Policy p = make({"github.com"}, {"gist.github.com"});
  EXPECT_FALSE(allowed(p, "gist.github.com", Protocol::Dns));
  EXPECT_TRUE(allowed(p, "api.github.com", Protocol::Dns));
}

TEST(PolicyBlock, BlockWildcards) {
  const Policy p =
      make({"example.com", "github.com"}, {"*.ads.example.com", "tracker-*.example.com", "*.com"});
  // "*.com" blocks every .com name below the TLD, including the allowed ones.
  EXPECT_EQ(p.decide("github.com", Protocol::Https).reason, "blocked by '*.com'");
  const Policy q = make({"example.com"}, {"*.ads.example.com", "tracker-*.example.com"});
  EXPECT_TRUE(allowed(q, "ads.example.com"));
  EXPECT_FALSE(allowed(q, "x.ads.example.com"));
  EXPECT_FALSE(allowed(q, "_x.ads.example.com"));
  EXPECT_EQ(q.decide("tracker-1.example.com", Protocol::Http).reason,
            "blocked by 'tracker-*.example.com'");
  EXPECT_TRUE(allowed(q, "tracker.example.com"));
  EXPECT_TRUE(allowed(q, "www.example.com"));
}

TEST(PolicyBlock, ProtocolPrefixIgnoredInBlocklist) {
  const Policy p = make({"x.com"}, {"http://bad.x.com"});
  EXPECT_FALSE(allowed(p, "bad.x.com", Protocol::Https));
  EXPECT_FALSE(allowed(p, "bad.x.com", Protocol::Http));
  EXPECT_FALSE(allowed(p, "bad.x.com", Protocol::Dns));
}

TEST(PolicyBlock, BlockNormalizesLikeAllow) {
  const Policy p = make({"example"}, {"EVIL.bücher.example."});
  EXPECT_FALSE(allowed(p, "evil.xn--bcher-kva.example"));
  EXPECT_FALSE(allowed(p, "a.Evil.Bücher.example"));
  EXPECT_TRUE(allowed(p, "bücher.example"));
}

TEST(PolicyBlock, BlocklistAcceptsPublicSuffixes) {
  EXPECT_EQ(build_error({"github.com"}, {"*.com", "com", "*.co.uk", "co.uk"}), "<no error>");
  const Policy p = make({"github.com"}, {"com"});
  EXPECT_FALSE(allowed(p, "github.com"));
}

TEST(PolicyBlock, BlocklistStillRejectsMalformedEntries) {
  EXPECT_THAT(build_error({"x.com"}, {"*.*.com"}), HasSubstr("'*.*.com'"));
  EXPECT_THAT(build_error({"x.com"}, {"*"}), HasSubstr("'*'"));
  EXPECT_THAT(build_error({"x.com"}, {"ftp://x.com"}), HasSubstr("'ftp://x.com'"));
  EXPECT_THAT(build_error({"x.com"}, {"x.com:80"}), HasSubstr("'x.com:80'"));
  EXPECT_THAT(build_error({"x.com"}, {""}), HasSubstr("''"));
}

// ---------------------------------------------------------------------------------------------
// No allowlist, counts, moves

TEST(PolicyEmpty, NoAllowlistDeniesEverything) {
  const Policy p = make({});
  EXPECT_TRUE(p.allowlist_empty());
  const Decision d = p.decide("github.com", Protocol::Https);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, "no allowlist given");
  EXPECT_EQ(p.decide("1.2.3.4", Protocol::Dns).reason, "no allowlist given");

  const Policy only_block = make({}, {"evil.com"});
  EXPECT_TRUE(only_block.allowlist_empty());
  EXPECT_EQ(only_block.decide("good.com", Protocol::Http).reason, "no allowlist given");

  const Policy def;
  EXPECT_TRUE(def.allowlist_empty());
  EXPECT_EQ(def.decide("github.com", Protocol::Https).reason, "no allowlist given");
}

TEST(PolicyEmpty, CountsAndMove) {
  Policy p = make({"a.com", "*.b.com", "1.2.3.4"}, {"c.a.com"});
  EXPECT_FALSE(p.allowlist_empty());
  EXPECT_EQ(p.allow_rule_count(), 3u);
  EXPECT_EQ(p.block_rule_count(), 1u);
  Policy q = std::move(p);
  EXPECT_TRUE(allowed(q, "x.b.com"));
  EXPECT_EQ(q.allow_rule_count(), 3u);
  Policy r;
  r = std::move(q);
  EXPECT_FALSE(allowed(r, "c.a.com"));
  EXPECT_TRUE(allowed(r, "1.2.3.4"));
}

// ---------------------------------------------------------------------------------------------
// Requested hosts that are not names

TEST(PolicyHost, InvalidHostNames) {
  const Policy p = make({"github.com", "1.2.3.4"});
  const std::string long_label(64, 'a');
  std::string long_name;
  while (long_name.size() < 250) long_name += "abcdefghi.";
  long_name += "github.com";  // > 253
  const std::vector<std::string> bad = {"",
                                        ".",
                                        " ",
                                        "github.com ",
                                        " github.com",
                                        "git hub.com",
                                        "github.com/x",
                                        "github.com:443",
                                        "a..github.com",
                                        ".github.com",
                                        long_label + ".github.com",
                                        long_name,
                                        std::string("github.com\0", 11),
                                        std::string("x\0.github.com", 13),
                                        "x\x01.github.com",
                                        "*.github.com",
                                        "x'.github.com",
                                        "\xff\xfe.github.com",
                                        "[github.com]",
                                        "[::1",
                                        "fe80::1%eth0",
                                        "127.1",
                                        "0x7f.0.0.1",
                                        "010.0.0.1",
                                        "1.2.3.04",
                                        "2130706433",
                                        "1.2.3.4.5",
                                        "github.123",
                                        "github.0x1f"};
  for (const std::string& host : bad) {
    for (Protocol proto : {Protocol::Http, Protocol::Https, Protocol::Dns}) {
      const Decision d = p.decide(host, proto);
      EXPECT_FALSE(d.allowed) << host;
      EXPECT_EQ(d.reason, "invalid host name") << host;
      EXPECT_EQ(d.rule, "");
    }
  }
  // Long but valid: 63-byte label.
  EXPECT_TRUE(allowed(p, std::string(63, 'a') + ".github.com"));
}

TEST(PolicyHost, Exactly253BytesIsValid) {
  const Policy p = make({"github.com"});
  std::string name = "github.com";
  while (name.size() + 2 <= 253) name = "a." + name;
  if (name.size() < 253) name = "b" + name;
  ASSERT_EQ(name.size(), 253u);
  EXPECT_TRUE(allowed(p, name));
  EXPECT_TRUE(allowed(p, name + "."));
  EXPECT_EQ(p.decide("c" + name, Protocol::Https).reason, "invalid host name");
}

// ---------------------------------------------------------------------------------------------
// IP literals

TEST(PolicyIp, LiteralDeniedUnlessListed) {
  const Policy p = make({"github.com", "192.0.2.10"});
  EXPECT_TRUE(allowed(p, "192.0.2.10"));
  EXPECT_EQ(p.decide("192.0.2.10", Protocol::Https).rule, "192.0.2.10");
  EXPECT_TRUE(allowed(p, "192.0.2.10."));
  const Decision d = p.decide("192.0.2.11", Protocol::Https);
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, "IP literal not in allowlist");
  EXPECT_EQ(p.decide("127.0.0.1", Protocol::Http).reason, "IP literal not in allowlist");
  EXPECT_EQ(p.decide("::1", Protocol::Http).reason, "IP literal not in allowlist");
  EXPECT_EQ(p.decide("[2001:db8::1]", Protocol::Http).reason, "IP literal not in allowlist");
}

TEST(PolicyIp, Ipv6CanonicalForms) {
  const Policy p = make({"[::1]", "2001:DB8:0:0::10"});
  for (const char* host : {"::1", "[::1]", "0:0::1", "0000:0000:0000:0000:0000:0000:0000:0001",
                           "2001:db8::10", "[2001:0db8::0010]"}) {
    EXPECT_TRUE(allowed(p, host)) << host;
  }
  EXPECT_EQ(p.decide("0:0::1", Protocol::Https).rule, "[::1]");
  EXPECT_FALSE(allowed(p, "::2"));
  const Policy q = make({"0:0::1"});
  EXPECT_TRUE(allowed(q, "[::1]"));
}

TEST(PolicyIp, V4MappedIsTheSameDestination) {
  const Policy p = make({"192.0.2.1"}, {"198.51.100.7"});
  EXPECT_TRUE(allowed(p, "::ffff:192.0.2.1"));
  EXPECT_TRUE(allowed(p, "[::ffff:c000:201]"));
  EXPECT_FALSE(allowed(p, "::192.0.2.1"));  // v4-compatible is another address
  const Policy q = make({"::ffff:198.51.100.7"}, {"198.51.100.7"});
  EXPECT_EQ(q.decide("::ffff:198.51.100.7", Protocol::Https).reason, "blocked by '198.51.100.7'");
}

TEST(PolicyIp, BlockedLiteralBeatsAllowed) {
  const Policy p = make({"203.0.113.5", "[2001:db8::5]"}, {"203.0.113.5", "2001:db8:0::5"});
  EXPECT_EQ(p.decide("203.0.113.5", Protocol::Https).reason, "blocked by '203.0.113.5'");
  EXPECT_EQ(p.decide("[2001:db8::5]", Protocol::Dns).reason, "blocked by '2001:db8:0::5'");
}

TEST(PolicyIp, ProtocolPrefixedLiteral) {
  const Policy p = make({"https://[2001:db8::7]", "http://192.0.2.7"});
  EXPECT_TRUE(allowed(p, "2001:db8::7", Protocol::Https));
  EXPECT_EQ(p.decide("2001:db8::7", Protocol::Http).reason,
            "allowed for https only by 'https://[2001:db8::7]'");
  EXPECT_TRUE(allowed(p, "192.0.2.7", Protocol::Http));
  EXPECT_FALSE(allowed(p, "192.0.2.7", Protocol::Https));
}

TEST(PolicyIp, AnIpEntryDoesNotAllowNames) {
  const Policy p = make({"192.0.2.1"});
  EXPECT_FALSE(allowed(p, "x.192.0.2.1"));  // numeric last label: not a name
  EXPECT_EQ(p.decide("example.com", Protocol::Https).reason, "not in allowlist");
}

// ---------------------------------------------------------------------------------------------
// Rejected entries: every reason, with the entry quoted

struct Rejection {
  std::string entry;
  std::string quoted;  // how the entry appears in the message
  std::string reason;  // a substring of the message
};

class PolicyRejects : public ::testing::TestWithParam<Rejection> {};

TEST_P(PolicyRejects, AllowEntry) {
  const Rejection& r = GetParam();
  const std::string msg = build_error({"good.example.com", r.entry});
  EXPECT_THAT(msg, StartsWith("invalid domain entry " + r.quoted + ": ")) << msg;
  EXPECT_THAT(msg, HasSubstr(r.reason)) << msg;
}

const std::string kLabel64(64, 'a');

std::string quote(const std::string& s) {
  std::string out(1, '\'');
  out += s;
  out += '\'';
  return out;
}

std::string long_name_254() {
  std::string s;
  while (s.size() < 250) s += "abcdefghi.";
  s += "com";  // 253
  return "x" + s;
}

INSTANTIATE_TEST_SUITE_P(
    All, PolicyRejects,
    ::testing::Values(
        Rejection{"", "''", "empty entry"}, Rejection{"   ", "''", "empty entry"},
        Rejection{"/", "'/'", "empty entry"}, Rejection{"https://", "'https://'", "empty entry"},
        Rejection{"*", "'*'", "every host"}, Rejection{"**", "'**'", "every host"},
        Rejection{"*.*", "'*.*'", "every host"}, Rejection{"*.", "'*.'", "every host"},
        Rejection{".", "'.'", "empty"}, Rejection{"..", "'..'", "empty label"},
        Rejection{"a..b.com", "'a..b.com'", "empty label"},
        Rejection{".github.com", "'.github.com'", "empty label"},
        Rejection{"git hub.com", "'git hub.com'", "whitespace"},
        Rejection{"git\thub.com", "'git\\x09hub.com'", "whitespace"},
        Rejection{"'github.com'", "''github.com''", "quotes"},
        Rejection{"\"github.com\"", "'\"github.com\"'", "quotes"},
        Rejection{"github.com;rm", "'github.com;rm'", "';'"},
        Rejection{"github.com#x", "'github.com#x'", "'#'"},
        Rejection{"git\\hub.com", "'git\\hub.com'", "backslash"},
        Rejection{std::string("git\0hub.com", 11), "'git\\x00hub.com'", "control"},
        Rejection{"git\x01hub.com", "'git\\x01hub.com'", "control"},
        Rejection{"git\x7fhub.com", "'git\\x7fhub.com'", "control"},
        Rejection{"github.com/path", "'github.com/path'", "paths are not allowed"},
        Rejection{"github.com//", "'github.com//'", "paths are not allowed"},
        Rejection{"https://github.com/x/", "'https://github.com/x/'", "paths"},
        Rejection{"github.com:443", "'github.com:443'", "ports are not allowed"},
        Rejection{"https://github.com:443", "'https://github.com:443'", "ports"},
        Rejection{"[::1]:443", "'[::1]:443'", "ports are not allowed"},
        Rejection{"1.2.3.4:80", "'1.2.3.4:80'", "ports are not allowed"},
        Rejection{"::g", "'::g'", "invalid IPv6 address"},
        Rejection{"[1.2.3.4]", "'[1.2.3.4]'", "invalid IPv6 address"},
        Rejection{"[::1", "'[::1'", "invalid IPv6 address"},
        Rejection{"*::1", "'*::1'", "wildcards are not allowed in IP"},
        Rejection{"ftp://github.com", "'ftp://github.com'", "unsupported protocol 'ftp://'"},
        Rejection{"ws://github.com", "'ws://github.com'", "unsupported protocol"},
        Rejection{"user@github.com", "'user@github.com'", "invalid character '@'"},
        Rejection{"github.com?", "'github.com?'", "invalid character '?'"},
        Rejection{"*.*.com", "'*.*.com'", "at least two literal labels"},
        Rejection{"a*.b*.example", "'a*.b*.example'", "at least two literal labels"},
        Rejection{"github.*", "'github.*'", "top-level"},
        Rejection{"*.com", "'*.com'", "wildcard covers a whole public suffix"},
        Rejection{"*.co.uk", "'*.co.uk'", "wildcard covers a whole public suffix"},
        Rejection{"api-*.com", "'api-*.com'", "public suffix"},
        Rejection{"*.*.co.uk", "'*.*.co.uk'", "public suffix"},
        Rejection{"com", "'com'", "public suffix"}, Rejection{"co.uk", "'co.uk'", "public suffix"},
        Rejection{"CO.UK.", "'CO.UK.'", "public suffix"},
        Rejection{"https://com", "'https://com'", "public suffix"},
        Rejection{kLabel64 + ".com", quote(kLabel64 + ".com"), "longer than 63"},
        Rejection{long_name_254(), quote(long_name_254()), "longer than 253"},
        Rejection{"127.1", "'127.1'", "invalid IPv4"},
        Rejection{"0x7f.0.0.1", "'0x7f.0.0.1'", "invalid IPv4"},
        Rejection{"010.0.0.1", "'010.0.0.1'", "invalid IPv4"},
        Rejection{"2130706433", "'2130706433'", "invalid IPv4"},
        Rejection{"1.2.3.4.5", "'1.2.3.4.5'", "invalid IPv4"},
        Rejection{"\xff\xfe.com", "'\xff\xfe.com'", "internationalized"},
        Rejection{"b\xc3\xbc*.example", "'b\xc3\xbc*.example'", "must be ASCII"},
        Rejection{"a\xe3\x80\x82"
                  "b.example",
                  "'a\xe3\x80\x82"
                  "b.example'",
                  "internationalized"}));

TEST(PolicyRejectsMore, FirstBadEntryThrowsEvenAfterGoodOnes) {
  const std::string msg = build_error({"a.com", "b.com", "*.com", "*"});
  EXPECT_EQ(msg, "invalid domain entry '*.com': wildcard covers a whole public suffix");
}

TEST(PolicyRejectsMore, ErrorQuotesTrimmedEntry) {
  EXPECT_THAT(build_error({"  *.com  "}), StartsWith("invalid domain entry '*.com': "));
}

TEST(PolicyRejectsMore, AcceptedBorderlineEntries) {
  EXPECT_EQ(
      build_error({"*.github.io", "github.io", "*.test", "test", "localhost", "_dmarc.example.com",
                   "-x-.example.com", "*.*.example.com", std::string(63, 'a') + ".example.com",
                   "x.com.", "https://x.com/", "http://X.COM", "192.0.2.1", "::1", "[::1]"}),
      "<no error>");
}

}  // namespace
}  // namespace awf::policy

namespace awf::policy {
namespace {

// An xn-- label that does not decode names nothing: the entry is a mistake, said at once.
TEST(PolicyPlain, InvalidPunycodeIsRefused) {
  EXPECT_NE(build_error({"xn--zz.com"}).find("'xn--zz' is not valid punycode"), std::string::npos);
  EXPECT_NE(build_error({"*.xn--zz.example"}).find("not valid punycode"), std::string::npos);
  EXPECT_NE(build_error({}, {"xn--zz.example"}).find("not valid punycode"), std::string::npos);
  EXPECT_EQ(build_error({"xn--bcher-kva.example", "bücher.example"}), "<no error>");
}

}  // namespace
}  // namespace awf::policy
