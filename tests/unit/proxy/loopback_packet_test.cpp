#include "proxy/loopback_packet.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace awf::proxy {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes ipv4(std::uint8_t protocol, std::array<std::uint8_t, 4> src, std::array<std::uint8_t, 4> dst,
           const Bytes& payload) {
  Bytes p = {0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, protocol, 0, 0};
  p.insert(p.end(), src.begin(), src.end());
  p.insert(p.end(), dst.begin(), dst.end());
  p.insert(p.end(), payload.begin(), payload.end());
  p[2] = static_cast<std::uint8_t>(p.size() >> 8);
  p[3] = static_cast<std::uint8_t>(p.size() & 0xff);
  return p;
}

Bytes ipv6(std::uint8_t next, std::uint8_t src_last, std::array<std::uint8_t, 16> dst,
           const Bytes& payload) {
  Bytes p = {0x60, 0, 0, 0, static_cast<std::uint8_t>(payload.size() >> 8),
             static_cast<std::uint8_t>(payload.size() & 0xff), next, 64};
  Bytes src(16, 0);
  src[15] = src_last;
  p.insert(p.end(), src.begin(), src.end());
  p.insert(p.end(), dst.begin(), dst.end());
  p.insert(p.end(), payload.begin(), payload.end());
  return p;
}

Bytes tcp(std::uint16_t sport, std::uint16_t dport, std::uint32_t seq, std::uint8_t flags) {
  return {static_cast<std::uint8_t>(sport >> 8), static_cast<std::uint8_t>(sport & 0xff),
          static_cast<std::uint8_t>(dport >> 8), static_cast<std::uint8_t>(dport & 0xff),
          static_cast<std::uint8_t>(seq >> 24), static_cast<std::uint8_t>(seq >> 16),
          static_cast<std::uint8_t>(seq >> 8), static_cast<std::uint8_t>(seq), 0, 0, 0, 1,
          0x50, flags, 0, 0, 0, 0, 0, 0};
}

Bytes udp(std::uint16_t sport, std::uint16_t dport) {
  return {static_cast<std::uint8_t>(sport >> 8), static_cast<std::uint8_t>(sport & 0xff),
          static_cast<std::uint8_t>(dport >> 8), static_cast<std::uint8_t>(dport & 0xff), 0, 12,
          0, 0, 'a', 'b', 'c', 'd'};
}

constexpr std::uint8_t kRstAck = 0x14;

TEST(LoopbackPacket, RefusedTcpConnection) {
  // 203.0.113.10:22 refuses 203.0.113.10:40000 (the kernel's RST answers the SYN).
  const auto attempt = inspect_loopback_packet(
      ipv4(6, {203, 0, 113, 10}, {203, 0, 113, 10}, tcp(22, 40000, 0, kRstAck)));
  ASSERT_TRUE(attempt);
  EXPECT_EQ(attempt->protocol, "tcp");
  EXPECT_EQ(attempt->destination, "203.0.113.10:22");
  EXPECT_EQ(attempt->source, "203.0.113.10:40000");
}

TEST(LoopbackPacket, OrdinaryTcpIsIgnored) {
  EXPECT_FALSE(inspect_loopback_packet(
      ipv4(6, {127, 0, 0, 1}, {127, 0, 0, 1}, tcp(8080, 40000, 0, 0x12))));  // SYN+ACK
  EXPECT_FALSE(inspect_loopback_packet(
      ipv4(6, {127, 0, 0, 1}, {127, 0, 0, 1}, tcp(8080, 40000, 12345, kRstAck))));  // abort
  EXPECT_FALSE(inspect_loopback_packet(
      ipv4(6, {127, 0, 0, 1}, {127, 0, 0, 1}, tcp(8080, 40000, 0, 0x04))));  // RST without ACK
  EXPECT_FALSE(inspect_loopback_packet(
      ipv4(6, {203, 0, 113, 10}, {203, 0, 113, 10}, tcp(443, 40000, 0, kRstAck))));  // gateway
}

