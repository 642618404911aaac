#include "audit/access_log.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace awf::audit {
namespace {

AccessRecord tunnel() {
  AccessRecord r;
  r.time_ms = 1761074374646;
  r.client_ip = "172.30.0.20";
  r.client_port = 39748;
  r.host = "api.github.com:443";
  r.dest_ip = "140.82.114.22";
  r.dest_port = 443;
  r.http_version = "1.1";
  r.method = "CONNECT";
  r.status = 200;
  r.squid_status = "TCP_TUNNEL";
  r.hierarchy = "HIER_DIRECT";
  r.url = "api.github.com:443";
  return r;
}

AccessRecord denied() {
  AccessRecord r;
  r.time_ms = 1761074374700;
  r.client_ip = "172.30.0.20";
  r.client_port = 39750;
  r.host = "example.com:443";
  r.http_version = "1.1";
  r.method = "CONNECT";
  r.status = 403;
  r.squid_status = "TCP_DENIED";
  r.hierarchy = "HIER_NONE";
  r.url = "example.com:443";
  r.user_agent = "curl/7.88.1";
  return r;
}

void expect_same(const AccessRecord& a, const AccessRecord& b) {
  EXPECT_EQ(a.time_ms, b.time_ms);
  EXPECT_EQ(a.client_ip, b.client_ip);
  EXPECT_EQ(a.client_port, b.client_port);
  EXPECT_EQ(a.host, b.host);
  EXPECT_EQ(a.dest_ip, b.dest_ip);
  EXPECT_EQ(a.dest_port, b.dest_port);
  EXPECT_EQ(a.http_version, b.http_version);
  EXPECT_EQ(a.method, b.method);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.squid_status, b.squid_status);
  EXPECT_EQ(a.hierarchy, b.hierarchy);
  EXPECT_EQ(a.url, b.url);
  EXPECT_EQ(a.user_agent, b.user_agent);
}

TEST(AccessLog, FormatsLikeAwf) {
  EXPECT_EQ(format_access_line(tunnel()),
            "1761074374.646 172.30.0.20:39748 api.github.com:443 140.82.114.22:443 1.1 CONNECT "
            "200 TCP_TUNNEL:HIER_DIRECT api.github.com:443 \"-\"");
  EXPECT_EQ(format_access_line(denied()),
            "1761074374.700 172.30.0.20:39750 example.com:443 -:- 1.1 CONNECT 403 "
            "TCP_DENIED:HIER_NONE example.com:443 \"curl/7.88.1\"");
}

TEST(AccessLog, ParsesAwfLines) {
  auto r = parse_access_line(
      "1761074374.646 172.30.0.20:39748 api.github.com:443 140.82.114.22:443 1.1 CONNECT 200 "
      "TCP_TUNNEL:HIER_DIRECT api.github.com:443 \"-\"");
  ASSERT_TRUE(r);
  expect_same(*r, tunnel());
  r = parse_access_line(
      "1761074374.700 172.30.0.20:39750 example.com:443 -:- 1.1 CONNECT 403 "
      "TCP_DENIED:HIER_NONE example.com:443 \"curl/7.88.1\"\n");
  ASSERT_TRUE(r);
  expect_same(*r, denied());
  // A plain HTTP request with a user agent that has spaces.
  r = parse_access_line(
      "1761074375.001 172.30.0.20:40000 example.org 93.184.216.34:80 1.1 GET 200 "
      "TCP_MISS:HIER_DIRECT http://example.org/a?b=c \"Mozilla/5.0 (X11; Linux x86_64)\"");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->url, "http://example.org/a?b=c");
  EXPECT_EQ(r->user_agent, "Mozilla/5.0 (X11; Linux x86_64)");
  EXPECT_EQ(r->method, "GET");
}

TEST(AccessLog, RoundTrip) {
  for (const auto& rec : {tunnel(), denied()}) {
    const auto line = format_access_line(rec);
    const auto back = parse_access_line(line);
    ASSERT_TRUE(back) << line;
    expect_same(*back, rec);
    EXPECT_EQ(format_access_line(*back), line);
  }
}

TEST(AccessLog, Ipv6WithoutBrackets) {
  AccessRecord r = tunnel();
  r.client_ip = "::1";
  r.dest_ip = "2606:50c0:8000::154";
  const auto line = format_access_line(r);
  EXPECT_NE(line.find(" ::1:39748 "), std::string::npos) << line;
  EXPECT_NE(line.find(" 2606:50c0:8000::154:443 "), std::string::npos) << line;
  const auto back = parse_access_line(line);
  ASSERT_TRUE(back);
  expect_same(*back, r);
}

TEST(AccessLog, EmptyFieldsAndLiteralDash) {
  AccessRecord r;
  const auto line = format_access_line(r);
  EXPECT_EQ(line, "0.000 -:0 - -:- - - 0 -:- - \"-\"");
  auto back = parse_access_line(line);
  ASSERT_TRUE(back);
  expect_same(*back, r);
  // A value that is literally "-" does not read back as empty.
  r.host = "-";
  r.user_agent = "-";
  const auto dashed = format_access_line(r);
  EXPECT_EQ(dashed, "0.000 -:0 %2D -:- - - 0 -:- - \"%2D\"");
  back = parse_access_line(dashed);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->host, "%2D");
  EXPECT_EQ(back->user_agent, "%2D");
}

