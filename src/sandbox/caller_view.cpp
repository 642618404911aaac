#include "sandbox/caller_view.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "sandbox/unix_address.h"

namespace awf::sandbox {
namespace {

std::string read_link(const std::string& path) {
  char target[PATH_MAX];
  const ssize_t n = readlink(path.c_str(), target, sizeof target);
  return n > 0 ? std::string(target, static_cast<std::size_t>(n)) : "";
}

}  // namespace

bool read_memory(pid_t pid, std::uint64_t address, void* out, std::size_t size) {
  if (size == 0) return true;
  iovec local{out, size};
  iovec remote{reinterpret_cast<void*>(address), size};
  return process_vm_readv(pid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(size);
}

pid_t thread_group_of(pid_t tid) {
  UniqueFd fd(open(("/proc/" + std::to_string(tid) + "/status").c_str(), O_RDONLY | O_CLOEXEC));
  char text[4096];
  const ssize_t n = fd.valid() ? read(fd.get(), text, sizeof text - 1) : -1;
  if (n <= 0) return tid;
  text[n] = '\0';
  const char* line = std::strstr(text, "\nTgid:");
  return line != nullptr ? static_cast<pid_t>(std::strtol(line + 6, nullptr, 10)) : tid;
}

bool read_memory_ranges(pid_t pid, std::span<const iovec> remote, std::uint8_t* out) {
  std::size_t total = 0;
  for (const iovec& range : remote) total += range.iov_len;
  if (total == 0) return true;
  iovec local{out, total};
  return process_vm_readv(pid, &local, 1, remote.data(), remote.size(), 0) ==
         static_cast<ssize_t>(total);
}

bool write_memory(pid_t pid, std::uint64_t address, const void* data, std::size_t size) {
  if (size == 0) return true;
  iovec local{const_cast<void*>(data), size};
  iovec remote{reinterpret_cast<void*>(address), size};
  return process_vm_writev(pid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(size);
}

std::string comm_of(pid_t pid) {
  UniqueFd fd(open(("/proc/" + std::to_string(pid) + "/comm").c_str(), O_RDONLY | O_CLOEXEC));
  char name[32] = {};
  const ssize_t n = fd.valid() ? read(fd.get(), name, sizeof name - 1) : -1;
  std::string text(name, n > 0 ? static_cast<std::size_t>(n) : 0);
  if (text.ends_with('\n')) text.pop_back();
  return text;
}

UniqueFd open_in_caller_view(pid_t pid, const std::string& path, int& error) {
  const std::string proc = "/proc/" + std::to_string(pid);
  UniqueFd root(open((proc + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) {
    error = ESRCH;
    return root;
  }
  std::string absolute = path;
  if (!path.starts_with('/')) {
    // /proc/PID/cwd reads as the directory's path in the caller's root (awf sees the
    // sandbox's root as that of its mount namespace); it must lead back to the same directory.
    absolute = join_socket_path(read_link(proc + "/cwd"), path);
    open_how how{};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    const std::string cwd = absolute.substr(0, absolute.size() - path.size());
    UniqueFd seen(
        static_cast<int>(syscall(SYS_openat2, root.get(), cwd.c_str(), &how, sizeof how)));
    struct stat seen_stat {
    }, real_stat{};
    if (absolute.empty() || !seen.valid() || fstat(seen.get(), &seen_stat) < 0 ||
        stat((proc + "/cwd").c_str(), &real_stat) < 0 || seen_stat.st_dev != real_stat.st_dev ||
        seen_stat.st_ino != real_stat.st_ino) {
      error = EACCES;
      return UniqueFd();
    }
  }
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  UniqueFd file(
      static_cast<int>(syscall(SYS_openat2, root.get(), absolute.c_str(), &how, sizeof how)));
  if (!file.valid()) error = errno;
  return file;
}

}  // namespace awf::sandbox
