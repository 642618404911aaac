#include "sandbox/cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>
#include <thread>
#include <utility>

#include "common/error.h"
#include "common/unique_fd.h"

namespace awf::sandbox {
namespace {

constexpr const char* kRoot = "/sys/fs/cgroup";
constexpr const char* kV2Parent = "/awf";  // under the root of the v2 hierarchy
constexpr std::string_view kV2Prefix = "run-";
constexpr std::string_view kV1Prefix = "awf-run-";
constexpr const char* kControllers[] = {"memory", "pids"};

std::optional<std::string> read_text(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd.get(), buffer, sizeof buffer)) > 0) text.append(buffer, n);
  if (n < 0) return std::nullopt;
  return text;
}

// cgroupfs takes each value in a single write(2).
void write_text(const std::string& path, const std::string& text, bool may_be_missing = false) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid() && may_be_missing && errno == ENOENT) return;
  if (!fd.valid() || write(fd.get(), text.data(), text.size()) != ssize_t(text.size())) {
    throw errno_error("write '" + text + "' to " + path);
  }
}

bool has_fs_type(const char* path, long magic) {
  struct statfs info {};
  return statfs(path, &info) == 0 && info.f_type == magic;
}

void make_cgroup(const std::string& path) {
  if (mkdir(path.c_str(), 0755) < 0 && errno != EEXIST) throw errno_error("mkdir " + path);
}

// The run's own cgroup must be new: one left by a dead process with our pid is removed first
// (it is empty), one still in use (our pid in another PID namespace) is an error.
void make_run_cgroup(const std::string& path) {
  if (mkdir(path.c_str(), 0755) == 0) return;
  if (errno == EEXIST && rmdir(path.c_str()) == 0 && mkdir(path.c_str(), 0755) == 0) return;
  throw errno_error("mkdir " + path);
}

// rmdir fails with EBUSY while the kernel still counts an exiting task; that lasts moments.
bool remove_cgroup(const std::string& path) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    if (rmdir(path.c_str()) == 0 || errno == ENOENT) return true;
    if (errno != EBUSY) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return false;
}

// Run cgroups of awf processes that no longer exist (SIGKILLed before they could clean up).
// A live awf keeps its cgroup even while still empty; a cgroup that still holds processes
// refuses rmdir and is left for a later run.
void remove_stale_runs(const std::string& parent, std::string_view prefix) {
  DIR* dir = opendir(parent.c_str());
  if (dir == nullptr) return;
  while (dirent* entry = readdir(dir)) {
    const auto pid = run_pid_from_name(entry->d_name, prefix);
    if (pid && kill(static_cast<pid_t>(*pid), 0) < 0 && errno == ESRCH) {
      rmdir((parent + "/" + entry->d_name).c_str());
    }
  }
  closedir(dir);
}

// Enables the controllers for the children of `dir`, writing only the missing ones (a no-op
// write could still fail on a cgroup that holds processes).
void enable_controllers(const std::string& dir) {
  const std::string file = dir + "/cgroup.subtree_control";
  const auto enabled = read_text(file);
  if (!enabled) throw errno_error("read " + file);
  for (const char* controller : kControllers) {
    if (!lists_controller(*enabled, controller)) write_text(file, std::string("+") + controller);
  }
}

std::string run_name(std::string_view prefix) {
  return std::string(prefix) + std::to_string(getpid());
}

bool writable(const std::string& path) {
  return access(path.c_str(), W_OK) == 0;
}

// Without root, a cgroup is the user's to use when it and the file that moves processes are
// writable: what a delegation (systemd's Delegate=yes, a chown by the administrator) grants.
bool delegated(const std::string& dir, const char* procs_file) {
  return writable(dir) && writable(dir + "/" + procs_file);
}

// The parent cgroup of a cgroup path ("/a/b" -> "/a"; "/" has none).
std::optional<std::string> parent_of(const std::string& path) {
  if (path.empty() || path == "/") return std::nullopt;
  const std::size_t slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? std::string("/") : path.substr(0, slash);
}

const char* kNotRoot = "awf is not running as root";

}  // namespace

bool Cgroup::make_v2(std::string& reason) {
  const std::string list_file = hierarchy("") + "/cgroup.controllers";
  const auto available = read_text(list_file);
  for (const char* controller : kControllers) {
    if (!available || !lists_controller(*available, controller)) {
      reason = std::string("the cgroup v2 ") + controller + " controller is not available (" +
               kRoot + "/cgroup.controllers)";
      return false;
    }
  }
  const std::string root = hierarchy("");
  const std::string parent = root + kV2Parent;
  enable_controllers(root);
  make_cgroup(parent);
  enable_controllers(parent);
  remove_stale_runs(parent, kV2Prefix);
  const std::string dir = parent + "/" + run_name(kV2Prefix);
  make_run_cgroup(dir);
  memory_dir_ = pids_dir_ = dir;
  v2_dir_.reset(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!v2_dir_.valid()) throw errno_error("open " + dir);
  return true;
}

