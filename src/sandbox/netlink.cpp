#include "sandbox/netlink.h"

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "common/error.h"

namespace awf::sandbox {
namespace {

class NetlinkSocket {
 public:
  NetlinkSocket() : nl_(mnl_socket_open(NETLINK_ROUTE)) {
    if (nl_ == nullptr) throw errno_error("netlink: socket");
    if (mnl_socket_bind(nl_, 0, MNL_SOCKET_AUTOPID) < 0) {
      mnl_socket_close(nl_);
      throw errno_error("netlink: bind");
    }
  }
  ~NetlinkSocket() { mnl_socket_close(nl_); }
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;

  // Sends one request with NLM_F_ACK and waits for the kernel's answer; returns 0 or -errno.
  int transact(nlmsghdr* request) {
    request->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    request->nlmsg_seq = ++seq_;
    if (mnl_socket_sendto(nl_, request, request->nlmsg_len) < 0) return -errno;
    std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
    const unsigned port = mnl_socket_get_portid(nl_);
    for (;;) {
      const ssize_t n = mnl_socket_recvfrom(nl_, buffer.data(), buffer.size());
      if (n < 0) return -errno;
      const int rc = mnl_cb_run(buffer.data(), n, seq_, port, nullptr, nullptr);
      if (rc == MNL_CB_ERROR) return -errno;
      if (rc == MNL_CB_STOP) return 0;
    }
  }

 private:
  mnl_socket* nl_;
  unsigned seq_ = static_cast<unsigned>(time(nullptr));
};

int loopback_index() {
  const unsigned index = if_nametoindex("lo");
  if (index == 0) throw errno_error("netlink: no loopback interface");
  return static_cast<int>(index);
}

int add_local_default_route(NetlinkSocket& nl, unsigned char family, int oif) {
  alignas(nlmsghdr) char buffer[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* header = mnl_nlmsg_put_header(buffer);
  header->nlmsg_type = RTM_NEWROUTE;
  header->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
  auto* route = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(rtmsg)));
  route->rtm_family = family;
  route->rtm_dst_len = 0;  // default: every destination
  route->rtm_table = RT_TABLE_LOCAL;
  route->rtm_protocol = RTPROT_BOOT;
  route->rtm_scope = RT_SCOPE_HOST;
  route->rtm_type = RTN_LOCAL;
  mnl_attr_put_u32(header, RTA_TABLE, RT_TABLE_LOCAL);
  mnl_attr_put_u32(header, RTA_OIF, static_cast<uint32_t>(oif));
  return nl.transact(header);
}

}  // namespace

void bring_up_loopback() {
  NetlinkSocket nl;
  alignas(nlmsghdr) char buffer[MNL_SOCKET_BUFFER_SIZE];
  nlmsghdr* header = mnl_nlmsg_put_header(buffer);
  header->nlmsg_type = RTM_NEWLINK;
  auto* link = static_cast<ifinfomsg*>(mnl_nlmsg_put_extra_header(header, sizeof(ifinfomsg)));
  link->ifi_family = AF_UNSPEC;
  link->ifi_index = loopback_index();
  link->ifi_flags = IFF_UP;
  link->ifi_change = IFF_UP;
  if (const int rc = nl.transact(header); rc < 0) {
    throw SetupError(std::string("netlink: set lo up: ") + std::strerror(-rc));
  }
}

void add_local_default_routes() {
  NetlinkSocket nl;
  const int lo = loopback_index();
  if (const int rc = add_local_default_route(nl, AF_INET, lo); rc < 0) {
    throw SetupError(std::string("netlink: add IPv4 local default route: ") + std::strerror(-rc));
  }
  // Without IPv6 in the kernel there is no IPv6 path to close; anything else is fatal.
  if (const int rc = add_local_default_route(nl, AF_INET6, lo);
      rc < 0 && rc != -EAFNOSUPPORT && rc != -EOPNOTSUPP) {
    throw SetupError(std::string("netlink: add IPv6 local default route: ") + std::strerror(-rc));
  }
}

}  // namespace awf::sandbox
