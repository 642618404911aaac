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

// What a peer sees of its client: the kernel records the calling thread's euid, egid and
// groups at connect() (SO_PEERCRED, SO_PEERGROUPS), and its real uid and gid and its process
// with each datagram sent to a receiver that asked for credentials (SO_PASSCRED). When awf
// connects or sends on the command's behalf as root, this thread takes the command's real and
// effective uid and gid for that call alone (within ActingAs, which set the groups), so a
// peer sees the command's uid and gid; the process is awf's, which the sandbox's pid
// namespace shows as pid 0 (docs/security.md, known limits). Leaving euid 0 also empties the
// thread's effective capabilities, so the call gets no privilege the command lacks. Raw
// system calls: per thread. The saved uid stays 0, so the ids come back, and the effective
// capabilities with them.
class CallingAs {
 public:
  explicit CallingAs(const Identity& identity) : active_(geteuid() == 0 && identity.uid != 0) {
    if (!active_) return;
    getresuid(&uid_[0], &uid_[1], &uid_[2]);
    getresgid(&gid_[0], &gid_[1], &gid_[2]);
    syscall(SYS_setresgid, identity.gid, identity.gid, -1);  // first: needs CAP_SETGID
    syscall(SYS_setresuid, identity.uid, identity.uid, -1);
  }
  ~CallingAs() {
    if (!active_) return;
    syscall(SYS_setresuid, uid_[0], uid_[1], -1);  // allowed: the saved uid is 0
    syscall(SYS_setresgid, gid_[0], gid_[1], -1);
  }
  CallingAs(const CallingAs&) = delete;
  CallingAs& operator=(const CallingAs&) = delete;

 private:
  bool active_;
  uid_t uid_[3] = {};
  gid_t gid_[3] = {};
};

// awf's own supplementary groups, to restore after ActingAs.
std::vector<gid_t> own_groups();

}  // namespace awf::sandbox