// The nearest of awf's own cgroup and its ancestors that is delegated to the user and has the
// memory and pids controllers for its children (cgroup.h).
bool Cgroup::make_v2_delegated(std::string& reason) {
  const auto own = read_text("/proc/self/cgroup");
  for (auto path = own ? cgroup_path_of(*own, "") : std::nullopt; path; path = parent_of(*path)) {
    std::string dir = hierarchy("") + *path;
    while (dir.back() == '/') dir.pop_back();
    if (*path == "/" || !delegated(dir, "cgroup.procs")) continue;
    const auto enabled = read_text(dir + "/cgroup.subtree_control");
    if (!enabled || !lists_controller(*enabled, "memory") || !lists_controller(*enabled, "pids")) {
      continue;
    }
    remove_stale_runs(dir, kV1Prefix);
    const std::string run = dir + "/" + run_name(kV1Prefix);
    make_run_cgroup(run);
    memory_dir_ = pids_dir_ = run;
    v2_dir_.reset(open(run.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!v2_dir_.valid()) throw errno_error("open " + run);
    return true;
  }
  reason = kNotRoot;
  return false;
}

bool Cgroup::make_v1(std::string& reason) {
  v1_ = true;
  const auto own = read_text("/proc/self/cgroup");
  for (const char* controller : kControllers) {
    const auto path = own ? cgroup_path_of(*own, controller) : std::nullopt;
    if (!path) {
      reason = std::string("awf is in no cgroup v1 ") + controller + " hierarchy";
      return false;
    }
    std::string parent = hierarchy(controller) + *path;
    while (parent.back() == '/') parent.pop_back();
    // v1 has no rule against processes next to child cgroups: awf's own cgroup, if the user's.
    if (geteuid() != 0 && !delegated(parent, "tasks")) {
      reason = kNotRoot;
      return false;
    }
    remove_stale_runs(parent, kV1Prefix);
    const std::string dir = parent + "/" + run_name(kV1Prefix);
    make_run_cgroup(dir);
    (std::string_view(controller) == "memory" ? memory_dir_ : pids_dir_) = dir;
  }
  return true;
}

std::string Cgroup::hierarchy(const std::string& controller) const {
  for (const auto& [name, path] : private_paths_) {
    if (name == controller) return path;
  }
  return controller.empty() ? kRoot : std::string(kRoot) + "/" + controller;
}

// One hierarchy as a detached mount (cgroup.h): attached nowhere, so nothing can be left
// mounted or propagate to the host's mount namespace. A v1 controller's mount is the host's
// existing hierarchy for it. Only root may mount.
bool Cgroup::mount_hierarchy(const char* controller, std::string& reason) {
  const bool v2 = *controller == '\0';
  const UniqueFd context(
      static_cast<int>(syscall(SYS_fsopen, v2 ? "cgroup2" : "cgroup", FSOPEN_CLOEXEC)));
  bool ok = context.valid() &&
            (v2 || syscall(SYS_fsconfig, context.get(), FSCONFIG_SET_FLAG, controller, nullptr,
                           0) == 0) &&
            syscall(SYS_fsconfig, context.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) == 0;
  UniqueFd mount(ok ? static_cast<int>(syscall(SYS_fsmount, context.get(), FSMOUNT_CLOEXEC, 0))
                    : -1);
  if (!mount.valid()) {
    reason = std::string(kRoot) + " is not mounted here and mounting the cgroup " +
             (v2 ? "v2 hierarchy" : std::string("v1 ") + controller + " hierarchy") +
             " failed: " + std::strerror(errno);
    return false;
  }
  private_paths_.emplace_back(controller, "/proc/self/fd/" + std::to_string(mount.get()));
  private_mounts_.push_back(std::move(mount));
  return true;
}

// /sys/fs/cgroup is not mounted in awf's view: v2 when its hierarchy has the controllers, else
// the v1 memory and pids hierarchies.
bool Cgroup::mount_privately(std::string& reason) {
  if (!mount_hierarchy("", reason)) return false;
  const auto available = read_text(hierarchy("") + "/cgroup.controllers");
  if (available && lists_controller(*available, "memory") && lists_controller(*available, "pids")) {
    return make_v2(reason);
  }
  private_paths_.clear();
  private_mounts_.clear();
  for (const char* controller : kControllers) {
    if (!mount_hierarchy(controller, reason)) return false;
  }
  return make_v1(reason);
}

void Cgroup::apply_limits() const {
  const std::string memory = std::to_string(limits_.memory_bytes);
  if (v1_) {
    write_text(memory_dir_ + "/memory.limit_in_bytes", memory);
    // Memory plus swap at the same value: no swap (present only with swap accounting).
    write_text(memory_dir_ + "/memory.memsw.limit_in_bytes", memory, true);
  } else {
    write_text(memory_dir_ + "/memory.max", memory);
    // Swap would let a hog stretch far past the limit at the host's expense (absent when
    // the kernel does not account swap).
    write_text(memory_dir_ + "/memory.swap.max", "0", true);
  }
  write_text(pids_dir_ + "/pids.max", std::to_string(limits_.pids));
}

std::optional<Cgroup> Cgroup::create(const ResourceLimits& limits, std::string& reason) {
  const bool root = geteuid() == 0;
  try {
    Cgroup cgroup(limits);
    bool made = false;
    if (has_fs_type(kRoot, CGROUP2_SUPER_MAGIC)) {
      made = root ? cgroup.make_v2(reason) : cgroup.make_v2_delegated(reason);
    } else if (has_fs_type("/sys/fs/cgroup/memory", CGROUP_SUPER_MAGIC) &&
               has_fs_type("/sys/fs/cgroup/pids", CGROUP_SUPER_MAGIC)) {
      made = cgroup.make_v1(reason);
    } else if (!root) {
      reason = kNotRoot;
    } else {
      made = cgroup.mount_privately(reason);
    }
    if (!made) return std::nullopt;
    cgroup.apply_limits();
    return cgroup;
  } catch (const SetupError& error) {
    reason = error.what();
    return std::nullopt;
  }
}

Cgroup::Cgroup(Cgroup&& other) noexcept
    : v1_(other.v1_),
      private_paths_(std::move(other.private_paths_)),
      private_mounts_(std::move(other.private_mounts_)),
      memory_dir_(std::exchange(other.memory_dir_, {})),
      pids_dir_(std::exchange(other.pids_dir_, {})),
      v2_dir_(std::move(other.v2_dir_)),
      limits_(other.limits_) {}

Cgroup& Cgroup::operator=(Cgroup&& other) noexcept {
  if (this != &other) {
    remove();
    v1_ = other.v1_;
    private_paths_ = std::move(other.private_paths_);
    private_mounts_ = std::move(other.private_mounts_);
    memory_dir_ = std::exchange(other.memory_dir_, {});
    pids_dir_ = std::exchange(other.pids_dir_, {});
    v2_dir_ = std::move(other.v2_dir_);
    limits_ = other.limits_;
  }
  return *this;
}

Cgroup::~Cgroup() {
  remove();
}

void Cgroup::remove() {
  v2_dir_.reset();
  if (!memory_dir_.empty()) remove_cgroup(memory_dir_);
  if (!pids_dir_.empty() && pids_dir_ != memory_dir_) remove_cgroup(pids_dir_);
  memory_dir_.clear();
  pids_dir_.clear();
  private_paths_.clear();
  private_mounts_.clear();
}

void write_cgroup_file(const std::string& path, const std::string& value) {
  write_text(path, value);
}

CgroupJoin Cgroup::join() const {
  CgroupJoin join;
  if (v1_) {
    join.task_files = {memory_dir_ + "/tasks", pids_dir_ + "/tasks"};
  } else {
    join.clone_into_fd = v2_dir_.get();
    join.procs_file = memory_dir_ + "/cgroup.procs";
  }
  return join;
}

std::vector<std::string> Cgroup::limit_reports() const {
  std::vector<std::string> reports;
  const auto memory_events =
      read_text(memory_dir_ + (v1_ ? "/memory.oom_control" : "/memory.events"));
  if (const auto kills = memory_events ? keyed_value(*memory_events, "oom_kill") : std::nullopt;
      kills && *kills > 0) {
    reports.push_back("the sandbox hit its memory limit (--memory-limit " +
                      format_size(limits_.memory_bytes) + "): " + std::to_string(*kills) +
                      (*kills == 1 ? " process was" : " processes were") +
                      " killed by the kernel's OOM killer");
  }
  const auto pids_events = read_text(pids_dir_ + "/pids.events");
  if (const auto refused = pids_events ? keyed_value(*pids_events, "max") : std::nullopt;
      refused && *refused > 0) {
    reports.push_back("the sandbox hit its process limit (--pids-limit " +
                      std::to_string(limits_.pids) + "): " + std::to_string(*refused) +
                      (*refused == 1 ? " fork was" : " forks were") + " refused");
  }
  return reports;
}

// Paths as the host names them: a private mount's /proc/self/fd/<n> means nothing to a reader.
std::string Cgroup::describe() const {
  const auto host_path = [this](const std::string& dir) {
    for (const auto& [controller, path] : private_paths_) {
      if (dir.starts_with(path + "/")) {
        return kRoot + (controller.empty() ? "" : "/" + controller) + dir.substr(path.size());
      }
    }
    return dir;
  };
  if (!v1_) return "cgroup v2 " + host_path(memory_dir_);
  return "cgroup v1 " + host_path(memory_dir_) + " and " + host_path(pids_dir_);
}

}  // namespace awf::sandbox
