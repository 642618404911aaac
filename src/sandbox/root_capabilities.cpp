#include "sandbox/root_capabilities.h"

#include <linux/capability.h>

namespace awf::sandbox {
namespace {

struct Use {
  int capability;
  const char* name;
};

// What each is for: the namespaces, mounts and pivot_root (SYS_ADMIN); the sandbox's network
// and the gateway's firewall (NET_ADMIN); the blocked-attempt watch's raw sockets (NET_RAW);
// the gateway's listeners on ports below 1024 (NET_BIND_SERVICE); the command's identity and
// the socket supervisor's per-call switches (SETUID, SETGID); dropping the bounding set
// (SETPCAP); the command's sockets and memory, which the supervisor acts on (SYS_PTRACE).
constexpr Use kUses[] = {
    {CAP_SYS_ADMIN, "CAP_SYS_ADMIN"},       {CAP_NET_ADMIN, "CAP_NET_ADMIN"},
    {CAP_NET_RAW, "CAP_NET_RAW"},           {CAP_NET_BIND_SERVICE, "CAP_NET_BIND_SERVICE"},
    {CAP_SETUID, "CAP_SETUID"},             {CAP_SETGID, "CAP_SETGID"},
    {CAP_SETPCAP, "CAP_SETPCAP"},           {CAP_SYS_PTRACE, "CAP_SYS_PTRACE"},
};

}  // namespace

std::optional<std::string> root_capability_problem(std::uint64_t effective) {
  std::string missing;
  for (const Use& use : kUses) {
    if (effective & (std::uint64_t{1} << use.capability)) continue;
    missing += (missing.empty() ? "" : ", ") + std::string(use.name);
  }
  if (missing.empty()) return std::nullopt;
  return "cannot create the sandbox: awf runs as root without " + missing +
         " (a container's default capability set lacks some of these): grant them (docker run "
         "--cap-add), or run awf as a non-root user, which needs none (docs/deploy.md)";
}

}  // namespace awf::sandbox
