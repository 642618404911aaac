#include "sandbox/mount_ops.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "common/error.h"
#include "common/unique_fd.h"
#include "sandbox/mountinfo.h"

namespace awf::sandbox {
namespace {

constexpr const char* kEmptyFile = "/empty";

// Flags of an existing mount that a read-only remount must keep: in a user namespace the
// kernel refuses to drop them ("locked" flags).
unsigned long locked_flags(const std::string& path) {
  struct statvfs info {};
  if (statvfs(path.c_str(), &info) < 0) return 0;
  unsigned long flags = 0;
  if (info.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (info.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (info.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  if (info.f_flag & ST_NOATIME) flags |= MS_NOATIME;
  if (info.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (info.f_flag & ST_RELATIME) flags |= MS_RELATIME;
  return flags;
}

// This thread's mount table, with paths as its root shows them: while the view is built the
// root is the staging one and the host's /proc is under the old root.
std::string read_mountinfo() {
  const std::string path = std::string(kOldRoot) + "/proc/thread-self/mountinfo";
  UniqueFd file(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file.valid()) file.reset(open("/proc/thread-self/mountinfo", O_RDONLY | O_CLOEXEC));
  if (!file.valid()) throw errno_error("open " + path);
  std::string text;
  char chunk[8192];
  for (;;) {
    const ssize_t n = read(file.get(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw errno_error("read /proc/thread-self/mountinfo");
    if (n == 0) return text;
    text.append(chunk, static_cast<std::size_t>(n));
  }
}

}  // namespace

void do_mount(const char* source, const std::string& target, const char* type, unsigned long flags,
              const char* data) {
  if (mount(source, target.c_str(), type, flags, data) < 0) {
    throw errno_error(std::string("mount ") + (source ? source : "") + " on " + target);
  }
}

namespace {

// Read-only all the way down. The bind brings the source's submounts along (MS_REC), and a
// remount covers only the top one: the cgroupfs under /sys would stay writable, and in a
// rootless run with a delegated cgroup its files belong to the command's own uid (it could
// raise its limits or leave its cgroup). mount_setattr (Linux 5.12) covers the whole tree at
// once; older kernels (and seccomp profiles that refuse syscalls they do not know with EPERM)
// get each mount of the tree remounted, as /proc/self/mountinfo lists them. One that cannot
// be is an error: a bind asked for read-only is never left partly writable.
void make_read_only(const std::string& target) {
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY;
  if (syscall(SYS_mount_setattr, AT_FDCWD, target.c_str(), AT_RECURSIVE, &attr, sizeof attr) ==
      0) {
    return;
  }
  if (errno != ENOSYS && errno != EPERM) throw errno_error("make " + target + " read-only");
  for (const std::string& mount : mounts_at_or_below(read_mountinfo(), target)) {
    do_mount(nullptr, mount, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(mount));
  }
}

}  // namespace

void bind(const std::string& source, const std::string& target, bool writable) {
  do_mount(source.c_str(), target, nullptr, MS_BIND | MS_REC);
  if (!writable) make_read_only(target);
}

void hide_directory(const std::string& target) {
  do_mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
           "mode=0555,size=4k");
}

void prepare_empty_file() {
  write_file(kEmptyFile, "", 0444);
  // Bound onto itself to become a mount of its own, which can then be made read-only.
  do_mount(kEmptyFile, kEmptyFile, nullptr, MS_BIND);
  do_mount(nullptr, kEmptyFile, nullptr,
           MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(kEmptyFile));
}

void cover_file(const std::string& target) {
  do_mount(kEmptyFile, target, nullptr, MS_BIND);
}

void make_dir(const std::string& path, mode_t mode) {
  if (mkdir(path.c_str(), mode) < 0 && errno != EEXIST) throw errno_error("mkdir " + path);
}

void make_dirs(const std::string& path) {
  for (std::size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos == path.size() || path[pos] == '/') make_dir(path.substr(0, pos));
  }
}

void write_file(const std::string& path, const std::string& contents, mode_t mode) {
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd.valid()) throw errno_error("create " + path);
  if (write(fd.get(), contents.data(), contents.size()) != static_cast<ssize_t>(contents.size())) {
    throw errno_error("write " + path);
  }
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool is_real_directory(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

namespace {

// Kernels before 5.6 have no openat2: walk the path without following any symlink. A path
// reached through one cannot be resolved safely there, so setup fails (closed).
UniqueFd open_without_links(const std::string& new_root, const std::string& path) {
  for (std::size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    struct stat st {};
    if (lstat((new_root + path.substr(0, pos)).c_str(), &st) < 0) return UniqueFd();
    if (S_ISLNK(st.st_mode)) {
      throw SetupError("cannot resolve " + path +
                       ": it is reached through a symbolic link and this kernel has no openat2 "
                       "(Linux 5.6)");
    }
  }
  return UniqueFd(open((new_root + path).c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
}

}  // namespace

UniqueFd open_in_view(int root, const std::string& new_root, const std::string& path) {
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  const long fd = syscall(SYS_openat2, root, path.c_str(), &how, sizeof how);
  if (fd >= 0) return UniqueFd(static_cast<int>(fd));
  if (errno == ENOSYS) return open_without_links(new_root, path);
  if (errno == ENOENT || errno == ENOTDIR || errno == EACCES) return UniqueFd();
  throw errno_error("resolve " + path + " in the sandbox view");
}

std::string fd_path(const std::string& new_root, const UniqueFd& fd) {
  return new_root + "/proc/self/fd/" + std::to_string(fd.get());
}

bool copy_symlink(const std::string& source, const std::string& target) {
  char link[PATH_MAX];
  const ssize_t n = readlink(source.c_str(), link, sizeof link - 1);
  if (n < 0) return false;
  link[n] = '\0';
  if (symlink(link, target.c_str()) < 0) throw errno_error("symlink " + target);
  return true;
}

}  // namespace awf::sandbox
