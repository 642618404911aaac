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

// awf's own identity, read once at the supervisor's start (before any thread switches):
// what each switch below restores, and whether it applies (awf is root).
struct OwnIdentity {
  bool root = false;
  uid_t uid = 0, euid = 0;
  gid_t gid = 0, egid = 0;
  std::vector<gid_t> groups;
};

OwnIdentity own_identity();

// awf's file system checks made as the command (when awf is root): the thread's fsuid, fsgid
// and groups, which a root process may set per thread. Without this, root's DAC override
// would let the command reach a socket its own permissions forbid. Raw system calls: glibc's
// setgroups would change every thread of awf.
class ActingAs {
 public:
  ActingAs(const Identity& identity, const OwnIdentity& own)
      : own_(own), active_(own.root && identity.uid != 0) {
    if (!active_) return;
    syscall(SYS_setgroups, identity.groups.size(), identity.groups.data());
    setfsgid(identity.gid);
    setfsuid(identity.uid);
  }
  ~ActingAs() {
    if (!active_) return;
    setfsuid(own_.euid);  // first: gives the file capabilities back
    setfsgid(own_.egid);
    syscall(SYS_setgroups, own_.groups.size(), own_.groups.data());
  }
  ActingAs(const ActingAs&) = delete;
  ActingAs& operator=(const ActingAs&) = delete;

 private:
  const OwnIdentity& own_;
  bool active_;
};

// What a peer sees of its client: the kernel records the calling thread's euid, egid and
// groups at connect() (SO_PEERCRED, SO_PEERGROUPS), and its real uid and gid and its process
// with each message sent to a receiver that asked for credentials (SO_PASSCRED). When awf
// connects or sends on a Unix socket on the command's behalf as root, this thread takes the
// command's real and effective uid and gid for that call alone (within ActingAs, which set
// the groups, where there is a path), so a peer sees the command's uid and gid; the process
// is awf's, which the sandbox's pid namespace shows as pid 0 (docs/security.md, known
// limits). Leaving euid 0 also empties the thread's effective capabilities, so the call gets
// no privilege the command lacks. Raw system calls: per thread. The saved uid stays 0, so
// the ids come back, and the effective capabilities with them.
class CallingAs {
 public:
  CallingAs(const Identity& identity, const OwnIdentity& own)
      : own_(own), active_(own.root && identity.uid != 0) {
    if (!active_) return;
    syscall(SYS_setresgid, identity.gid, identity.gid, -1);  // first: needs CAP_SETGID
    syscall(SYS_setresuid, identity.uid, identity.uid, -1);
  }
  ~CallingAs() {
    if (!active_) return;
    syscall(SYS_setresuid, own_.uid, own_.euid, -1);  // allowed: the saved uid is 0
    syscall(SYS_setresgid, own_.gid, own_.egid, -1);
  }
  CallingAs(const CallingAs&) = delete;
  CallingAs& operator=(const CallingAs&) = delete;

 private:
  const OwnIdentity& own_;
  bool active_;
};

}  // namespace awf::sandbox
