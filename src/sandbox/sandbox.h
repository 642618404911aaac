// The sandbox: a child of awf in new PID, mount, network, UTS and IPC namespaces (plus a user
// namespace when awf is not root). Its init sets up the network and the filesystem view,
// creates the gateway's listeners and hands them to awf, then runs the command with no
// privileges and reaps it. If awf dies, the init dies (parent-death signal) and with it every
// process of the PID namespace: the command never outlives its gateway.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "sandbox/cgroup.h"
#include "sandbox/identity.h"
#include "sandbox/listeners.h"
#include "sandbox/mounts.h"

namespace awf::sandbox {

struct SandboxSpec {
  std::vector<std::string> argv;  // argv[0] is looked up in the command's PATH
  std::vector<std::string> env;   // KEY=VALUE, the command's whole environment
  Identity identity;
  std::string workdir;  // falls back to "/" when it is missing in the sandbox...
  bool workdir_required = false;  // ...unless the caller named it (--container-workdir)
  MountPlan mounts;
  std::string hostname = "awf";
  CgroupJoin cgroup;  // the run's cgroup (resource limits); empty when there is none
  // --enable-host-access: ports that get a transparent listener on host_address (IPv4).
  std::vector<std::uint16_t> host_ports;
  std::string host_address;
  // --enable-api-proxy: the API proxy's ports, on 127.0.0.1 in the sandbox.
  std::vector<std::uint16_t> api_ports;
  // Where the sandbox's stderr goes instead of awf's (--diagnostic-logs keeps its tail);
  // -1: awf's own.
  int stderr_fd = -1;
  // --topology-attach: a listener on each peer's address and port, relayed by the gateway.
  std::vector<PeerPort> peer_ports;
  // --difc-proxy-host: the GitHub CLI proxy's port on 127.0.0.1 (0: none).
  std::uint16_t cli_proxy_port = 0;
};

// When awf is not root: refuses at once (SetupError naming the sysctl and the fix) where the
// host disables or restricts unprivileged user namespaces, before the run creates anything.
// Must be called while awf is single-threaded (it may fork a probe). Restrictions that only
// show in the sandbox itself are named by Sandbox::start.
void check_user_namespaces();

class Sandbox {
 public:
  // Clones the sandbox init (into the run's cgroup) and waits until its listeners and
  // filesystem are ready. Must be called while awf is single-threaded. Throws SetupError
  // (with the sandbox's own message when the failure happened inside it).
  static Sandbox start(const SandboxSpec& spec);

  Sandbox(Sandbox&&) = default;
  Sandbox& operator=(Sandbox&&) = default;
  ~Sandbox();

  std::vector<Listener> take_listeners() { return std::move(listeners_); }

  // Lets the init start the command (call once the gateway serves the listeners).
  void release();

  // After release(): the command's seccomp notification descriptor (SyscallNotify) and a
  // unix_diag socket of the sandbox (UnixDiag), for a SocketSupervisor. Waits until the
  // command has installed its filter; empty when the command ended before that.
  std::vector<Listener> take_supervision();

  // Delivers a signal to the init, which forwards it to the command.
  void forward_signal(int signal) const;

  // Non-blocking: the command's exit status (128+N for signal N) once the init has exited.
  std::optional<int> try_wait();

  pid_t pid() const { return pid_; }

 private:
  Sandbox(pid_t pid, UniqueFd channel) : pid_(pid), channel_(std::move(channel)) {}

  pid_t pid_ = -1;
  UniqueFd channel_;
  std::vector<Listener> listeners_;
  bool reaped_ = false;
};

}  // namespace awf::sandbox
