// Names the process in the sandbox behind a client socket (audit records carry its pid and
// command name). Two steps:
//   1. socket -> inode: one NETLINK_SOCK_DIAG (inet_diag) lookup of the exact four addresses,
//      on a netlink socket that the sandbox init created in the sandbox's network namespace
//      (a sock_diag socket answers for the namespace it was created in);
//   2. inode -> pid: the fd tables of the sandbox's processes (the init's descendants, each
//      checked to be in the init's pid namespace).
// Step 2 is what costs (a readlink per descriptor), so it is done as little as possible:
//   - every socket seen is remembered (inode -> process and fd), so one listing also names
//     the connections still waiting in the accept queue;
//   - when a connection ends, its fd number is remembered as freed, and the fds of the
//     oldest open connections are kept in order: a client that opens a new connection
//     usually gets the descriptor of one it just closed (lowest free descriptor), so those
//     few are read first (find_quickly), before any listing;
//   - the process tree is walked again only when no known process holds the socket.
// Thread-safe; never throws. A lookup that fails (the process is gone) gives pid 0.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/unique_fd.h"
#include "sandbox/sock_diag.h"

namespace awf::sandbox {

struct PeerProcess {
  int pid = 0;              // host pid numbering; 0 when unknown
  std::string command;      // /proc/PID/comm
  std::uint32_t inode = 0;  // the client's socket (for PeerFinder::release)
};

class PeerFinder {
 public:
  // `diag`: a NETLINK_SOCK_DIAG socket of the sandbox's network namespace; `init`: the
  // sandbox init, in awf's pid numbering.
  PeerFinder(UniqueFd diag, pid_t init);

  // Both steps, as thoroughly as needed.
  PeerProcess find(const SocketTuple& tuple);

  // Step 1 alone: the inode of the client's socket (0 when it is gone).
  std::uint32_t socket_inode(const SocketTuple& tuple);
  // Step 2 without listing descriptors or walking the process tree: nullopt when what is
  // known and the few likely descriptors were not enough. A caller that can wait a moment
  // tries again (awf may not have seen the close that freed the descriptor yet, `again`
  // then reads only what was learnt since), then find().
  std::optional<PeerProcess> find_quickly(std::uint32_t inode, bool again = false);
  // Step 2, thoroughly.
  PeerProcess find(std::uint32_t inode);
  // The connection of `process` ended: its descriptor is likely to be reused by the next one.
  void release(const PeerProcess& process);

 private:
  struct Freed {
    int fd = -1;
    int misses = 0;  // times it was found still closed
  };
  struct Connection {
    int fd = -1;
    std::uint32_t inode = 0;
  };
  struct Process {
    int pid = 0;
    UniqueFd dir;  // /proc/PID, opened once and checked to be in the sandbox
    std::unordered_map<int, std::uint32_t> fds;  // fd -> socket inode (0: something else)
    std::vector<Freed> freed;                    // fds whose connection ended, most recent last
    std::deque<Connection> open;  // connections looked up and not ended yet, oldest first
  };
  struct Owner {
    int pid = 0;
    int fd = -1;
  };

  Process* owner_of(std::uint32_t inode, bool thorough, bool again);
  PeerProcess describe(Process* owner, std::uint32_t inode);
  bool read_fd(Process& process, int fd, std::uint32_t& inode);
  Process* try_freed(std::uint32_t inode);
  Process* try_oldest(std::uint32_t inode);
  Process* list_known(std::uint32_t inode);
  Process* walk_tree(std::uint32_t inode);
  bool list_fds(Process& process);
  bool in_sandbox(int proc_dir) const;
  Process* process(int pid);
  void remember(Process& process, int fd, std::uint32_t inode);

  UniqueFd diag_;
  pid_t init_;
  dev_t pid_ns_dev_ = 0;
  ino_t pid_ns_ino_ = 0;
  bool usable_ = false;

  std::mutex diag_mutex_;  // one request in flight on the netlink socket
  std::uint32_t sequence_ = 0;
  bool diag_failed_ = false;  // logged once

  std::mutex mutex_;                                 // everything below
  std::list<Process> processes_;                     // most recent owner first
  std::unordered_map<std::uint32_t, Owner> owners_;  // socket inode -> where it was seen
};

}  // namespace awf::sandbox
