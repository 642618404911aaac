#include "proxy/http_head.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace awf::http {
namespace {

TEST(ParseAuthority, HostAndPort) {
  auto a = parse_authority("api.github.com:443", 80);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "api.github.com");
  EXPECT_EQ(a->port, 443);
  a = parse_authority("Example.COM", 80);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "Example.COM");  // not normalized here
  EXPECT_EQ(a->port, 80);
  a = parse_authority("example.com.:8080", 443);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "example.com.");
  EXPECT_EQ(a->port, 8080);
  a = parse_authority("10.0.0.1:65535", 80);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "10.0.0.1");
  EXPECT_EQ(a->port, 65535);
  a = parse_authority("h:1", 80);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port, 1);
  a = parse_authority("h:00080", 443);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port, 80);
}

TEST(ParseAuthority, Ipv6) {
  auto a = parse_authority("[::1]:8443", 443);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 8443);
  a = parse_authority("[2001:db8::1]", 443);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "2001:db8::1");
  EXPECT_EQ(a->port, 443);
  a = parse_authority("[::ffff:169.254.169.254]:80", 443);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "::ffff:169.254.169.254");
  for (const char* bad : {"[::1", "::1", "::1:443", "[]", "[]:80", "[::1]x", "[::1]:", "[::1]:0",
                          "[::1]:65536", "[fe80::1%25eth0]", "[v1.abc]", "[1.2.3.4]", "[::1]]:80",
                          "[::1]:80]", "[example.com]", "[::g]"}) {
    EXPECT_FALSE(parse_authority(bad, 80)) << bad;
  }
  // inet_pton stops at a NUL: the bytes after it must not ride along in the host.
  EXPECT_FALSE(parse_authority(std::string_view("[::\0evil]:80", 12), 80));
  EXPECT_FALSE(parse_authority(std::string_view("[::1\0]", 6), 80));
}

TEST(ParseAuthority, BadPorts) {
  for (const char* bad : {"h:0", "h:65536", "h:99999", "h:+1", "h:-1", "h: 80", "h:80 ", "h:x80",
                          "h:8o", "h:", "h:123456", "h:0x50", "h:80:80", "h:1e3", "h::80"}) {
    EXPECT_FALSE(parse_authority(bad, 80)) << bad;
  }
}

TEST(ParseAuthority, BadHosts) {
  for (const std::string& bad : std::vector<std::string>{
           "", ":443", "user@host", "user:pw@host:80", "host/path", "ho st", " host", "host ",
           "host\t", "host\r\n", std::string("ho\0st", 5), "host\x7f", "a\\b", "host?x", "host#x",
           "host\"", "<host>", "ex[ample", "exa]mple"}) {
    EXPECT_FALSE(parse_authority(bad, 80)) << bad;
  }
  // Bytes of UTF-8 host names (IDN) are left for the policy to convert.
  EXPECT_TRUE(
      parse_authority("b\xc3\xbc"
                      "cher.example",
                      80));
}

TEST(ParseAbsoluteUri, Basic) {
  auto u = parse_absolute_uri("http://example.com/path?q=1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->authority.host, "example.com");
  EXPECT_EQ(u->authority.port, 80);
  EXPECT_EQ(u->origin_form, "/path?q=1");

  u = parse_absolute_uri("HTTP://Example.com:8080");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->authority.host, "Example.com");
  EXPECT_EQ(u->authority.port, 8080);
  EXPECT_EQ(u->origin_form, "/");

  u = parse_absolute_uri("http://example.com?x=y");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->origin_form, "/?x=y");

  u = parse_absolute_uri("http://example.com/a/b#frag?not-query");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->origin_form, "/a/b");

  u = parse_absolute_uri("http://example.com#frag");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->authority.host, "example.com");
  EXPECT_EQ(u->origin_form, "/");

  u = parse_absolute_uri("http://[2001:db8::1]:8080/x?y#z");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->authority.host, "2001:db8::1");
  EXPECT_EQ(u->authority.port, 8080);
  EXPECT_EQ(u->origin_form, "/x?y");

  u = parse_absolute_uri("http://example.com/%2e%2e/%40");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->origin_form, "/%2e%2e/%40");
}

