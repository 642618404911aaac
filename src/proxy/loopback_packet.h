// What a packet on the sandbox's loopback says about an attempt that went nowhere. Every
// address in the sandbox is local, so a blocked attempt leaves a trace on `lo`: the kernel's
// refusal of a TCP connection (RST), its "port unreachable" answer to a UDP datagram, or an
// echo request to a non-loopback address. Pure logic on untrusted bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace awf::proxy {

struct BlockedAttempt {
  std::string protocol;     // "tcp", "udp", "icmp"
  std::string source;       // who tried: "ip:port" ("[v6]:port"), or "ip" for icmp
  std::string destination;  // what it tried to reach, same forms
};

// `packet` starts at the IPv4 or IPv6 header (for IPv6 raw sockets, which deliver only the
// transport part, the caller rebuilds the header). Recognized:
//  - TCP RST+ACK with sequence number 0 (the kernel refusing a SYN) from anything but the
//    gateway's own listeners (ports 80, 443 and 53 on any address, 127.0.0.1:3128): a
//    connection attempt to that address and port (203.0.113.20:3128 is another proxy);
//  - ICMP type 3 code 3 / ICMPv6 type 1 code 4 quoting a UDP header: a datagram to a port
//    nobody listens on (the quoted header names it);
//  - ICMP echo request / ICMPv6 echo request to an address outside loopback.
std::optional<BlockedAttempt> inspect_loopback_packet(std::span<const std::uint8_t> packet);

}  // namespace awf::proxy