TEST(AccessLog, HostileUserAgentAndHost) {
  AccessRecord r = denied();
  r.user_agent = "evil\" 200 TCP_TUNNEL\n1761074374.646 forged \"line\"\r\t%00\x01\x7f\xff";
  r.host = "a b\"c%d\n\xc3\xa9";
  r.url = "http://x/ y\"";
  r.method = "GE T";
  const auto line = format_access_line(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find('\r'), std::string::npos);
  // Exactly two quotes: the ones around the user agent.
  EXPECT_EQ(std::count(line.begin(), line.end(), '"'), 2);
  for (unsigned char c : line) {
    EXPECT_TRUE(c >= 0x20 && c < 0x7f) << static_cast<int>(c);
  }
  EXPECT_NE(
      line.find(
          "\"evil%22 200 TCP_TUNNEL%0A1761074374.646 forged %22line%22%0D%09%2500%01%7F%FF\""),
      std::string::npos)
      << line;
  const auto back = parse_access_line(line);
  ASSERT_TRUE(back) << line;
  EXPECT_EQ(back->host, "a%20b%22c%25d%0A%C3%A9");
  EXPECT_EQ(back->url, "http://x/%20y%22");
  EXPECT_EQ(back->method, "GE%20T");
  EXPECT_EQ(back->user_agent,
            "evil%22 200 TCP_TUNNEL%0A1761074374.646 forged %22line%22%0D%09%2500%01%7F%FF");
  EXPECT_EQ(back->status, 403);
  EXPECT_EQ(back->squid_status, "TCP_DENIED");
}

TEST(AccessLog, StatusTagsWithColon) {
  AccessRecord r = denied();
  r.squid_status = "A:B";
  r.hierarchy = "C:D";
  const auto line = format_access_line(r);
  EXPECT_NE(line.find(" A%3AB:C%3AD "), std::string::npos) << line;
  const auto back = parse_access_line(line);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->squid_status, "A%3AB");
  EXPECT_EQ(back->hierarchy, "C%3AD");
}

TEST(AccessLog, TimeEdges) {
  for (std::int64_t t :
       {std::int64_t{0}, std::int64_t{1}, std::int64_t{999}, std::int64_t{1000}, std::int64_t{-1},
        std::int64_t{-1000}, std::int64_t{-1001}, std::numeric_limits<std::int64_t>::max(),
        std::numeric_limits<std::int64_t>::min()}) {
    AccessRecord r = tunnel();
    r.time_ms = t;
    const auto back = parse_access_line(format_access_line(r));
    ASSERT_TRUE(back) << t;
    EXPECT_EQ(back->time_ms, t);
  }
  AccessRecord r = tunnel();
  r.time_ms = -1;
  EXPECT_EQ(format_access_line(r).substr(0, 7), "-1.999 ");
  r.time_ms = 5;
  EXPECT_EQ(format_access_line(r).substr(0, 6), "0.005 ");
}

TEST(AccessLog, PortsAndStatus) {
  AccessRecord r = tunnel();
  r.client_port = 65535;
  r.dest_port = 0;
  r.status = -1;
  const auto back = parse_access_line(format_access_line(r));
  ASSERT_TRUE(back);
  expect_same(*back, r);
}

TEST(AccessLog, RejectsOtherLines) {
  const std::string good =
      "1761074374.700 172.30.0.20:39750 example.com:443 -:- 1.1 CONNECT 403 "
      "TCP_DENIED:HIER_NONE example.com:443 \"curl/7.88.1\"";
  ASSERT_TRUE(parse_access_line(good));
  for (const std::string& bad : std::vector<std::string>{
           std::string(), std::string("garbage"), std::string("\"\""),
           good.substr(0, good.size() - 1),  // no closing quote
           good + " extra",                  // junk after the quote
           "1761074374 172.30.0.20:39750 example.com:443 -:- 1.1 CONNECT 403 "
           "TCP_DENIED:HIER_NONE example.com:443 \"-\"",  // no milliseconds
           "1761074374.70 172.30.0.20:39750 example.com:443 -:- 1.1 CONNECT 403 "
           "TCP_DENIED:HIER_NONE example.com:443 \"-\"",  // two digits
           "1761074374.700 172.30.0.20 example.com:443 -:- 1.1 CONNECT 403 "
           "TCP_DENIED:HIER_NONE example.com:443 \"-\"",  // no client port
           "1761074374.700 172.30.0.20:70000 example.com:443 -:- 1.1 CONNECT 403 "
           "TCP_DENIED:HIER_NONE example.com:443 \"-\"",  // port out of range
           "1761074374.700 172.30.0.20:1 example.com:443 -:- 1.1 CONNECT 4x3 "
           "TCP_DENIED:HIER_NONE example.com:443 \"-\"",  // status
           "1761074374.700 172.30.0.20:1 example.com:443 -:- 1.1 CONNECT 403 "
           "TCP_DENIED example.com:443 \"-\"",  // no hierarchy
           "1761074374.700 172.30.0.20:1 example.com:443 -:- 1.1 CONNECT 403 "
           "TCP_DENIED:HIER_NONE \"-\"",  // a field short
           "1761074374.700  172.30.0.20:1 example.com:443 -:- 1.1 CONNECT 403 "
           "TCP_DENIED:HIER_NONE example.com:443 \"-\"",  // double space
           "1761074374.700 172.30.0.20:1 example.com:443 -:- 1.1 CONNECT 403 "
           "TCP_DENIED:HIER_NONE example.com:443 \"a\"b\"",  // stray quote
           "1761074374.700 172.30.0.20:1 example.com:443 -:80 1.1 CONNECT 403 "
           "TCP_DENIED:HIER_NONE example.com:443 \"-\"",  // dest "-" with a port
           "99999999999999999999.700 172.30.0.20:1 example.com:443 -:- 1.1 CONNECT 403 "
           "TCP_DENIED:HIER_NONE example.com:443 \"-\"",  // time overflow
       }) {
    EXPECT_FALSE(parse_access_line(bad)) << bad;
  }
}

}  // namespace
}  // namespace awf::audit
