#include "logs/stats.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_entries.h"

namespace awf::logs {
namespace {

using testing::entry;

std::vector<LogEntry> sample_run() {
  return {
      entry("connect", "api.github.com", true, 1000),
      entry("connect", "api.github.com", true, 2000),
      entry("http", "api.github.com", true, 2500),
      entry("dns", "api.github.com", true, 900),  // answered: not counted
      entry("dns", "evil.test", false, 3000),
      entry("connect", "evil.test", false, 3100),
      entry("blocked", "203.0.113.10", false, 4000),
  };
}

TEST(Stats, ApiProxyRequestsHaveTheirOwnRow) {
  LogEntry api = entry("api", "llm.test", true, 1000);
  api.record.transport = "api-proxy";
  const Stats s = compute_stats({api, entry("connect", "llm.test", true, 2000)});
  ASSERT_EQ(s.rows.size(), 2u);
  EXPECT_TRUE((s.rows[0].via == "api") != (s.rows[1].via == "api"));
  const std::string text = format_stats_pretty(s, Palette{});
  EXPECT_NE(text.find("api    1 allowed"), std::string::npos) << text;
}

TEST(Stats, CountsRequestsDnsRefusalsAndBlockedAttempts) {
  const Stats s = compute_stats(sample_run());
  EXPECT_EQ(s.total, 6u);
  EXPECT_EQ(s.allowed, 3u);
  EXPECT_EQ(s.denied, 3u);
  EXPECT_EQ(s.unique_domains, 2u);
  ASSERT_TRUE(s.range);
  EXPECT_EQ(s.range->first_ms, 1000);
  EXPECT_EQ(s.range->last_ms, 4000);
  ASSERT_EQ(s.rows.size(), 5u);
  EXPECT_EQ(s.rows[0].name, "api.github.com");
  EXPECT_EQ(s.rows[0].via, "https");
  EXPECT_EQ(s.rows[0].allowed, 2u);
  bool dns_row = false;
  bool blocked_row = false;
  for (const TargetRow& row : s.rows) {
    dns_row |= row.name == "evil.test" && row.via == "dns" && row.denied == 1;
    blocked_row |= row.name == "203.0.113.10:22" && row.via == "tcp" && row.denied == 1;
  }
  EXPECT_TRUE(dns_row);
  EXPECT_TRUE(blocked_row);
}

TEST(Stats, EmptyRun) {
  const Stats s = compute_stats({});
  EXPECT_EQ(s.total, 0u);
  EXPECT_FALSE(s.range);
  EXPECT_NE(format_stats_pretty(s, Palette{}).find("0.0%"), std::string::npos);
  EXPECT_NE(format_stats_markdown(s).find("No network activity"), std::string::npos);
}

TEST(Stats, PrettyHasPercentagesAndRows) {
  const std::string text = format_stats_pretty(compute_stats(sample_run()), Palette{});
  EXPECT_NE(text.find("Total requests:  6"), std::string::npos) << text;
  EXPECT_NE(text.find("Allowed:         3 (50.0%)"), std::string::npos) << text;
  EXPECT_NE(text.find("Time range:      1970-01-01 00:00:01.000 - 1970-01-01 00:00:04.000"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("evil.test        dns    0 allowed, 1 denied"), std::string::npos) << text;
}

TEST(Stats, JsonIsMachineReadable) {
  const auto j = nlohmann::json::parse(format_stats_json(compute_stats(sample_run())));
  EXPECT_EQ(j["totalRequests"], 6);
  EXPECT_EQ(j["deniedRequests"], 3);
  EXPECT_EQ(j["timeRange"]["start"], "1970-01-01T00:00:01.000Z");
  EXPECT_EQ(j["byDomain"][0]["domain"], "api.github.com");
  EXPECT_EQ(j["byDomain"][0]["total"], 2);
}

TEST(Stats, MarkdownIsADetailsBlockWithAHeadline) {
  const std::string md = format_stats_markdown(compute_stats(sample_run()));
  EXPECT_EQ(md.rfind("<details>\n<summary>Firewall: 6 requests | 3 allowed (50.0%) | 3 denied "
                     "(50.0%) | 2 domains</summary>",
                     0),
            0u)
      << md;
  EXPECT_NE(md.find("| api.github.com | https | 2 | 0 |"), std::string::npos) << md;
  EXPECT_NE(md.find("</details>"), std::string::npos);
}

TEST(Stats, MarkdownCellsCarryNoMarkup) {
  EXPECT_EQ(markdown_cell("a|b<script>`x`*_[l](u)\n"),
            "a\\|b&lt;script&gt;\\`x\\`\\*\\_\\[l\\](u)\\\\x0a");
}

}  // namespace
}  // namespace awf::logs
