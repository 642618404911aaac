// The sandbox's filesystem view, built in its own mount namespace as bubblewrap does: a fresh
// tmpfs root into which host directories are bind-mounted. Nothing here touches the host's
// mount table (all mounts are private to the namespace) and nothing is created on the host.
#pragma once

#include <string>
#include <vector>

#include "sandbox/home_view.h"

namespace awf::sandbox {

// A -v mount: a host path (resolved) shown at `target` in the sandbox.
struct BindMount {
  std::string source;
  std::string target;
  bool read_only = false;
};

// A file awf gives the sandbox (the run's CA bundle and trust store, --ssl-bump): shown
// read-only at `path` (under /run, the sandbox's own tmpfs), and bound over each of `overlays`
// that is a regular file in the view (the distribution's CA bundle paths), so that tools that
// only read the system bundle trust it too. Nothing is written on the host.
struct ProvidedFile {
  std::string path;
  std::string contents;
  std::vector<std::string> overlays;
};

struct MountPlan {
  // Contents of the sandbox's /etc/resolv.conf (points at awf's DNS listener).
  std::string resolv_conf;
  // Lines added to the host's /etc/hosts in the sandbox ("address name\n": the topology
  // peers of --topology-attach). Empty: /etc/hosts is the host's, untouched.
  std::string hosts_entries;
  // The command's HOME: an empty tmpfs with only tool directories bound in (home_view.h).
  HomeSpec home;
  // Host directories bound read-write at the same path (the workspace), after the HOME view:
  // a workspace under /home, /root or HOME stays reachable and writable. Everything else
  // from the host is read-only; /tmp and /var/tmp are the sandbox's own.
  std::vector<std::string> writable_paths;
  // The user's -v mounts, after the workspace and before the IPC sweeps and the masks: a
  // daemon socket or awf's log directory stays hidden even when a mount would show it.
  std::vector<BindMount> binds;
  // Host directories hidden behind an empty read-only tmpfs (awf's own log directory: the
  // command must not read or rewrite the record of what it did).
  std::vector<std::string> masked_paths;
  // Host directories (resolved) whose repository keeps a writable .git with its real config
  // (--allow-git-write); every other shown repository is protected (git_view.h).
  std::vector<std::string> git_writable;
  std::vector<ProvidedFile> provided_files;
  // The host path of the terminal the command inherits as stdin, stdout or stderr ("" when
  // none is a terminal): bound at /dev/console (kernel_view.h).
  std::string terminal;
};

// Replaces the calling process's root with the sandbox view and mounts a fresh /proc (the
// caller must already be in new mount and PID namespaces). Throws SetupError.
void build_root(const MountPlan& plan);

}  // namespace awf::sandbox
