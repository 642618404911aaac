// Pure logic for the rtnetlink exchanges of the sandbox's network setup (netlink.*) and of the
// host address watch (host_address_watch.*): the requests (bring a link up, add a local default
// route, dump the local routes) and the readers of the kernel's answers. No I/O here.
// awf frames these messages itself rather than through libmnl: the kernel's nlmsghdr/rtattr
// layout is all there is to it, and the static release binary then needs no libmnl.a, which
// Debian does not ship.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

namespace awf::sandbox {

// `ip link set dev INDEX up`, acknowledged.
std::vector<std::uint8_t> link_up_request(int index, std::uint32_t sequence);

// `ip [-6] route add local default dev INDEX table local`, acknowledged; fails with EEXIST
// when the route is there already.
std::vector<std::uint8_t> local_default_route_request(unsigned char family, int index,
                                                      std::uint32_t sequence);

// A dump of the routes in the local table (the kernel answers with every table's routes).
std::vector<std::uint8_t> local_routes_request(std::uint32_t sequence);

struct Acknowledgement {
  enum class Status {
    Ack,    // the kernel did it
    Error,  // the kernel refused; `error` holds why
    Other,  // no answer for this sequence number in the datagram: read on
    Malformed,
  } status = Status::Other;
  int error = 0;  // positive errno
};

// Reads the kernel's answer to acknowledged request `sequence` out of one datagram.
Acknowledgement parse_acknowledgement(std::span<const std::uint8_t> datagram,
                                      std::uint32_t sequence);

// A prefix the host treats as its own: a route of type local (RTN_LOCAL).
struct LocalRoute {
  bool ipv6 = false;
  std::array<std::uint8_t, 16> prefix{};  // network order; IPv4 in the first 4 bytes
  unsigned length = 0;                    // prefix length; 0 with no destination: default
};

struct LocalRoutesPart {
  enum class Status {
    More,   // `routes` holds this datagram's local routes; the dump goes on
    Done,   // the dump ended (`routes` may hold the last ones)
    Error,  // the kernel answered an error; `error` holds it
    Malformed,
  } status = Status::More;
  std::vector<LocalRoute> routes;
  int error = 0;  // positive errno
};

// Reads one datagram of the answer to dump `sequence`: the IPv4 and IPv6 local routes in it.
LocalRoutesPart parse_local_routes(std::span<const std::uint8_t> datagram, std::uint32_t sequence);

}  // namespace awf::sandbox
