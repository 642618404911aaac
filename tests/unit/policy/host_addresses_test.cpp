#include "policy/host_addresses.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

namespace awf::policy {
namespace {

in_addr v4(const char* text) {
  in_addr a{};
  EXPECT_EQ(inet_pton(AF_INET, text, &a), 1) << text;
  return a;
}

in6_addr v6(const char* text) {
  in6_addr a{};
  EXPECT_EQ(inet_pton(AF_INET6, text, &a), 1) << text;
  return a;
}

TEST(HostAddresses, EmptyContainsNothing) {
  const HostAddresses none;
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(none.contains(v4("203.0.113.1")));
  EXPECT_FALSE(none.contains(v6("2001:db8::1")));
}

TEST(HostAddresses, AnAddressIsItsOwnPrefix) {
  HostAddresses host;
  host.add_v4(v4("203.0.113.1"), 32);
  host.add_v6(v6("2001:db8:1::1"), 128);
  EXPECT_TRUE(host.contains(v4("203.0.113.1")));
  EXPECT_FALSE(host.contains(v4("203.0.113.2")));
  EXPECT_TRUE(host.contains(v6("2001:db8:1::1")));
  EXPECT_FALSE(host.contains(v6("2001:db8:1::2")));
}

TEST(HostAddresses, LocallyRoutedRanges) {
  HostAddresses host;
  host.add_v4(v4("198.51.100.0"), 24);
  host.add_v4(v4("10.1.0.0"), 17);  // a prefix that ends inside a byte
  host.add_v6(v6("2001:db8:9::"), 48);
  EXPECT_TRUE(host.contains(v4("198.51.100.77")));
  EXPECT_FALSE(host.contains(v4("198.51.101.1")));
  EXPECT_TRUE(host.contains(v4("10.1.127.255")));
  EXPECT_FALSE(host.contains(v4("10.1.128.0")));
  EXPECT_TRUE(host.contains(v6("2001:db8:9:ffff::1")));
  EXPECT_FALSE(host.contains(v6("2001:db8:a::1")));
}

TEST(HostAddresses, LocalDefaultRouteMakesEverythingLocal) {
  HostAddresses host;
  host.add_v4(v4("0.0.0.0"), 0);
  EXPECT_TRUE(host.contains(v4("8.8.8.8")));
  EXPECT_FALSE(host.contains(v6("2001:db8::1")));
}

TEST(HostAddresses, MappedIpv4IsTheIpv4Address) {
  HostAddresses host;
  host.add_v4(v4("203.0.113.1"), 32);
  EXPECT_TRUE(host.contains(v6("::ffff:203.0.113.1")));
  EXPECT_FALSE(host.contains(v6("::ffff:203.0.113.9")));
}

TEST(HostAddresses, OverlongPrefixIsCapped) {
  HostAddresses host;
  host.add_v4(v4("203.0.113.1"), 99);
  EXPECT_TRUE(host.contains(v4("203.0.113.1")));
  EXPECT_FALSE(host.contains(v4("203.0.113.0")));
}

}  // namespace
}  // namespace awf::policy
