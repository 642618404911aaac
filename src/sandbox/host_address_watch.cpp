#include "sandbox/host_address_watch.h"

#include <libmnl/libmnl.h>
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

namespace awf::sandbox {
namespace {

// A local route (type RTN_LOCAL, in the local table) adds its destination prefix.
int add_local_route(const nlmsghdr* header, void* data) {
  auto& addresses = *static_cast<policy::HostAddresses*>(data);
  const auto* route = static_cast<const rtmsg*>(mnl_nlmsg_get_payload(header));
  if (header->nlmsg_type != RTM_NEWROUTE || route->rtm_type != RTN_LOCAL) return MNL_CB_OK;
  const void* destination = nullptr;  // absent: the default route, 0/0
  const char* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(header));
  for (auto* attribute =
           static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(header, sizeof(rtmsg)));
       mnl_attr_ok(attribute, static_cast<int>(tail - reinterpret_cast<const char*>(attribute)));
       attribute = mnl_attr_next(attribute)) {
    if (mnl_attr_get_type(attribute) == RTA_DST) destination = mnl_attr_get_payload(attribute);
  }
  if (route->rtm_family == AF_INET) {
    in_addr prefix{};
    if (destination != nullptr) std::memcpy(&prefix, destination, sizeof prefix);
    addresses.add_v4(prefix, route->rtm_dst_len);
  } else if (route->rtm_family == AF_INET6) {
    in6_addr prefix{};
    if (destination != nullptr) std::memcpy(&prefix, destination, sizeof prefix);
    addresses.add_v6(prefix, route->rtm_dst_len);
  }
  return MNL_CB_OK;
}

}  // namespace

policy::HostAddresses read_host_addresses() {
  mnl_socket* nl = mnl_socket_open(NETLINK_ROUTE);
  if (nl == nullptr) throw errno_error("netlink: socket");
  const std::unique_ptr<mnl_socket, int (*)(mnl_socket*)> owner(nl, &mnl_socket_close);
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) throw errno_error("netlink: bind");
  alignas(nlmsghdr) char request[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* header = mnl_nlmsg_put_header(request);
  header->nlmsg_type = RTM_GETROUTE;
  header->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  header->nlmsg_seq = 1;
  auto* route = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(rtmsg)));
  route->rtm_family = AF_UNSPEC;
  route->rtm_table = RT_TABLE_LOCAL;
  if (mnl_socket_sendto(nl, header, header->nlmsg_len) < 0) throw errno_error("netlink: dump");
  policy::HostAddresses addresses;
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  const unsigned port = mnl_socket_get_portid(nl);
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(nl, buffer.data(), buffer.size());
    if (n < 0) throw errno_error("netlink: read routes");
    const int rc = mnl_cb_run(buffer.data(), n, 1, port, add_local_route, &addresses);
    if (rc == MNL_CB_ERROR) throw errno_error("netlink: read routes");
    if (rc == MNL_CB_STOP) return addresses;
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
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
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
