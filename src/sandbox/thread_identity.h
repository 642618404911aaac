// Per-thread identity switches for the socket supervisor (socket_supervisor.cpp): a root awf
// checks and connects on the command's behalf as the command. Raw system calls throughout:
// glibc's set*id and setgroups wrappers change every thread of the process, and awf's other
// threads must keep root's identity.
#pragma once

#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <vector>

#include "sandbox/identity.h"

namespace awf::sandbox {

// awf's file system checks made as the command (when awf is root): the thread's fsuid, fsgid
// and groups, which a root process may set per thread. Without this, root's DAC override
// would let the command reach a socket its own permissions forbid. Raw system calls: glibc's
// setgroups would change every thread of awf.
class ActingAs {
 public:
  ActingAs(const Identity& identity, const std::vector<gid_t>& own_groups)
      : own_groups_(own_groups), active_(geteuid() == 0 && identity.uid != 0) {
    if (!active_) return;
    syscall(SYS_setgroups, identity.groups.size(), identity.groups.data());
    setfsgid(identity.gid);
    setfsuid(identity.uid);
  }
  ~ActingAs() {
    if (!active_) return;
    setfsuid(0);  // first: gives the file capabilities back
    setfsgid(0);
    syscall(SYS_setgroups, own_groups_.size(), own_groups_.data());
  }
  ActingAs(const ActingAs&) = delete;
  ActingAs& operator=(const ActingAs&) = delete;

 private:
  const std::vector<gid_t>& own_groups_;
  bool active_;
};

// What a server sees of its client (SO_PEERCRED, SO_PEERGROUPS): the kernel records the
// connecting thread's euid, egid and groups, and its process. When awf connects on the
// command's behalf as root, this thread takes the command's euid and egid for the connect()
// alone (within ActingAs, which set the groups), so a server in the sandbox sees the
// command's uid and gid; the process is awf's, which the sandbox's pid namespace shows as
// pid 0 (docs/security.md, known limits). Raw system calls: per thread. The real and saved
// uid stay 0, so the euid comes back, and the effective capabilities with it.
class ConnectingAs {
 public:
  explicit ConnectingAs(const Identity& identity)
      : active_(geteuid() == 0 && identity.uid != 0), egid_(getegid()) {
    if (!active_) return;
    syscall(SYS_setresgid, -1, identity.gid, -1);  // first: needs CAP_SETGID
    syscall(SYS_setresuid, -1, identity.uid, -1);
  }
  ~ConnectingAs() {
    if (!active_) return;
    syscall(SYS_setresuid, -1, 0, -1);
    syscall(SYS_setresgid, -1, egid_, -1);
  }
  ConnectingAs(const ConnectingAs&) = delete;
  ConnectingAs& operator=(const ConnectingAs&) = delete;

 private:
  bool active_;
  gid_t egid_;
};

// awf's own supplementary groups, to restore after ActingAs.
std::vector<gid_t> own_groups();

}  // namespace awf::sandbox
