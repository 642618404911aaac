// The sandbox's filesystem view, built in its own mount namespace as bubblewrap does: a fresh
// tmpfs root into which host directories are bind-mounted. Nothing here touches the host's
// mount table (all mounts are private to the namespace) and nothing is created on the host.
#pragma once

#include <string>
#include <vector>

namespace awf::sandbox {

struct MountPlan {
  // Contents of the sandbox's /etc/resolv.conf (points at awf's DNS listener).
  std::string resolv_conf;
  // Host directories bound read-write at the same path (the workspace, the user's HOME).
  // Everything else from the host is read-only, except /tmp and /dev.
  std::vector<std::string> writable_paths;
  // Host directories hidden behind an empty read-only tmpfs (awf's own log directory: the
  // command must not read or rewrite the record of what it did).
  std::vector<std::string> masked_paths;
};

// Replaces the calling process's root with the sandbox view and mounts a fresh /proc (the
// caller must already be in new mount and PID namespaces). Throws SetupError.
void build_root(const MountPlan& plan);

}  // namespace awf::sandbox
