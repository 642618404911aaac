#include "sandbox/mounts.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/error.h"
#include "common/unique_fd.h"

namespace awf::sandbox {
namespace {

// Staging layout while the view is built: the staging tmpfs is our root, the host's root sits
// at /oldroot and the future root at /newroot.
constexpr const char* kOldRoot = "/oldroot";
constexpr const char* kNewRoot = "/newroot";

void do_mount(const char* source, const std::string& target, const char* type,
              unsigned long flags, const char* data = nullptr) {
  if (mount(source, target.c_str(), type, flags, data) < 0) {
    throw errno_error(std::string("mount ") + (source ? source : "") + " on " + target);
  }
}

void make_dir(const std::string& path, mode_t mode = 0755) {
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
  if (write(fd.get(), contents.data(), contents.size()) !=
      static_cast<ssize_t>(contents.size())) {
    throw errno_error("write " + path);
  }
}

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

void bind(const std::string& source, const std::string& target, bool writable) {
  do_mount(source.c_str(), target, nullptr, MS_BIND | MS_REC);
  if (!writable) {
    do_mount(nullptr, target, nullptr,
             MS_BIND | MS_REMOUNT | MS_RDONLY | locked_flags(target));
  }
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Each top-level entry of the host's root becomes a deliberate decision.
void populate_root(const std::string& old_root, const std::string& new_root) {
  DIR* dir = opendir(old_root.c_str());
  if (dir == nullptr) throw errno_error("opendir " + old_root);
  while (dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    const std::string source = old_root + "/" + name;
    const std::string target = new_root + "/" + name;
    struct stat st {};
    if (lstat(source.c_str(), &st) < 0) continue;
    if (S_ISLNK(st.st_mode)) {
      // Merged-/usr links (bin -> usr/bin) keep working inside the new root.
      char link[PATH_MAX];
      const ssize_t n = readlink(source.c_str(), link, sizeof link - 1);
      if (n < 0) continue;
      link[n] = '\0';
      if (symlink(link, target.c_str()) < 0) {
        closedir(dir);
        throw errno_error("symlink " + target);
      }
      continue;
    }
    if (!S_ISDIR(st.st_mode)) continue;
    // /proc is mounted fresh for the new PID namespace (host processes stay invisible).
    // /run is a fresh tmpfs: it holds host IPC sockets (Docker, systemd-resolved, nscd,
    // D-Bus) that could act on the network for the command.
    if (name == "proc" || name == "run") {
      make_dir(target);
      continue;
    }
    make_dir(target);
    // /tmp and /dev stay writable; every other host directory is read-only.
    const bool writable = name == "tmp" || name == "dev";
    bind(source, target, writable);
  }
  closedir(dir);
}

// Points the sandbox's /etc/resolv.conf at awf. Hosts often make it a symlink into /run
// (systemd-resolved, resolvconf, NetworkManager); /run is our own tmpfs, so the link's
// target is created there. A regular file gets our file bind-mounted over it.
void install_resolv_conf(const std::string& new_root, const std::string& staged_file) {
  std::string path = "/etc/resolv.conf";
  for (int hops = 0; hops < 16; ++hops) {
    const std::string full = new_root + path;
    struct stat st {};
    if (lstat(full.c_str(), &st) < 0) {
      if (errno != ENOENT) throw errno_error("lstat " + full);
      if (path.rfind("/run/", 0) != 0) {
        throw SetupError("cannot point " + path +
                         " at awf's DNS: it does not exist and is outside /run");
      }
      make_dirs(full.substr(0, full.rfind('/')));
      write_file(full, "", 0644);
      bind(staged_file, full, false);
      return;
    }
    if (S_ISREG(st.st_mode)) {
      bind(staged_file, full, false);
      return;
    }
    if (!S_ISLNK(st.st_mode)) throw SetupError(path + " is neither a file nor a symlink");
    char link[PATH_MAX];
    const ssize_t n = readlink(full.c_str(), link, sizeof link - 1);
    if (n < 0) throw errno_error("readlink " + full);
    link[n] = '\0';
    const std::string target = link;
    path = target.starts_with('/') ? target : path.substr(0, path.rfind('/') + 1) + target;
  }
  throw SetupError("/etc/resolv.conf: too many levels of symbolic links");
}

}  // namespace

void build_root(const MountPlan& plan) {
  // Nothing we mount may propagate back to the host, and no host mount event may reach us.
  do_mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE);

  // The staging tmpfs sits on /tmp only until pivot_root moves it to be our root, which
  // uncovers the host's /tmp again under /oldroot/tmp.
  do_mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
  if (chdir("/tmp") < 0) throw errno_error("chdir staging");
  make_dir("oldroot");
  make_dir("newroot");
  if (syscall(SYS_pivot_root, ".", "oldroot") < 0) throw errno_error("pivot_root staging");
  if (chdir("/") < 0) throw errno_error("chdir /");

  do_mount("tmpfs", kNewRoot, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
  populate_root(kOldRoot, kNewRoot);
  do_mount("tmpfs", std::string(kNewRoot) + "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");

  for (const std::string& path : plan.writable_paths) {
    if (path.empty() || path == "/" || !is_directory(kOldRoot + path)) continue;
    const std::string target = kNewRoot + path;
    if (!is_directory(target)) continue;  // under a directory that is not bound
    bind(kOldRoot + path, target, true);
  }

  for (const std::string& path : plan.masked_paths) {
    const std::string target = kNewRoot + path;
    if (path.empty() || path == "/" || !is_directory(target)) continue;
    do_mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "mode=0555");
  }

  // A fresh /proc for our PID namespace. Mounted while the host's /proc is still visible in
  // this mount namespace: in a user namespace the kernel only allows a proc mount when a
  // fully visible one already exists.
  do_mount("proc", std::string(kNewRoot) + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC);

  write_file("/resolv.conf", plan.resolv_conf, 0644);
  install_resolv_conf(kNewRoot, "/resolv.conf");

  // Enter the new root and drop the staging root (and the host's root under it): after this
  // no path leads back to a host directory that was not deliberately bound.
  if (chdir(kNewRoot) < 0) throw errno_error("chdir new root");
  if (syscall(SYS_pivot_root, ".", ".") < 0) throw errno_error("pivot_root");
  if (umount2(".", MNT_DETACH) < 0) throw errno_error("detach old root");
  if (chdir("/") < 0) throw errno_error("chdir /");
}

}  // namespace awf::sandbox
