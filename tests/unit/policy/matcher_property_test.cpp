// The trie matcher against a naive reference (every rule tested against the full host with a
// dynamic-programming glob), on many generated patterns and hosts; plus the internal glob
// matcher against the same reference and a 100k-rule build.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "policy/domain_list.h"
#include "policy/domain_pattern.h"
#include "policy/policy.h"

namespace awf::policy {
namespace {

// Reference glob: '*' matches any run of characters. O(n*m) DP.
bool reference_glob(std::string_view p, std::string_view t) {
  std::vector<char> prev(t.size() + 1, 0), cur(t.size() + 1, 0);
  prev[0] = 1;
  for (std::size_t i = 1; i <= p.size(); ++i) {
    cur.assign(t.size() + 1, 0);
    if (p[i - 1] == '*') {
      cur[0] = prev[0];
      for (std::size_t j = 1; j <= t.size(); ++j) cur[j] = prev[j] || cur[j - 1];
    } else {
      for (std::size_t j = 1; j <= t.size(); ++j) cur[j] = prev[j - 1] && p[i - 1] == t[j - 1];
    }
    prev.swap(cur);
  }
  return prev[t.size()] != 0;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

struct RefRule {
  detail::Entry entry;
  bool block;
};

bool reference_covers(const detail::Entry& e, const std::string& host) {
  switch (e.kind) {
    case detail::EntryKind::kName:
      return host == e.name || ends_with(host, "." + e.name);
    case detail::EntryKind::kWildcard:
      return reference_glob(e.name, host);
    case detail::EntryKind::kIp:
      return false;  // hosts generated here are names
  }
  return false;
}

// Returns "blocked", "allowed", "other-protocol" or "not in allowlist".
std::string reference_decide(const std::vector<RefRule>& rules, const std::string& host,
                             Protocol proto) {
  for (const RefRule& r : rules) {
    if (r.block && reference_covers(r.entry, host)) return "blocked";
  }
  bool other = false;
  for (const RefRule& r : rules) {
    if (r.block || !reference_covers(r.entry, host)) continue;
    const std::uint8_t want = proto == Protocol::Http    ? detail::kProtoHttp
                              : proto == Protocol::Https ? detail::kProtoHttps
                                                         : detail::kProtoBoth;
    if (r.entry.protocols & want) return "allowed";
    other = true;
  }
  return other ? "other-protocol" : "not in allowlist";
}

std::string category(const Decision& d) {
  if (d.allowed) return "allowed";
  if (d.reason.rfind("blocked by '", 0) == 0) return "blocked";
  if (d.reason.rfind("allowed for ", 0) == 0) return "other-protocol";
  return std::string(d.reason);
}

const std::vector<std::string> kLabels = {"a", "b", "ab", "ba", "c", "q-z", "_u", "zz9", "a-b"};

std::string random_label(std::mt19937& rng) {
  return kLabels[std::uniform_int_distribution<std::size_t>(0, kLabels.size() - 1)(rng)];
}

std::string random_host(std::mt19937& rng) {
  const int n = std::uniform_int_distribution<int>(1, 5)(rng);
  std::string h;
  for (int i = 0; i < n; ++i) {
    if (i) h += '.';
    h += random_label(rng);
  }
  return h;
}

std::string random_pattern(std::mt19937& rng) {
  const int n = std::uniform_int_distribution<int>(1, 4)(rng);
  std::string p;
  for (int i = 0; i < n; ++i) {
    std::string label = random_label(rng);
    switch (std::uniform_int_distribution<int>(0, 9)(rng)) {
      case 0:
        label = "*";
        break;
      case 1:
        label += "*";
        break;
      case 2:
        label = "*" + label;
        break;
      case 3:
        label.insert(label.size() / 2, "*");
        break;
      case 4:
        label = "*" + label + "*";
        break;
      default:
        break;
    }
    if (i) p += '.';
    p += label;
  }
  switch (std::uniform_int_distribution<int>(0, 5)(rng)) {
    case 0:
      return "http://" + p;
    case 1:
      return "https://" + p;
    default:
      return p;
  }
}

TEST(MatcherProperty, TrieAgreesWithNaiveReference) {
  std::mt19937 rng(20240611);
  std::size_t compared = 0;
  std::size_t allowed_seen = 0;
  std::size_t blocked_seen = 0;
  std::size_t other_seen = 0;
  std::size_t wildcard_rules = 0;
  for (int round = 0; round < 300; ++round) {
    std::vector<std::string> allow;
    std::vector<std::string> block;
    std::vector<RefRule> ref;
    const int n_allow = std::uniform_int_distribution<int>(1, 12)(rng);
    const int n_block = std::uniform_int_distribution<int>(0, 3)(rng);
    for (int i = 0; i < n_allow + n_block; ++i) {
      const bool is_block = i >= n_allow;
      const std::string pattern = random_pattern(rng);
      try {
        detail::Entry e = detail::parse_entry(
            pattern, is_block ? detail::ListKind::kBlock : detail::ListKind::kAllow);
        wildcard_rules += e.kind == detail::EntryKind::kWildcard;
        ref.push_back(RefRule{std::move(e), is_block});
        (is_block ? block : allow).push_back(pattern);
      } catch (const PolicyError&) {
        // Rejected patterns (e.g. "*.*.a") are simply not used.
      }
    }
    if (allow.empty()) continue;
    const Policy policy = Policy::build(allow, block);
    for (int h = 0; h < 200; ++h) {
      const std::string host = random_host(rng);
      for (Protocol proto : {Protocol::Http, Protocol::Https, Protocol::Dns}) {
        const std::string expected = reference_decide(ref, host, proto);
        const Decision d = policy.decide(host, proto);
        ASSERT_EQ(category(d), expected)
            << "host " << host << " rules allow=" << ::testing::PrintToString(allow)
            << " block=" << ::testing::PrintToString(block) << " reason=" << d.reason;
        if (expected != "not in allowlist") {
          EXPECT_FALSE(d.rule.empty());
        }
        allowed_seen += expected == "allowed";
        blocked_seen += expected == "blocked";
        other_seen += expected == "other-protocol";
        ++compared;
      }
    }
  }
  // The generator must exercise every outcome, or the comparison proves little.
  EXPECT_GT(compared, 100000u);
  EXPECT_GT(allowed_seen, 1000u);
  EXPECT_GT(blocked_seen, 1000u);
  EXPECT_GT(other_seen, 100u);
  EXPECT_GT(wildcard_rules, 300u);
}

TEST(GlobMatch, AgreesWithReference) {
  std::mt19937 rng(7);
  const std::string alphabet = "ab.*";
  std::size_t matches = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string p;
    std::string t;
    const int pn = std::uniform_int_distribution<int>(0, 8)(rng);
    const int tn = std::uniform_int_distribution<int>(0, 10)(rng);
    for (int k = 0; k < pn; ++k) p += alphabet[std::uniform_int_distribution<int>(0, 3)(rng)];
    for (int k = 0; k < tn; ++k) t += alphabet[std::uniform_int_distribution<int>(0, 2)(rng)];
    const bool expected = reference_glob(p, t);
    ASSERT_EQ(detail::glob_match(p, t), expected) << "pattern '" << p << "' text '" << t << "'";
    matches += expected;
  }
  EXPECT_GT(matches, 10000u);
}

TEST(GlobMatch, Examples) {
  EXPECT_TRUE(detail::glob_match("*", ""));
  EXPECT_TRUE(detail::glob_match("api-*", "api-"));
  EXPECT_TRUE(detail::glob_match("api-*", "api-v1.eu"));
  EXPECT_FALSE(detail::glob_match("api-*", "api"));
  EXPECT_TRUE(detail::glob_match("a*b*c", "abc"));
  EXPECT_FALSE(detail::glob_match("a*b*c", "acb"));
  EXPECT_FALSE(detail::glob_match("ab*ba", "aba"));  // head and tail must not overlap
  EXPECT_TRUE(detail::glob_match("ab*ba", "abba"));
  EXPECT_FALSE(detail::glob_match("abc", "abd"));
}

TEST(GlobMatch, PathologicalPatternStaysFast) {
  // A backtracking matcher would explode here; the segment matcher is polynomial.
  const std::string pattern = "a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b";
  const std::string text(240, 'a');
  for (int i = 0; i < 1000; ++i) ASSERT_FALSE(detail::glob_match(pattern, text));
  const Policy p = Policy::build({pattern + ".example.com"}, {});
  EXPECT_FALSE(p.decide(text.substr(0, 60) + ".example.com", Protocol::Https).allowed);
}

TEST(LargePolicy, HundredThousandRules) {
  std::vector<std::string> allow;
  std::vector<std::string> block;
  allow.reserve(100000);
  for (int i = 0; i < 100000; ++i) {
    const std::string n = std::to_string(i);
    switch (i % 4) {
      case 0:
        allow.push_back("host" + n + ".domain" + std::to_string(i % 997) + ".com");
        break;
      case 1:
        allow.push_back("*.w" + n + ".example.org");
        break;
      case 2:
        allow.push_back("https://api-" + n + "-*.svc" + std::to_string(i % 13) + ".example.net");
        break;
      default:
        allow.push_back("site" + n + ".test");
        break;
    }
  }
  for (int i = 0; i < 1000; ++i)
    block.push_back("bad.host" + std::to_string(i * 4) + ".domain" + std::to_string((i * 4) % 997) +
                    ".com");
  const Policy p = Policy::build(allow, block);
  EXPECT_EQ(p.allow_rule_count(), 100000u);
  EXPECT_EQ(p.block_rule_count(), 1000u);

  EXPECT_TRUE(
      p.decide("host4000.domain" + std::to_string(4000 % 997) + ".com", Protocol::Http).allowed);
  EXPECT_TRUE(
      p.decide("x.host4000.domain" + std::to_string(4000 % 997) + ".com", Protocol::Https).allowed);
  EXPECT_FALSE(
      p.decide("host4001.domain" + std::to_string(4001 % 997) + ".com", Protocol::Http).allowed);
  EXPECT_EQ(
      p.decide("bad.host400.domain" + std::to_string(400 % 997) + ".com", Protocol::Http).reason,
      "blocked by 'bad.host400.domain" + std::to_string(400 % 997) + ".com'");
  EXPECT_TRUE(p.decide("a.b.w99997.example.org", Protocol::Http).allowed);
  EXPECT_FALSE(p.decide("w99997.example.org", Protocol::Http).allowed);
  EXPECT_FALSE(p.decide("a.w99996.example.org", Protocol::Http).allowed);
  EXPECT_TRUE(
      p.decide("api-99998-x.svc" + std::to_string(99998 % 13) + ".example.net", Protocol::Https)
          .allowed);
  EXPECT_EQ(
      p.decide("api-99998-x.svc" + std::to_string(99998 % 13) + ".example.net", Protocol::Http)
          .reason,
      "allowed for https only by 'https://api-99998-*.svc" + std::to_string(99998 % 13) +
          ".example.net'");
  EXPECT_FALSE(p.decide("api-99998-x.svc" + std::to_string((99998 + 1) % 13) + ".example.net",
                        Protocol::Https)
                   .allowed);
  EXPECT_TRUE(p.decide("site99999.test", Protocol::Dns).allowed);
  EXPECT_EQ(p.decide("site100000.test", Protocol::Dns).reason, "not in allowlist");
}

}  // namespace
}  // namespace awf::policy
