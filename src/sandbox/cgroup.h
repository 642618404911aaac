// The run's cgroup: hard memory and process-count limits for everything in the sandbox, so
// that a runaway or hostile command (a fork bomb, a memory hog) cannot exhaust the host that
// also runs awf's gateway.
//
// Placement. cgroup v2: /sys/fs/cgroup/awf/run-<awf's pid>. v2 forbids enabling controllers in a
// cgroup that holds processes, and awf's own cgroup usually does (its shell, sudo, the CI
// runner), so the run cgroup hangs off the root of the hierarchy, as Docker's cgroupfs driver
// does; its own limits replace those of awf's cgroup. cgroup v1 (hybrid hosts): a child
// awf-run-<pid> of awf's own cgroup in the memory and pids hierarchies, which keeps the
// sandbox inside any limit set on awf itself.
//
// Without root (rootless), only a cgroup delegated to the user can hold the limits: awf creates
// awf-run-<pid> in the nearest cgroup of its own (or, on v2, an ancestor of it: v2 keeps
// controllers out of cgroups that hold processes) that the user may write and that offers the
// memory and pids controllers, e.g. under `systemd-run --user --scope -p Delegate=yes`.
//
// Another mount view. `ip netns exec` (and some container setups) give awf a fresh /sys without
// the cgroup mount. awf as root then mounts the hierarchies privately (v2, else v1 memory and
// pids): detached mounts (fsopen/fsmount) that exist only as descriptors of awf's, are in no
// mount namespace, and go away with awf. Without it the limits would silently not hold (a fork bomb
// unbounded).
//
// Cleanup. awf removes the cgroup when the sandbox is gone. A SIGKILLed awf cannot; the next
// run (as root) removes every run cgroup whose awf process no longer exists.
#pragma once

#include <sys/types.h>

#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "sandbox/limits.h"

namespace awf::sandbox {

// How the sandbox's init enters the run's cgroup. Writing a pid to cgroup.procs takes a global
// lock whose release waits for an RCU grace period: milliseconds, more on a busy host. Both
// ways below avoid it.
struct CgroupJoin {
  // cgroup v2: the init is cloned straight into the cgroup (clone3 with CLONE_INTO_CGROUP,
  // Linux 5.7). -1 when there is no v2 cgroup.
  int clone_into_fd = -1;
  // cgroup v2 on kernels without clone3: awf writes the init's pid here after the clone.
  std::string procs_file;
  // cgroup v1: the single-threaded init moves itself by writing "0" to each of these `tasks`
  // files, which skips the global lock.
  std::vector<std::string> task_files;
};

// Writes one value to a cgroup control file. Throws SetupError.
void write_cgroup_file(const std::string& path, const std::string& value);

class Cgroup {
 public:
  // Creates this run's cgroup with the limits. Returns nullopt and says why in `reason` when
  // the host does not allow it (awf not root and no cgroup delegated to it, no cgroup v2 with
  // the memory and pids controllers nor v1 memory and pids hierarchies, a read-only
  // cgroupfs, ...).
  static std::optional<Cgroup> create(const ResourceLimits& limits, std::string& reason);

  Cgroup(Cgroup&& other) noexcept;
  Cgroup& operator=(Cgroup&& other) noexcept;
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;
  // Removes the cgroup; its processes must be gone (the sandbox's init reaped).
  ~Cgroup();

  // For the sandbox's init (see CgroupJoin); valid while this object lives.
  CgroupJoin join() const;

  // One line per limit the sandbox ran into (processes OOM-killed, forks refused).
  std::vector<std::string> limit_reports() const;

  // "cgroup v2 /sys/fs/cgroup/awf/run-42" (for --log-level debug).
  std::string describe() const;

 private:
  explicit Cgroup(const ResourceLimits& limits) : limits_(limits) {}
  // Each returns false with `reason` set when the host lacks what it needs; throws SetupError
  // when a step fails. Directories are recorded as soon as they exist (the destructor removes
  // them if a later step fails).
  bool make_v2(std::string& reason);
  bool make_v2_delegated(std::string& reason);
  bool make_v1(std::string& reason);
  bool mount_privately(std::string& reason);
  bool mount_hierarchy(const char* controller, std::string& reason);
  // Where a hierarchy is reached ("" the v2 one, else a v1 controller's).
  std::string hierarchy(const std::string& controller) const;
  void apply_limits() const;
  void remove();

  bool v1_ = false;
  // Hierarchies mounted privately: controller ("" for v2) -> /proc/self/fd/<n> of the mount.
  std::vector<std::pair<std::string, std::string>> private_paths_;
  std::vector<UniqueFd> private_mounts_;
  std::string memory_dir_;
  std::string pids_dir_;  // the same directory as memory_dir_ on cgroup v2
  UniqueFd v2_dir_;       // for CLONE_INTO_CGROUP
  ResourceLimits limits_;
};

}  // namespace awf::sandbox
