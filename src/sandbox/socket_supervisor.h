// The Unix socket rule: the command may reach a pathname Unix socket only when the socket was
// created inside the sandbox, or when the caller named its path (--allow-unix-socket PATH, or
// a -v bind of the socket itself). Host daemons whose sockets the view shows (in the
// workspace, a -v directory, anything bound from the host) are refused with EACCES and the
// refusal is recorded.
//
// How: the command's seccomp filter sends connect(), sendto() with a destination, sendmsg()
// and sendmmsg() to this supervisor, threads of awf outside the sandbox (seccomp user
// notification; see docs/security.md for why not Landlock): one waits for calls itself and
// answers them, and hands that role to a spare thread before a connect() or a send that has
// to wait for its peer, so a call blocked in awf's hands holds no other call. For connect() awf does
// the call itself, on the command's own socket (pidfd_getfd), of every family: it resolves a
// path in the command's root once, decides on the file it found and connects to that very
// file (/proc/thread-self/fd/N of the O_PATH descriptor), so neither a rewritten address, a
// descriptor number dup2()ed over, nor a path swapped after the check can reach another
// socket. A socket is the sandbox's when the sandbox's network namespace has a Unix socket
// bound to that file (unix_diag): a host process's socket lives in the host's. Sends
// (sendto with a destination, sendmsg, sendmmsg) are done by awf the same way: from its own
// copy of the message (caller_message.h), with the descriptors it passes taken
// (control_messages.h), a Unix datagram's path checked and sent to the file found; the
// kernel never reads the command's arguments again after the check.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "sandbox/identity.h"

namespace awf::sandbox {

struct UnixRefusal {
  int pid = 0;           // the caller, in awf's pid numbering
  std::string command;   // its comm
  std::string path;      // the socket's path as the command named it
  std::string call;      // "connect", "sendto", "sendmsg"
};

struct SupervisorOptions {
  // --allow-unix-socket paths (and -v binds of sockets), as the command sees them.
  std::vector<std::string> allowed_paths;
  // The command's identity: awf checks the socket's permissions as it (when awf is root).
  Identity identity;
  std::function<void(const UnixRefusal&)> refused;  // called on the supervisor's threads
};

class SocketSupervisor {
 public:
  // Starts answering the notifications of `notify` (the command's filter) on threads of its
  // own; `diag` is a unix_diag socket of the sandbox's network namespace. The destructor ends
  // them (a signal, SIGRTMIN+4, interrupts their waits).
  SocketSupervisor(UniqueFd notify, UniqueFd diag, SupervisorOptions options);
  ~SocketSupervisor();
  SocketSupervisor(const SocketSupervisor&) = delete;
  SocketSupervisor& operator=(const SocketSupervisor&) = delete;

 private:
  struct Pool;  // the receiving threads and what they share
  std::unique_ptr<Pool> pool_;
};

}  // namespace awf::sandbox
