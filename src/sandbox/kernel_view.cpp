#include "sandbox/kernel_view.h"

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/error.h"
#include "sandbox/mount_ops.h"

namespace awf::sandbox {
namespace {

// Devices every program may expect. The host's /dev also holds /dev/kmsg (writes the kernel
// log), /dev/userfaultfd (a userfaultfd although seccomp denies the system call), /dev/net/tun,
// /dev/fuse, /dev/loop-control, /dev/vsock (the hypervisor, outside every network namespace),
// disks and consoles: none of them is here. Bound rather than created: a rootless sandbox may
// not create device nodes.
constexpr const char* kDevices[] = {"null", "zero", "full", "random", "urandom", "tty"};

constexpr const char* kDevLinks[][2] = {
    {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},
};

// Host-wide knobs: uid 0 may write them by file mode alone (no capability needed).
constexpr const char* kReadOnlyProc[] = {"sys", "sysrq-trigger", "irq", "bus", "fs"};

// Kernel memory (kcore), the keyring of every user (keys), timers and scheduler state of every
// process on the host (timer_list, timer_stats, sched_debug, latency_stats: side channels).
constexpr const char* kMaskedProcFiles[] = {"kcore",       "keys",        "timer_list",
                                            "timer_stats", "sched_debug", "latency_stats"};
// Hardware interfaces, some of them writable by root.
constexpr const char* kMaskedProcDirectories[] = {"acpi", "asound", "scsi"};

constexpr const char* kMaskedSysDirectories[] = {"firmware", "devices/virtual/powercap"};

bool exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

void bind_device(const std::string& host_dev, const std::string& dev, const char* name) {
  const std::string source = host_dev + "/" + name;
  if (!exists(source)) {
    // Every program writes to /dev/null; a sandbox without it would fail in odd places.
    if (std::string(name) == "null") throw SetupError("the host has no /dev/null");
    return;
  }
  const std::string target = dev + "/" + name;
  write_file(target, "", 0666);
  bind(source, target, true);
}

// The command's terminal, and only a terminal: a character device under the host's /dev.
void bind_console(const std::string& host_root, const std::string& dev,
                  const std::string& terminal) {
  struct stat st {};
  if (!terminal.starts_with("/dev/") || terminal.find("/..") != std::string::npos ||
      stat((host_root + terminal).c_str(), &st) < 0 || !S_ISCHR(st.st_mode)) {
    return;
  }
  write_file(dev + "/console", "", 0600);
  bind(host_root + terminal, dev + "/console", true);
}

}  // namespace

void build_dev(const std::string& host_root, const std::string& dev, const std::string& terminal) {
  const std::string host_dev = host_root + "/dev";
  do_mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=64k");
  for (const char* name : kDevices) bind_device(host_dev, dev, name);
  if (!terminal.empty()) bind_console(host_root, dev, terminal);
  for (const auto& [name, target] : kDevLinks) {
    if (symlink(target, (dev + "/" + name).c_str()) < 0) {
      throw errno_error(std::string("symlink /dev/") + name);
    }
  }
  // A devpts instance of the sandbox's own: ptys opened inside (script, tmux, expect, Python's
  // pty) work, and the host's terminals (other sessions of the same user) are not there to be
  // read or written. Without gid=: a rootless sandbox has no tty group mapped.
  make_dir(dev + "/pts");
  do_mount("devpts", dev + "/pts", "devpts", MS_NOSUID | MS_NOEXEC,
           "newinstance,ptmxmode=0666,mode=0620");
  // POSIX shared memory of the sandbox only (the host's would reach every host process).
  make_dir(dev + "/shm");
  do_mount("tmpfs", dev + "/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
}

void restrict_proc(const std::string& proc) {
  for (const char* name : kReadOnlyProc) {
    const std::string path = proc + "/" + name;
    if (exists(path)) bind(path, path, false);
  }
  for (const char* name : kMaskedProcFiles) {
    const std::string path = proc + "/" + name;
    if (exists(path)) cover_file(path);
  }
  for (const char* name : kMaskedProcDirectories) {
    const std::string path = proc + "/" + name;
    if (is_real_directory(path)) hide_directory(path);
  }
}

void restrict_sys(const std::string& sys) {
  for (const char* name : kMaskedSysDirectories) {
    const std::string path = sys + "/" + name;
    if (is_real_directory(path)) hide_directory(path);
  }
}

}  // namespace awf::sandbox