// Port 3128 is the gateway's only on 127.0.0.1 (the explicit proxy); anywhere else it is
// another proxy the command tried to use.
TEST(LoopbackPacket, ProxyPortIsTheGatewaysOnlyOnItsOwnAddress) {
  EXPECT_FALSE(inspect_loopback_packet(
      ipv4(6, {127, 0, 0, 1}, {127, 0, 0, 1}, tcp(3128, 40000, 0, kRstAck))));
  const auto evil = inspect_loopback_packet(
      ipv4(6, {203, 0, 113, 20}, {203, 0, 113, 20}, tcp(3128, 40000, 0, kRstAck)));
  ASSERT_TRUE(evil);
  EXPECT_EQ(evil->protocol, "tcp");
  EXPECT_EQ(evil->destination, "203.0.113.20:3128");
  EXPECT_EQ(evil->source, "203.0.113.20:40000");
  EXPECT_TRUE(inspect_loopback_packet(
      ipv4(6, {127, 0, 0, 2}, {127, 0, 0, 1}, tcp(3128, 40000, 0, kRstAck))));
  std::array<std::uint8_t, 16> loopback6{};
  loopback6[15] = 1;
  const auto v6 = inspect_loopback_packet(ipv6(6, 1, loopback6, tcp(3128, 40000, 0, kRstAck)));
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->destination, "[::1]:3128");
  // 80, 443 and 53 are the gateway's on every address, IPv4 and IPv6.
  for (const std::uint16_t port : {80, 443, 53}) {
    EXPECT_FALSE(inspect_loopback_packet(
        ipv4(6, {203, 0, 113, 20}, {203, 0, 113, 20}, tcp(port, 40000, 0, kRstAck))));
    EXPECT_FALSE(inspect_loopback_packet(ipv6(6, 1, loopback6, tcp(port, 40000, 0, kRstAck))));
  }
}

TEST(LoopbackPacket, UnreachableUdpPortIpv4) {
  const Bytes quoted = ipv4(17, {127, 0, 0, 1}, {198, 51, 100, 7}, udp(5000, 443));
  Bytes icmp = {3, 3, 0, 0, 0, 0, 0, 0};
  icmp.insert(icmp.end(), quoted.begin(), quoted.end());
  const auto attempt = inspect_loopback_packet(ipv4(1, {127, 0, 0, 1}, {127, 0, 0, 1}, icmp));
  ASSERT_TRUE(attempt);
  EXPECT_EQ(attempt->protocol, "udp");
  EXPECT_EQ(attempt->destination, "198.51.100.7:443");
  EXPECT_EQ(attempt->source, "127.0.0.1:5000");
}

TEST(LoopbackPacket, UnreachableUdpPortIpv6) {
  std::array<std::uint8_t, 16> doc{0x20, 0x01, 0x0d, 0xb8};
  doc[15] = 7;
  std::array<std::uint8_t, 16> loopback{};
  loopback[15] = 1;
  const Bytes quoted = ipv6(17, 1, doc, udp(5000, 9999));
  Bytes icmp = {1, 4, 0, 0, 0, 0, 0, 0};
  icmp.insert(icmp.end(), quoted.begin(), quoted.end());
  const auto attempt = inspect_loopback_packet(ipv6(58, 1, loopback, icmp));
  ASSERT_TRUE(attempt);
  EXPECT_EQ(attempt->protocol, "udp");
  EXPECT_EQ(attempt->destination, "[2001:db8::7]:9999");
}

TEST(LoopbackPacket, EchoRequestsOutsideLoopback) {
  const Bytes echo = {8, 0, 0, 0, 0, 1, 0, 1};
  const auto attempt = inspect_loopback_packet(ipv4(1, {127, 0, 0, 1}, {203, 0, 113, 9}, echo));
  ASSERT_TRUE(attempt);
  EXPECT_EQ(attempt->protocol, "icmp");
  EXPECT_EQ(attempt->destination, "203.0.113.9");
  EXPECT_FALSE(inspect_loopback_packet(ipv4(1, {127, 0, 0, 1}, {127, 0, 0, 1}, echo)));
  EXPECT_FALSE(inspect_loopback_packet(ipv4(1, {127, 0, 0, 1}, {203, 0, 113, 9},
                                            Bytes{0, 0, 0, 0, 0, 1, 0, 1})));  // echo reply
}

TEST(LoopbackPacket, TruncatedPacketsAreIgnored) {
  const Bytes full = ipv4(6, {203, 0, 113, 10}, {203, 0, 113, 10}, tcp(22, 40000, 0, kRstAck));
  for (std::size_t cut = 0; cut < full.size(); ++cut) {
    Bytes prefix(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut));
    EXPECT_FALSE(inspect_loopback_packet(prefix)) << cut;
  }
  EXPECT_FALSE(inspect_loopback_packet(Bytes{0x4f}));
  EXPECT_FALSE(inspect_loopback_packet(Bytes{0x00, 0x01}));
}

}  // namespace
}  // namespace awf::proxy
