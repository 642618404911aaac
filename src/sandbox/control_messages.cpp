#include "sandbox/control_messages.h"

#include <linux/net_tstamp.h>
#include <linux/netlink.h>
#include <linux/tls.h>
#include <linux/udp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace awf::sandbox {
namespace {

#ifndef SOL_TLS
#define SOL_TLS 282
#endif
#ifndef SOL_ALG
#define SOL_ALG 279
#endif
#ifndef SCM_TXTIME
#define SCM_TXTIME 61
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

constexpr std::size_t kHeader = sizeof(cmsghdr);  // 16 bytes: length, level, type

constexpr std::size_t align(std::size_t n) {
  return (n + sizeof(std::size_t) - 1) & ~(sizeof(std::size_t) - 1);
}

// Messages the kernel handles without looking at the sender's privilege.
bool needs_no_privilege(int level, int type) {
  switch (level) {
    case SOL_SOCKET:
      // SCM_RIGHTS: translated; a timestamping request; a transmit time (SO_TXTIME).
      return type == SCM_RIGHTS || type == SO_TIMESTAMPING_OLD || type == SCM_TXTIME;
    case IPPROTO_IP:
      return type == IP_TOS || type == IP_TTL || type == IP_PKTINFO;
    case IPPROTO_IPV6:
      return type == IPV6_PKTINFO || type == IPV6_HOPLIMIT || type == IPV6_TCLASS ||
             type == IPV6_DONTFRAG || type == IPV6_2292PKTINFO;
    case IPPROTO_UDP:
      return type == UDP_SEGMENT;  // GSO segment size
    case SOL_TLS:
      return true;  // kTLS record type (TLS_SET_RECORD_TYPE)
    case SOL_ALG:
      return true;  // AF_ALG operation, IV, associated data length
    default:
      return false;
  }
}

}  // namespace

ControlWalk walk_control(std::span<const std::uint8_t> control) {
  ControlWalk walk;
  std::size_t offset = 0;
  // As the kernel's for_each_cmsghdr: a header must fit; fewer trailing bytes are ignored.
  while (control.size() - offset >= kHeader) {
    cmsghdr header{};
    std::memcpy(&header, control.data() + offset, kHeader);
    const std::size_t length = header.cmsg_len;
    if (length < kHeader || length > control.size() - offset) {
      walk.error = EINVAL;
      return walk;
    }
    if (!needs_no_privilege(header.cmsg_level, header.cmsg_type)) {
      walk.error = EPERM;
      return walk;
    }
    walk.entries.push_back(
        {header.cmsg_level, header.cmsg_type, offset + kHeader, length - kHeader});
    const std::size_t step = align(length);
    if (step > control.size() - offset) break;
    offset += step;
  }
  return walk;
}

bool is_netlink_address(std::span<const std::uint8_t> name) {
  sa_family_t family = 0;
  if (name.size() >= sizeof(sockaddr_nl)) std::memcpy(&family, name.data(), sizeof family);
  return family == AF_NETLINK;
}

bool names_a_netlink_peer(std::span<const std::uint8_t> name) {
  if (!is_netlink_address(name)) return false;  // the kernel refuses it: EINVAL
  sockaddr_nl address{};
  std::memcpy(&address, name.data(), sizeof address);
  return address.nl_pid != 0 || address.nl_groups != 0;
}

bool carries_descriptors(const ControlEntry& entry) {
  return entry.level == SOL_SOCKET && entry.type == SCM_RIGHTS;
}

}  // namespace awf::sandbox
