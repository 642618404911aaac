// Pure logic for finding the process behind a client socket in the sandbox: the
// NETLINK_SOCK_DIAG (inet_diag) request that looks one socket up by its four addresses, the
// reply that carries its inode, and the /proc texts that lead from an inode to a process
// ("socket:[123]" fd links, "children" pid lists). No I/O here; peer_process.* does it.
// Also the unix_diag dump that lists the filesystem files the sandbox's own Unix sockets are
// bound to (socket_supervisor.* asks it: a listener is the sandbox's when it is there).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

namespace awf::sandbox {

// One socket of a connection (or a UDP exchange) inside the sandbox, named from the
// gateway's side: `client` is where the sandbox's socket is bound, `server` is the address
// and port the client sent to (the gateway's listener, or the original destination).
struct SocketTuple {
  bool ipv6 = false;
  bool udp = false;
  std::array<std::uint8_t, 16> client_address{};  // network order; IPv4 in the first 4 bytes
  std::uint16_t client_port = 0;                  // host order
  std::array<std::uint8_t, 16> server_address{};
  std::uint16_t server_port = 0;
};

// A SOCK_DIAG_BY_FAMILY request for exactly that socket (any state).
std::vector<std::uint8_t> inet_diag_request(const SocketTuple& tuple, std::uint32_t sequence);

struct DiagReply {
  enum class Status {
    Found,  // inode holds the socket's inode (0 for a socket no process holds any more)
    Error,  // the kernel answered an error (ENOENT: no such socket); `error` holds it
    Other,  // no message for this sequence number: read on
    Malformed,
  } status = Status::Other;
  std::uint32_t inode = 0;
  int error = 0;  // positive errno
};

// Reads the answer to request `sequence` out of one datagram from the netlink socket.
DiagReply parse_inet_diag_reply(std::span<const std::uint8_t> datagram, std::uint32_t sequence);

// A dump of every Unix socket of the namespace the netlink socket belongs to, each with the
// filesystem inode it is bound to (UDIAG_SHOW_VFS).
std::vector<std::uint8_t> unix_diag_request(std::uint32_t sequence);

// A pathname socket's file, as unix_diag names it: the inode number's low 32 bits and the
// kernel's internal device number (major << 20 | minor), not stat's encoding.
struct UnixBinding {
  std::uint32_t inode = 0;
  std::uint32_t device = 0;
  bool operator==(const UnixBinding&) const = default;
};

// The same file as stat(2) describes it.
UnixBinding binding_of(std::uint64_t st_ino, unsigned major, unsigned minor);

struct UnixDiagPart {
  enum class Status {
    More,  // `bound` holds this datagram's sockets; the dump goes on
    Done,  // the dump ended (`bound` may hold the last sockets)
    Error,  // the kernel answered an error; `error` holds it
    Malformed,
  } status = Status::More;
  std::vector<UnixBinding> bound;  // unbound and abstract sockets are left out
  int error = 0;                   // positive errno
};

// Reads one datagram of the answer to dump `sequence`; messages of other sequences are skipped.
UnixDiagPart parse_unix_diag_dump(std::span<const std::uint8_t> datagram, std::uint32_t sequence);

// The inode of a socket named by a /proc/PID/fd link ("socket:[12345]"); nullopt otherwise.
std::optional<std::uint64_t> parse_socket_link(std::string_view link);

// The pids of a /proc/PID/task/TID/children file ("12 13 "); stops at anything else.
std::vector<int> parse_pid_list(std::string_view text);

// A numeric /proc directory entry (pid or fd number); nullopt for anything else.
std::optional<int> parse_decimal(std::string_view text);

}  // namespace awf::sandbox
