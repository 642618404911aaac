#include "sandbox/listeners.h"

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/error.h"

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78  // linux/in6.h; glibc's netinet/in.h lacks it
#endif

namespace awf::sandbox {
namespace {

constexpr int kBacklog = 4096;

void set_int_option(int fd, int level, int name, int value, const char* what) {
  if (setsockopt(fd, level, name, &value, sizeof value) < 0) throw errno_error(what);
}

// Returns an invalid fd when the address family is not supported by the kernel.
UniqueFd open_socket(int family, int type, std::uint16_t port, const char* address,
                     bool freebind = false) {
  UniqueFd fd(socket(family, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) {
    if (errno == EAFNOSUPPORT) return {};
    throw errno_error("listener socket");
  }
  set_int_option(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
  sockaddr_storage storage{};
  socklen_t length = 0;
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&storage);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    inet_pton(AF_INET, address, &sin->sin_addr);
    length = sizeof *sin;
  } else {
    // Separate v4 and v6 sockets: packet-info replies and getsockname() stay in one family.
    set_int_option(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY");
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    inet_pton(AF_INET6, address, &sin6->sin6_addr);
    length = sizeof *sin6;
  }
  // An address no interface has (every address is local here through the local default
  // route, but not assigned).
  if (freebind) set_int_option(fd.get(), IPPROTO_IP, IP_FREEBIND, 1, "IP_FREEBIND");
  if (type == SOCK_DGRAM) {
    if (family == AF_INET) {
      set_int_option(fd.get(), IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO");
    } else {
      set_int_option(fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO");
      // Replies leave from the address the query was sent to. IPv6 only accepts a source
      // that is assigned to an interface, unless the socket may use non-local addresses
      // (every address is local here through the local default route, but not assigned).
      set_int_option(fd.get(), IPPROTO_IPV6, IPV6_FREEBIND, 1, "IPV6_FREEBIND");
    }
  }
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&storage), length) < 0) {
    // IPv6 may exist as a family while the namespace has no ::1 yet; treat like no IPv6.
    if (family == AF_INET6 && errno == EADDRNOTAVAIL) return {};
    throw errno_error("bind listener port " + std::to_string(port));
  }
  if (type == SOCK_STREAM) {
    set_int_option(fd.get(), IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
    if (listen(fd.get(), kBacklog) < 0) throw errno_error("listen");
  }
  return fd;
}

void add_dual_stack(std::vector<Listener>& out, ListenerKind kind, int type, std::uint16_t port) {
  out.push_back({kind, open_socket(AF_INET, type, port, "0.0.0.0")});
  if (UniqueFd v6 = open_socket(AF_INET6, type, port, "::"); v6.valid()) {
    out.push_back({kind, std::move(v6)});
  }
}

// Raw sockets see a copy of every packet of their protocol delivered in the namespace, so
// they see the traces blocked attempts leave: the kernel's TCP resets (refused connections),
// its ICMP "port unreachable" answers (UDP to a port nobody serves), echo requests. Kernel
// filters pass only those, so bulk traffic costs nothing. (A packet socket would see the same
// but costs an RCU grace period, about 10 ms, when it is closed.)
// IPv4 raw sockets deliver from the IP header on; IPv6 ones from the transport header on.
constexpr sock_filter kTcp4Resets[] = {
    BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),              // X = IPv4 header length
    BPF_STMT(BPF_LD | BPF_B | BPF_IND, 13),              // TCP flags
    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x04, 0, 1),    // RST?
    BPF_STMT(BPF_RET | BPF_K, 512),
    BPF_STMT(BPF_RET | BPF_K, 0),
};
constexpr sock_filter kIcmp4Traces[] = {
    BPF_STMT(BPF_LDX | BPF_B | BPF_MSH, 0),
    BPF_STMT(BPF_LD | BPF_B | BPF_IND, 0),               // ICMP type
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 3, 1, 0),        // destination unreachable
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 8, 0, 1),        // echo request
    BPF_STMT(BPF_RET | BPF_K, 512),
    BPF_STMT(BPF_RET | BPF_K, 0),
};
constexpr sock_filter kTcp6Resets[] = {
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 13),
    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x04, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, 512),
    BPF_STMT(BPF_RET | BPF_K, 0),
};
constexpr sock_filter kIcmp6Traces[] = {
    BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0),               // ICMPv6 type
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 1, 0),        // destination unreachable
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 128, 0, 1),      // echo request
    BPF_STMT(BPF_RET | BPF_K, 512),
    BPF_STMT(BPF_RET | BPF_K, 0),
};

template <std::size_t N>
UniqueFd open_trace_socket(int family, int protocol, const sock_filter (&filter)[N]) {
  UniqueFd fd(socket(family, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol));
  if (!fd.valid()) {
    if (family == AF_INET6 && errno == EAFNOSUPPORT) return {};
    throw errno_error("blocked-attempt watch: raw socket");
  }
  const sock_fprog program{static_cast<unsigned short>(N), const_cast<sock_filter*>(filter)};
  if (setsockopt(fd.get(), SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) < 0) {
    throw errno_error("blocked-attempt watch: attach filter");
  }
  // IPv6 raw sockets do not show the IP header: the destination comes as packet info.
  if (family == AF_INET6) {
    set_int_option(fd.get(), IPPROTO_IPV6, IPV6_RECVPKTINFO, 1, "IPV6_RECVPKTINFO");
  }
  return fd;
}

