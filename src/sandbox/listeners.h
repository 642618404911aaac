// The gateway's listening sockets. They are created by the sandbox side, inside the sandbox's
// network namespace (the only place where they are reachable), and handed to awf over a
// socketpair with SCM_RIGHTS: the same path works as root and rootless.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.h"

namespace awf::sandbox {

enum class ListenerKind : std::uint8_t {
  ExplicitProxy,     // TCP 127.0.0.1:3128: HTTP_PROXY/HTTPS_PROXY point here
  TransparentHttp,   // TCP *:80 (v4 and v6): proxy-unaware plain HTTP
  TransparentTls,    // TCP *:443 (v4 and v6): proxy-unaware TLS
  DnsUdp,            // UDP *:53 (v4 and v6), with packet-info so replies leave from the
                     // address the query was sent to
  DnsTcp,            // TCP *:53 (v4 and v6)
  LoopbackWatch,     // raw sockets (TCP, ICMP; v4 and v6) that see the traces blocked
                     // attempts leave: refusals, unreachable ports, echo requests
  SocketDiag,        // a NETLINK_SOCK_DIAG socket of the sandbox's network namespace: finds
                     // the inode of a client's socket, to name the process behind it
  HostPort,          // TCP 172.17.0.1:<port> (--enable-host-access with --allow-host-ports):
                     // relayed to the host's 127.0.0.1:<port>. A specific address, not the
                     // wildcard, so the command can still listen on 127.0.0.1:<port> itself
  ApiProxy,          // TCP 127.0.0.1:<port> (--enable-api-proxy): one LLM provider per port
  Peer,              // TCP <peer address>:<port> (--topology-attach): relayed to the Docker
                     // container; the gateway finds which one from the bound address
  CliProxy,          // TCP 127.0.0.1:11000 (--difc-proxy-host): the GitHub CLI proxy's
                     // executor, served by awf outside the gateway (cli_proxy/server.h)
  // Not listeners of the gateway: what awf's socket supervisor needs, sent once the command's
  // process has installed its filter (Sandbox::take_supervision).
  SyscallNotify,  // the command's seccomp notification descriptor
  UnixDiag,       // a blocking NETLINK_SOCK_DIAG socket of the sandbox's network namespace
};

struct Listener {
  ListenerKind kind;
  UniqueFd fd;
  // SocketDiag only: the sandbox init in awf's pid numbering (set by Sandbox::start), whose
  // descendants are the processes a socket can belong to.
  pid_t sandbox_init = 0;
};

inline constexpr std::uint16_t kExplicitProxyPort = 3128;

// At most this many listeners are passed in one message (the kernel's limit, SCM_MAX_FD, is
// 253): the fixed ones, 64 host ports, the API proxy's and 64 peer ports fit.
inline constexpr std::size_t kMaxListeners = 192;

// Creates every listener in the calling thread's network namespace, with a HostPort listener
// on `host_address`:<port> for each of `host_ports` and an ApiProxy listener on
// 127.0.0.1:<port> for each of `api_ports`. IPv6 sockets are skipped when the kernel has no
// IPv6. Throws SetupError.
std::vector<Listener> create_listeners(const std::vector<std::uint16_t>& host_ports = {},
                                       std::string_view host_address = {},
                                       const std::vector<std::uint16_t>& api_ports = {});

// A blocking NETLINK_SOCK_DIAG socket of the calling thread's network namespace (the socket
// supervisor's: its dumps list the namespace's Unix sockets). Throws SetupError.
UniqueFd open_unix_diag();

// A port of a topology peer (--topology-attach): a listener on `address`:`port`.
struct PeerPort {
  std::string address;  // IPv4
  std::uint16_t port = 0;
};

// Whether awf already listens on `port` on every address (80, 443: transparent HTTP and TLS,
// which hand a peer's connections to the peer relay; 53: DNS). A listener bound to a single
// address cannot share a port with a listening wildcard socket.
bool has_wildcard_listener(std::uint16_t port);

// Appends a Peer listener for each of `ports` not served by a wildcard listener, bound to an
// address no interface has (every address is local in the sandbox). Throws SetupError.
void add_peer_listeners(std::vector<Listener>& listeners, const std::vector<PeerPort>& ports);

// Appends the CliProxy listener on 127.0.0.1:`port`. Throws SetupError.
void add_cli_proxy_listener(std::vector<Listener>& listeners, std::uint16_t port);

// Sends the listeners over a connected AF_UNIX socket (one message, SCM_RIGHTS).
void send_listeners(int channel, const std::vector<Listener>& listeners);

// Receives what send_listeners sent. Throws SetupError.
std::vector<Listener> receive_listeners(int channel);

}  // namespace awf::sandbox
