#include "policy/host_access.h"

#include <gtest/gtest.h>

namespace awf::policy {
namespace {

TEST(HostAccess, RecognizesTheHostNameInAnySpelling) {
  EXPECT_TRUE(is_host_access_name("host.docker.internal"));
  EXPECT_TRUE(is_host_access_name("HOST.Docker.Internal"));
  EXPECT_TRUE(is_host_access_name("host.docker.internal."));
  EXPECT_FALSE(is_host_access_name("host.docker.internal.."));
  EXPECT_FALSE(is_host_access_name("x.host.docker.internal"));
  EXPECT_FALSE(is_host_access_name("host.docker.internal.evil.test"));
  EXPECT_FALSE(is_host_access_name("host.docker.interna"));
  EXPECT_FALSE(is_host_access_name("172.17.0.1"));
  EXPECT_FALSE(is_host_access_name(""));
}

TEST(HostAccess, OpenPortsAreTheWebPortsAndTheAllowedOnes) {
  const std::vector<PortRange> ranges = {{3000, 3000}, {8000, 8010}};
  EXPECT_TRUE(host_port_open({}, 80));
  EXPECT_TRUE(host_port_open({}, 443));
  EXPECT_FALSE(host_port_open({}, 3000));
  EXPECT_TRUE(host_port_open(ranges, 3000));
  EXPECT_TRUE(host_port_open(ranges, 8005));
  EXPECT_TRUE(host_port_open(ranges, 8010));
  EXPECT_FALSE(host_port_open(ranges, 8011));
  EXPECT_FALSE(host_port_open(ranges, 22));
}

TEST(HostAccess, ListenerPortsSkipTheWebPortsAndDuplicates) {
  const auto ports = host_listener_ports({{3000, 3000}, {79, 81}, {3000, 3001}, {443, 443}});
  ASSERT_TRUE(ports);
  EXPECT_EQ(*ports, (std::vector<std::uint16_t>{79, 81, 3000, 3001}));
  EXPECT_EQ(host_listener_ports({})->size(), 0u);
}

TEST(HostAccess, ListenerPortsHaveALimit) {
  ASSERT_TRUE(host_listener_ports({{10000, 10063}}));
  EXPECT_EQ(host_listener_ports({{10000, 10063}})->size(), 64u);
  EXPECT_FALSE(host_listener_ports({{10000, 10064}}));
  // 80 and 443 do not count.
  ASSERT_TRUE(host_listener_ports({{40, 104}}));
  EXPECT_EQ(host_listener_ports({{40, 104}})->size(), 64u);
  EXPECT_FALSE(host_listener_ports({{40, 105}}));
  EXPECT_FALSE(host_listener_ports({{1024, 65535}}));
  EXPECT_FALSE(host_listener_ports({{1, 1}, {2, 65}, {100, 100}}));
}

}  // namespace
}  // namespace awf::policy
