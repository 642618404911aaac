#include "policy/address_class.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace awf::policy {
namespace {

std::optional<std::string> v4(const char* text) {
  in_addr a{};
  EXPECT_EQ(inet_pton(AF_INET, text, &a), 1) << text;
  return internal_address_reason(a);
}

std::optional<std::string> v6(const char* text) {
  in6_addr a{};
  EXPECT_EQ(inet_pton(AF_INET6, text, &a), 1) << text;
  return internal_address_reason(a);
}

struct Case {
  const char* address;
  const char* reason;  // nullptr: public
};

class Ipv4Class : public ::testing::TestWithParam<Case> {};
class Ipv6Class : public ::testing::TestWithParam<Case> {};

TEST_P(Ipv4Class, Reason) {
  const Case& c = GetParam();
  const auto r = v4(c.address);
  if (c.reason == nullptr) {
    EXPECT_FALSE(r.has_value()) << c.address << " -> " << r.value_or("");
  } else {
    ASSERT_TRUE(r.has_value()) << c.address;
    EXPECT_EQ(*r, c.reason) << c.address;
  }
}

TEST_P(Ipv6Class, Reason) {
  const Case& c = GetParam();
  const auto r = v6(c.address);
  if (c.reason == nullptr) {
    EXPECT_FALSE(r.has_value()) << c.address << " -> " << r.value_or("");
  } else {
    ASSERT_TRUE(r.has_value()) << c.address;
    EXPECT_EQ(*r, c.reason) << c.address;
  }
}

INSTANTIATE_TEST_SUITE_P(
    All, Ipv4Class,
    ::testing::Values(Case{"0.0.0.0", "unspecified/this network"},
                      Case{"0.255.255.255", "unspecified/this network"}, Case{"1.0.0.0", nullptr},
                      Case{"9.255.255.255", nullptr}, Case{"10.0.0.0", "private (RFC 1918)"},
                      Case{"10.255.255.255", "private (RFC 1918)"}, Case{"11.0.0.0", nullptr},
                      Case{"172.15.255.255", nullptr}, Case{"172.16.0.0", "private (RFC 1918)"},
                      Case{"172.31.255.255", "private (RFC 1918)"}, Case{"172.32.0.0", nullptr},
                      Case{"192.167.255.255", nullptr}, Case{"192.168.0.1", "private (RFC 1918)"},
                      Case{"192.168.255.255", "private (RFC 1918)"}, Case{"192.169.0.0", nullptr},
                      Case{"100.63.255.255", nullptr},
                      Case{"100.64.0.0", "shared address space (RFC 6598)"},
                      Case{"100.127.255.255", "shared address space (RFC 6598)"},
                      Case{"100.128.0.0", nullptr}, Case{"126.255.255.255", nullptr},
                      Case{"127.0.0.1", "loopback"}, Case{"127.255.255.254", "loopback"},
                      Case{"128.0.0.0", nullptr}, Case{"169.253.255.255", nullptr},
                      Case{"169.254.169.254", "link-local (cloud metadata)"},
                      Case{"169.254.0.0", "link-local (cloud metadata)"},
                      Case{"169.255.0.0", nullptr}, Case{"223.255.255.255", nullptr},
                      Case{"224.0.0.1", "multicast"}, Case{"239.255.255.255", "multicast"},
                      Case{"240.0.0.0", "reserved"}, Case{"255.255.255.255", "reserved"},
                      // Documentation ranges are the test network's public hosts.
                      Case{"192.0.2.1", nullptr}, Case{"198.51.100.7", nullptr},
                      Case{"203.0.113.200", nullptr}, Case{"8.8.8.8", nullptr}));

INSTANTIATE_TEST_SUITE_P(
    All, Ipv6Class,
    ::testing::Values(Case{"::", "unspecified"}, Case{"::1", "loopback"},
                      Case{"::2", "IPv4-compatible unspecified/this network"},
                      Case{"fe80::1", "link-local"}, Case{"febf:ffff::1", "link-local"},
                      Case{"fec0::1", "site-local"}, Case{"feff::1", "site-local"},
                      Case{"fc00::1", "unique local (fc00::/7)"},
                      Case{"fdff:ffff::1", "unique local (fc00::/7)"}, Case{"fe00::1", nullptr},
                      Case{"fbff::1", nullptr}, Case{"ff02::1", "multicast"},
                      Case{"ff00::", "multicast"}, Case{"::ffff:127.0.0.1", "IPv4-mapped loopback"},
                      Case{"::ffff:169.254.169.254", "IPv4-mapped link-local (cloud metadata)"},
                      Case{"::ffff:10.1.2.3", "IPv4-mapped private (RFC 1918)"},
                      Case{"::ffff:192.0.2.1", nullptr},
                      Case{"::127.0.0.1", "IPv4-compatible loopback"}, Case{"::192.0.2.1", nullptr},
                      Case{"64:ff9b::a9fe:a9fe", "NAT64 link-local (cloud metadata)"},
                      Case{"64:ff9b::192.0.2.1", nullptr}, Case{"2002:7f00:1::", "6to4 loopback"},
                      Case{"2002:c0a8:101::1", "6to4 private (RFC 1918)"},
                      Case{"2002:c000:201::1", nullptr}, Case{"2001:db8::1", nullptr},
                      Case{"2606:4700::1111", nullptr},
                      Case{"::ffff:0:0", "IPv4-mapped unspecified/this network"}));

TEST(CanonicalIpLiteral, Forms) {
  EXPECT_EQ(canonical_ip_literal("192.0.2.1"), "192.0.2.1");
  EXPECT_EQ(canonical_ip_literal("[::1]"), "::1");
  EXPECT_EQ(canonical_ip_literal("0:0::1"), "::1");
  EXPECT_EQ(canonical_ip_literal("0000:0000:0000:0000:0000:0000:0000:0001"), "::1");
  EXPECT_EQ(canonical_ip_literal("2001:DB8::0:1"), "2001:db8::1");
  EXPECT_EQ(canonical_ip_literal("::FFFF:192.0.2.1"), "::ffff:192.0.2.1");
}

TEST(CanonicalIpLiteral, RejectsNonStrictForms) {
  for (const char* bad :
       {"", "[]", "[", "[::1", "::1]", "127.1", "0x7f.0.0.1", "010.0.0.1", "2130706433",
        "1.2.3.4.5", "1.2.3.256", " 1.2.3.4", "1.2.3.4 ", "[1.2.3.4]", "example.com", "::g",
        "fe80::1%eth0", "[::1]:80", "1.2.3.4:80"}) {
    EXPECT_EQ(canonical_ip_literal(bad), "") << bad;
  }
  EXPECT_EQ(canonical_ip_literal(std::string("1.2.3.4\0", 8)), "");
  EXPECT_EQ(canonical_ip_literal(std::string(100, '1')), "");
}

}  // namespace
}  // namespace awf::policy