void add_trace_sockets(std::vector<Listener>& out) {
  out.push_back({ListenerKind::LoopbackWatch, open_trace_socket(AF_INET, IPPROTO_TCP, kTcp4Resets)});
  out.push_back({ListenerKind::LoopbackWatch, open_trace_socket(AF_INET, IPPROTO_ICMP, kIcmp4Traces)});
  if (UniqueFd tcp6 = open_trace_socket(AF_INET6, IPPROTO_TCP, kTcp6Resets); tcp6.valid()) {
    out.push_back({ListenerKind::LoopbackWatch, std::move(tcp6)});
    out.push_back({ListenerKind::LoopbackWatch,
                   open_trace_socket(AF_INET6, IPPROTO_ICMPV6, kIcmp6Traces)});
  }
}

// sock_diag answers for the network namespace its socket was created in, so the socket is
// made here, by the init, and sent out like the listeners. (awf joining the namespace with
// setns() instead would need CAP_SYS_ADMIN over it, which rootless awf does not have in its
// own user namespace.) The command cannot reach it: the init closes its copy after sending,
// and the seccomp filter refuses netlink sockets to the command anyway.
UniqueFd open_socket_diag() {
  UniqueFd fd(socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_SOCK_DIAG));
  if (!fd.valid()) throw errno_error("sock_diag netlink socket");
  return fd;
}

}  // namespace

UniqueFd open_unix_diag() {
  UniqueFd fd(socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!fd.valid()) throw errno_error("unix_diag netlink socket");
  return fd;
}

std::vector<Listener> create_listeners(const std::vector<std::uint16_t>& host_ports,
                                       std::string_view host_address,
                                       const std::vector<std::uint16_t>& api_ports) {
  std::vector<Listener> listeners;
  listeners.push_back({ListenerKind::ExplicitProxy,
                       open_socket(AF_INET, SOCK_STREAM, kExplicitProxyPort, "127.0.0.1")});
  add_dual_stack(listeners, ListenerKind::TransparentHttp, SOCK_STREAM, 80);
  add_dual_stack(listeners, ListenerKind::TransparentTls, SOCK_STREAM, 443);
  add_dual_stack(listeners, ListenerKind::DnsUdp, SOCK_DGRAM, 53);
  add_dual_stack(listeners, ListenerKind::DnsTcp, SOCK_STREAM, 53);
  add_trace_sockets(listeners);
  listeners.push_back({ListenerKind::SocketDiag, open_socket_diag()});
  const std::string address(host_address);
  in_addr parsed{};
  // Never the wildcard: the command keeps its own ports on every other address.
  if (!host_ports.empty() &&
      (inet_pton(AF_INET, address.c_str(), &parsed) != 1 || parsed.s_addr == INADDR_ANY)) {
    throw SetupError("host port listeners need a specific IPv4 address, not '" + address + "'");
  }
  for (const std::uint16_t port : host_ports) {
    listeners.push_back(
        {ListenerKind::HostPort, open_socket(AF_INET, SOCK_STREAM, port, address.c_str(), true)});
  }
  for (const std::uint16_t port : api_ports) {
    listeners.push_back({ListenerKind::ApiProxy, open_socket(AF_INET, SOCK_STREAM, port, "127.0.0.1")});
  }
  if (listeners.size() > kMaxListeners) throw SetupError("too many listeners");
  return listeners;
}

void add_cli_proxy_listener(std::vector<Listener>& listeners, std::uint16_t port) {
  listeners.push_back({ListenerKind::CliProxy, open_socket(AF_INET, SOCK_STREAM, port, "127.0.0.1")});
}

bool has_wildcard_listener(std::uint16_t port) {
  return port == 53 || port == 80 || port == 443;
}

void add_peer_listeners(std::vector<Listener>& listeners, const std::vector<PeerPort>& ports) {
  for (const PeerPort& peer : ports) {
    if (has_wildcard_listener(peer.port)) continue;
    in_addr parsed{};
    if (inet_pton(AF_INET, peer.address.c_str(), &parsed) != 1 || parsed.s_addr == INADDR_ANY) {
      throw SetupError("peer listener needs a specific IPv4 address, not '" + peer.address + "'");
    }
    listeners.push_back({ListenerKind::Peer,
                         open_socket(AF_INET, SOCK_STREAM, peer.port, peer.address.c_str(), true)});
  }
  if (listeners.size() > kMaxListeners) throw SetupError("too many listeners");
}

void send_listeners(int channel, const std::vector<Listener>& listeners) {
  if (listeners.size() > kMaxListeners) throw SetupError("too many listeners");
  std::uint8_t kinds[kMaxListeners];
  int fds[kMaxListeners];
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    kinds[i] = static_cast<std::uint8_t>(listeners[i].kind);
    fds[i] = listeners[i].fd.get();
  }
  iovec iov{kinds, listeners.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof fds)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(sizeof(int) * listeners.size());
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN(sizeof(int) * listeners.size());
  std::memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * listeners.size());
  if (sendmsg(channel, &msg, MSG_NOSIGNAL) < 0) throw errno_error("send listeners");
}

std::vector<Listener> receive_listeners(int channel) {
  std::uint8_t kinds[kMaxListeners];
  iovec iov{kinds, sizeof kinds};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxListeners)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t n = recvmsg(channel, &msg, MSG_CMSG_CLOEXEC);
  if (n < 0) throw errno_error("receive listeners");
  if (n == 0) throw SetupError("sandbox closed its channel before sending its listeners");
  std::vector<Listener> listeners;
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg != nullptr; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
    const std::size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (std::size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof fd);
      listeners.push_back({ListenerKind::ExplicitProxy, UniqueFd(fd)});
    }
  }
  if (listeners.size() != static_cast<std::size_t>(n)) {
    throw SetupError("sandbox sent " + std::to_string(n) + " listener kinds but " +
                     std::to_string(listeners.size()) + " descriptors");
  }
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    listeners[i].kind = static_cast<ListenerKind>(kinds[i]);
  }
  return listeners;
}

}  // namespace awf::sandbox
