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
// Cleanup. awf removes the cgroup when the sandbox is gone. A SIGKILLed awf cannot; the next
// run (as root) removes every run cgroup whose awf process no longer exists.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "sandbox/limits.h"

namespace awf::sandbox {

class Cgroup {
 public:
  // Creates this run's cgroup with the limits. Returns nullopt and says why in `reason` when
  // the host does not allow it (awf not root, no cgroup v2 with the memory and pids
  // controllers nor v1 memory and pids hierarchies, a read-only cgroupfs, ...).
  static std::optional<Cgroup> create(const ResourceLimits& limits, std::string& reason);

  Cgroup(Cgroup&& other) noexcept;
  Cgroup& operator=(Cgroup&&) = delete;
  Cgroup(const Cgroup&) = delete;
  Cgroup& operator=(const Cgroup&) = delete;
  // Removes the cgroup; its processes must be gone (the sandbox's init reaped).
  ~Cgroup();

  // Moves a process into the cgroup (the sandbox's init, right after clone, before it can
  // fork); its descendants stay there. Throws SetupError.
  void add(pid_t pid) const;

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
  bool make_v1(std::string& reason);
  void apply_limits() const;

  bool v1_ = false;
  std::string memory_dir_;
  std::string pids_dir_;  // the same directory as memory_dir_ on cgroup v2
  ResourceLimits limits_;
};

}  // namespace awf::sandbox
