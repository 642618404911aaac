#include "proxy/loopback_packet.h"

#include <arpa/inet.h>

#include <cstring>

namespace awf::proxy {
namespace {

// IP protocol numbers, and the TCP flags of a refusal.
enum : std::uint8_t { kTcp = 6, kUdp = 17, kIcmp = 1, kIcmpv6 = 58 };
enum : std::uint8_t { kTcpRst = 0x04, kTcpAck = 0x10 };

std::uint16_t read16(std::span<const std::uint8_t> p, std::size_t at) {
  return static_cast<std::uint16_t>(p[at] << 8 | p[at + 1]);
}

std::uint32_t read32(std::span<const std::uint8_t> p, std::size_t at) {
  return static_cast<std::uint32_t>(p[at]) << 24 | static_cast<std::uint32_t>(p[at + 1]) << 16 |
         static_cast<std::uint32_t>(p[at + 2]) << 8 | p[at + 3];
}

// Whether `address:port` is one of the gateway's own listeners (src/sandbox/listeners.cpp):
// ports 80, 443 and 53 on every address, the explicit proxy on 127.0.0.1:3128 only. A
// refusal from any other address on port 3128 (another proxy the command tried) is not ours.
bool gateway_listener(bool v6, std::span<const std::uint8_t> address, std::uint16_t port) {
  if (port == 80 || port == 443 || port == 53) return true;
  if (port != 3128 || v6 || address.size() != 4) return false;
  return address[0] == 127 && address[1] == 0 && address[2] == 0 && address[3] == 1;
}

// The addresses and payload of an IP packet.
struct IpView {
  bool v6 = false;
  std::string source;
  std::string destination;
  bool destination_loopback = false;
  std::span<const std::uint8_t> source_bytes;  // 4 or 16 bytes
  std::uint8_t protocol = 0;
  std::span<const std::uint8_t> payload;
};

std::optional<IpView> view_ip(std::span<const std::uint8_t> p) {
  if (p.empty()) return std::nullopt;
  IpView view;
  char text[INET6_ADDRSTRLEN] = {};
  if ((p[0] >> 4) == 4) {
    const std::size_t header = static_cast<std::size_t>(p[0] & 0x0f) * 4;
    if (header < 20 || p.size() < header) return std::nullopt;
    inet_ntop(AF_INET, &p[12], text, sizeof text);
    view.source = text;
    view.source_bytes = p.subspan(12, 4);
    inet_ntop(AF_INET, &p[16], text, sizeof text);
    view.destination = text;
    view.destination_loopback = p[16] == 127;
    view.protocol = p[9];
    const std::size_t total = std::min<std::size_t>(read16(p, 2), p.size());
    if (total < header) return std::nullopt;
    view.payload = p.subspan(header, total - header);
    return view;
  }
  if ((p[0] >> 4) == 6) {
    if (p.size() < 40) return std::nullopt;
    view.v6 = true;
    inet_ntop(AF_INET6, &p[8], text, sizeof text);
    view.source = text;
    view.source_bytes = p.subspan(8, 16);
    inet_ntop(AF_INET6, &p[24], text, sizeof text);
    view.destination = text;
    static constexpr std::uint8_t kLoopback[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    view.destination_loopback = std::memcmp(&p[24], kLoopback, 16) == 0;
    view.protocol = p[6];  // extension headers are not followed: such packets are ignored
    view.payload = p.subspan(40, std::min<std::size_t>(read16(p, 4), p.size() - 40));
    return view;
  }
  return std::nullopt;
}

std::string with_port(const IpView& view, const std::string& address, std::uint16_t port) {
  return (view.v6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

std::optional<BlockedAttempt> refused_tcp(const IpView& ip) {
  const auto& t = ip.payload;
  if (t.size() < 20) return std::nullopt;
  const std::uint8_t flags = t[13];
  if ((flags & (kTcpRst | kTcpAck)) != (kTcpRst | kTcpAck) || read32(t, 4) != 0) {
    return std::nullopt;
  }
  const std::uint16_t refusing_port = read16(t, 0);
  if (gateway_listener(ip.v6, ip.source_bytes, refusing_port)) return std::nullopt;
  // The RST goes from the address that was dialled back to the one that dialled.
  return BlockedAttempt{"tcp", with_port(ip, ip.destination, read16(t, 2)),
                        with_port(ip, ip.source, refusing_port)};
}

std::optional<BlockedAttempt> unreachable_udp(std::span<const std::uint8_t> quoted) {
  const auto inner = view_ip(quoted);
  if (!inner || inner->protocol != kUdp) return std::nullopt;
  // The quoted datagram is usually truncated: its UDP header is enough.
  const std::size_t header = inner->v6 ? 40 : static_cast<std::size_t>(quoted[0] & 0x0f) * 4;
  if (quoted.size() < header + 8) return std::nullopt;
  const auto udp = quoted.subspan(header, 8);
  return BlockedAttempt{"udp", with_port(*inner, inner->source, read16(udp, 0)),
                        with_port(*inner, inner->destination, read16(udp, 2))};
}

std::optional<BlockedAttempt> icmp_attempt(const IpView& ip) {
  const auto& m = ip.payload;
  if (m.size() < 8) return std::nullopt;
  const std::uint8_t type = m[0];
  const std::uint8_t code = m[1];
  if (!ip.v6 && type == 3 && code == 3) return unreachable_udp(m.subspan(8));
  if (ip.v6 && type == 1 && code == 4) return unreachable_udp(m.subspan(8));
  const bool echo = (!ip.v6 && type == 8) || (ip.v6 && type == 128);
  if (echo && !ip.destination_loopback) {
    return BlockedAttempt{"icmp", ip.source, ip.destination};
  }
  return std::nullopt;
}

}  // namespace

std::optional<BlockedAttempt> inspect_loopback_packet(std::span<const std::uint8_t> packet) {
  const auto ip = view_ip(packet);
  if (!ip) return std::nullopt;
  if (ip->protocol == kTcp) return refused_tcp(*ip);
  if ((!ip->v6 && ip->protocol == kIcmp) || (ip->v6 && ip->protocol == kIcmpv6)) {
    return icmp_attempt(*ip);
  }
  return std::nullopt;
}

}  // namespace awf::proxy
