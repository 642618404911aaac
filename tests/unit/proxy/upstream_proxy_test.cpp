#include "proxy/upstream_proxy.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace awf::proxy {
namespace {

TEST(ParseProxyUrl, HostAndDefaultPort) {
  const ProxyUrl url = parse_proxy_url("http://Proxy.Corp.Example");
  EXPECT_EQ(url.host, "proxy.corp.example");
  EXPECT_EQ(url.port, 3128);
  EXPECT_FALSE(url.has_userinfo);
  EXPECT_EQ(url.redacted(), "http://proxy.corp.example:3128");
  EXPECT_EQ(url.authorization(), "");
}

TEST(ParseProxyUrl, PortTrailingSlashAndSchemeCase) {
  const ProxyUrl url = parse_proxy_url("HTTP://10.0.0.5:8080/");
  EXPECT_EQ(url.host, "10.0.0.5");
  EXPECT_EQ(url.port, 8080);
  EXPECT_EQ(url.authority(), "10.0.0.5:8080");
}

TEST(ParseProxyUrl, Ipv6Literal) {
  const ProxyUrl url = parse_proxy_url("http://[2001:DB8::1]:3129");
  EXPECT_EQ(url.host, "2001:db8::1");
  EXPECT_EQ(url.port, 3129);
  EXPECT_EQ(url.authority(), "[2001:db8::1]:3129");
  EXPECT_EQ(parse_proxy_url("http://[::1]").port, 3128);
}

TEST(ParseProxyUrl, UserinfoIsPercentDecodedAndRedacted) {
  const ProxyUrl url = parse_proxy_url("http://al%40ice:p%3Ass@w0rd@proxy:3128");
  EXPECT_TRUE(url.has_userinfo);
  EXPECT_EQ(url.user, "al@ice");
  EXPECT_EQ(url.password, "p:ss@w0rd");
  EXPECT_EQ(url.redacted(), "http://al@ice:***@proxy:3128");
  EXPECT_EQ(url.redacted().find("w0rd"), std::string::npos);
  // base64("Aladdin:open sesame"), RFC 7617's example
  EXPECT_EQ(parse_proxy_url("http://Aladdin:open%20sesame@p").authorization(),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
  EXPECT_EQ(parse_proxy_url("http://user@p").authorization(), "Basic dXNlcjo=");
}

TEST(ParseProxyUrl, Refusals) {
  for (const char* bad : {"", "proxy:3128", "https://proxy:3128", "socks5://proxy:1080",
                          "http://", "http://:3128", "http://proxy:", "http://proxy:0",
                          "http://proxy:65536", "http://proxy:12a", "http://proxy/path",
                          "http://proxy:3128/x", "http://proxy?x", "http://pro xy",
                          "http://[2001:db8::1", "http://[not-v6]:1", "http://[::1]x",
                          "http://u:%zz@proxy", "http://u:%4@proxy", "http://:pw@proxy",
                          "http://a..b", "http://-a"}) {
    EXPECT_THROW(parse_proxy_url(bad), std::invalid_argument) << bad;
  }
}

TEST(ParseProxyUrl, MessageNeverHoldsThePassword) {
  try {
    parse_proxy_url("http://user:s3cret@bad host:3128");
    FAIL();
  } catch (const std::invalid_argument& error) {
    EXPECT_EQ(std::string(error.what()).find("s3cret"), std::string::npos);
  }
}

TEST(NoProxy, NamesMatchThemselvesAndSubdomains) {
  const NoProxy list = NoProxy::parse("example.com, .corp.test,*.internal.test , Upper.Test.");
  EXPECT_TRUE(list.matches("example.com"));
  EXPECT_TRUE(list.matches("api.example.com"));
  EXPECT_FALSE(list.matches("notexample.com"));
  EXPECT_FALSE(list.matches("example.com.evil"));
  EXPECT_TRUE(list.matches("corp.test"));
  EXPECT_TRUE(list.matches("a.b.corp.test"));
  EXPECT_TRUE(list.matches("internal.test"));
  EXPECT_TRUE(list.matches("x.internal.test"));
  EXPECT_TRUE(list.matches("upper.test"));
  EXPECT_TRUE(list.matches("UPPER.test."));
  EXPECT_FALSE(list.matches("other.test"));
}

TEST(NoProxy, StarAndEmpty) {
  EXPECT_TRUE(NoProxy::parse("*").matches("anything.test"));
  EXPECT_TRUE(NoProxy::parse("a.test,*").matches("10.0.0.1"));
  EXPECT_TRUE(NoProxy::parse("").empty());
  EXPECT_TRUE(NoProxy::parse(" , ,").empty());
  EXPECT_FALSE(NoProxy::parse("").matches("a.test"));
}

TEST(NoProxy, PortSuffixIgnored) {
  EXPECT_TRUE(NoProxy::parse("allowed.test:443").matches("allowed.test"));
}

TEST(NoProxy, AddressesAndRanges) {
  const NoProxy list = NoProxy::parse("203.0.113.10,10.0.0.0/8,[2001:db8::1],fd00::/8,192.168.1.0/25");
  EXPECT_TRUE(list.matches("203.0.113.10"));
  EXPECT_FALSE(list.matches("203.0.113.11"));
  EXPECT_TRUE(list.matches("10.200.3.4"));
  EXPECT_FALSE(list.matches("11.0.0.1"));
  EXPECT_TRUE(list.matches("2001:db8::1"));
  EXPECT_TRUE(list.matches("[2001:db8::1]"));
  EXPECT_FALSE(list.matches("2001:db8::2"));
  EXPECT_TRUE(list.matches("fd12::3"));
  EXPECT_TRUE(list.matches("192.168.1.127"));
  EXPECT_FALSE(list.matches("192.168.1.128"));
  // An address entry never matches a name, and a name never an address.
  EXPECT_FALSE(list.matches("10.example"));
  EXPECT_FALSE(NoProxy::parse("example.com").matches("93.184.216.34"));
}

TEST(ParentAnswer, HeadEndAndStatus) {
  EXPECT_EQ(parent_head_end("HTTP/1.1 200 OK\r\n"), 0u);
  const std::string head = "HTTP/1.1 200 Connection established\r\n\r\nextra";
  EXPECT_EQ(parent_head_end(head), head.size() - 5);
  EXPECT_EQ(parent_status(head), 200);
  EXPECT_EQ(parent_status("HTTP/1.0 407 Proxy Authentication Required\r\n\r\n"), 407);
  EXPECT_EQ(parent_status("HTTP/1.1 204\r\n\r\n"), 204);
  EXPECT_FALSE(parent_status("SSH-2.0-x\r\n\r\n"));
  EXPECT_FALSE(parent_status("HTTP/1.1 2000 x\r\n\r\n"));
  EXPECT_FALSE(parent_status("HTTP/1.1 abc x\r\n\r\n"));
}

TEST(ConnectRequest, WithAndWithoutAuthorization) {
  EXPECT_EQ(connect_request(parse_proxy_url("http://p"), "allowed.test", 443),
            "CONNECT allowed.test:443 HTTP/1.1\r\nHost: allowed.test:443\r\n\r\n");
  EXPECT_EQ(connect_request(parse_proxy_url("http://u:pw@p"), "2001:db8::1", 80),
            "CONNECT [2001:db8::1]:80 HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n"
            "Proxy-Authorization: Basic dTpwdw==\r\n\r\n");
}

}  // namespace
}  // namespace awf::proxy
