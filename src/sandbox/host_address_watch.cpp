#include "sandbox/host_address_watch.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"
#include "sandbox/route_netlink.h"

namespace awf::sandbox {
namespace {

// A dump datagram holds as many messages as fit the kernel's buffer of up to 32 KiB.
constexpr std::size_t kDumpDatagramSize = 32768;
constexpr std::uint32_t kDumpSequence = 1;

void add_local_route(policy::HostAddresses& addresses, const LocalRoute& route) {
  if (route.ipv6) {
    in6_addr prefix{};
    std::memcpy(&prefix, route.prefix.data(), sizeof prefix);
    addresses.add_v6(prefix, route.length);
  } else {
    in_addr prefix{};
    std::memcpy(&prefix, route.prefix.data(), sizeof prefix);
    addresses.add_v4(prefix, route.length);
  }
}

}  // namespace

policy::HostAddresses read_host_addresses() {
  const UniqueFd nl(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!nl.valid()) throw errno_error("netlink: socket");
  const std::vector<std::uint8_t> request = local_routes_request(kDumpSequence);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (sendto(nl.get(), request.data(), request.size(), 0,
             reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel) < 0) {
    throw errno_error("netlink: dump");
  }
  policy::HostAddresses addresses;
  std::vector<std::uint8_t> buffer(kDumpDatagramSize);
  for (;;) {
    const ssize_t n = recv(nl.get(), buffer.data(), buffer.size(), 0);
    if (n < 0) throw errno_error("netlink: read routes");
    const LocalRoutesPart part =
        parse_local_routes({buffer.data(), static_cast<std::size_t>(n)}, kDumpSequence);
    if (part.status == LocalRoutesPart::Status::Malformed) {
      throw SetupError("netlink: read routes: malformed answer");
    }
    if (part.status == LocalRoutesPart::Status::Error) {
      throw SetupError(std::string("netlink: read routes: ") + std::strerror(part.error));
    }
    for (const LocalRoute& route : part.routes) add_local_route(addresses, route);
    if (part.status == LocalRoutesPart::Status::Done) return addresses;
  }
}

HostAddressWatch::HostAddressWatch()
    : current_(std::make_shared<const policy::HostAddresses>(read_host_addresses())),
      events_(socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE)),
      stop_(eventfd(0, EFD_CLOEXEC)) {
  if (!events_.valid() || !stop_.valid()) throw errno_error("netlink: watch");
  sockaddr_nl groups{};
  groups.nl_family = AF_NETLINK;
  groups.nl_groups =
      RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE;
  if (bind(events_.get(), reinterpret_cast<sockaddr*>(&groups), sizeof groups) < 0) {
    throw errno_error("netlink: watch");
  }
  thread_ = std::thread([this] { follow(); });
}

HostAddressWatch::~HostAddressWatch() {
  const std::uint64_t one = 1;
  if (write(stop_.get(), &one, sizeof one) < 0) std::perror("awf: host address watch");
  thread_.join();
}

// Any announcement (or a lost one: ENOBUFS) means: read the routes again. A failed read keeps
// the last set, which only ever errs toward what was true a moment ago.
void HostAddressWatch::follow() {
  std::vector<char> buffer(kDumpDatagramSize);
  for (;;) {
    pollfd fds[2] = {{events_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents != 0) return;
    if (fds[0].revents == 0) continue;
    while (recv(events_.get(), buffer.data(), buffer.size(), 0) > 0 || errno == ENOBUFS) {
    }
    try {
      current_.store(std::make_shared<const policy::HostAddresses>(read_host_addresses()));
    } catch (const SetupError& error) {
      std::fprintf(stderr, "awf: warning: %s\n", error.what());
    }
  }
}

}  // namespace awf::sandbox