TEST(ParseAbsoluteUri, Rejected) {
  for (const std::string& bad : std::vector<std::string>{
           "https://example.com/",  // other scheme (TLS goes through CONNECT)
           "ftp://example.com/",
           "example.com/",
           "/path",
           "http:/example.com/",
           "http//example.com/",
           "http://",
           "http:///path",
           "http://user@example.com/",  // userinfo
           "http://user:pw@example.com/",
           "http://allowed.com@evil.com/",
           "http://allowed.com\\@evil.com/",
           "http://evil.com\\.allowed.com/",
           "http://example.com:0/",
           "http://example.com:65536/",
           "http://example.com:/",
           "http://example.com /",
           "http://example.com/a b",
           "http://example.com/\r\nX: y",
           "http://[::1/",
           "http://[::1]junk/",
           "httpx://example.com/",
       }) {
    EXPECT_FALSE(parse_absolute_uri(bad)) << bad;
  }
}

TEST(SameHost, Comparisons) {
  EXPECT_TRUE(same_host("api.github.com", "API.GitHub.com"));
  EXPECT_TRUE(same_host("api.github.com.", "api.github.com"));
  EXPECT_TRUE(same_host("api.github.com", "api.github.com."));
  EXPECT_FALSE(same_host("api.github.com..", "api.github.com"));
  EXPECT_FALSE(same_host("api.github.com", "github.com"));
  EXPECT_FALSE(same_host("api.github.co", "api.github.com"));
  EXPECT_FALSE(same_host("", ""));
  EXPECT_FALSE(same_host(".", ""));
  EXPECT_TRUE(same_host("::1", "::1"));
}

TEST(HopByHop, FixedNames) {
  for (const char* name :
       {"Connection", "connection", "Keep-Alive", "TE", "Trailer", "Upgrade", "Proxy-Authorization",
        "proxy-connection", "Proxy-Authenticate", "PROXY-anything"}) {
    EXPECT_TRUE(is_hop_by_hop(name, "")) << name;
  }
  for (const char* name : {"Host", "User-Agent", "Accept", "Authorization", "Transfer-Encoding",
                           "Content-Length", "Trailers", "Proxy", "X-Proxy-Id", ""}) {
    EXPECT_FALSE(is_hop_by_hop(name, "")) << name;
  }
}

TEST(HopByHop, ConnectionTokens) {
  EXPECT_TRUE(is_hop_by_hop("X-Secret", "close, X-Secret"));
  EXPECT_TRUE(is_hop_by_hop("x-secret", "keep-alive,X-SECRET"));
  EXPECT_TRUE(is_hop_by_hop("X-Foo", " \tX-Foo\t , ,"));
  EXPECT_TRUE(is_hop_by_hop("Cookie", "cookie"));
  EXPECT_FALSE(is_hop_by_hop("X-Foo", "X-Foobar"));
  EXPECT_FALSE(is_hop_by_hop("X-Foo", "X-Fo"));
  EXPECT_FALSE(is_hop_by_hop("X-Foo", "close"));
  EXPECT_FALSE(is_hop_by_hop("X-Foo", ",,,"));
  EXPECT_FALSE(is_hop_by_hop("X-Foo", "X Foo"));
  // Framing and routing headers stay, whatever Connection lists (no smuggling by stripping).
  EXPECT_FALSE(is_hop_by_hop("Content-Length", "Content-Length"));
  EXPECT_FALSE(is_hop_by_hop("Transfer-Encoding", "transfer-encoding"));
  EXPECT_FALSE(is_hop_by_hop("Host", "host"));
}

TEST(HttpHead, FormatAuthority) {
  EXPECT_EQ(format_authority("api.test", 443, 443), "api.test");
  EXPECT_EQ(format_authority("api.test", 8443, 443), "api.test:8443");
  EXPECT_EQ(format_authority("2001:db8::1", 443), "[2001:db8::1]:443");
  EXPECT_EQ(format_authority("2001:db8::1", 443, 443), "[2001:db8::1]");
  EXPECT_EQ(format_authority("10.0.0.8", 3128), "10.0.0.8:3128");
}

}  // namespace
}  // namespace awf::http
