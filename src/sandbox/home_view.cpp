#include "sandbox/home_view.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <string_view>

#include "common/error.h"
#include "common/unique_fd.h"
#include "sandbox/mount_ops.h"

namespace awf::sandbox {
namespace {

bool has_view(const HomeSpec& home) {
  return !home.path.empty() && home.path != "/";
}

// Kernels before 5.6 have no openat2: walk the path without following any symlink. A
// credential reached through one cannot be resolved safely there, so setup fails (closed).
UniqueFd open_without_links(const std::string& new_root, const std::string& path) {
  for (std::size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    struct stat st {};
    if (lstat((new_root + path.substr(0, pos)).c_str(), &st) < 0) return UniqueFd();
    if (S_ISLNK(st.st_mode)) {
      throw SetupError("cannot mask " + path +
                       ": it is reached through a symbolic link and this kernel has no openat2 "
                       "(Linux 5.6)");
    }
  }
  return UniqueFd(open((new_root + path).c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
}

// The file the command would reach at `path`, or an invalid fd when there is none.
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

}  // namespace

HomeSpec plan_home(const std::string& home, uid_t uid, gid_t gid) {
  char resolved[PATH_MAX];
  struct stat st {};
  if (home.empty() || realpath(home.c_str(), resolved) == nullptr ||
      std::string_view(resolved) == "/" || stat(resolved, &st) < 0 || !S_ISDIR(st.st_mode)) {
    return {kPrivateHome, uid, gid, true};
  }
  return {resolved, uid, gid, false};
}

void build_home_view(const std::string& old_root, const std::string& new_root,
                     const HomeSpec& home) {
  const std::string real = old_root + home.path;
  const std::string view = new_root + home.path;
  if (!has_view(home) || (!home.fresh && !is_directory(real))) return;
  // /home and /root are already empty tmpfs; elsewhere HOME's own mount point is in place.
  if (!is_directory(view)) make_dirs(view);
  const std::string options =
      "mode=0700,uid=" + std::to_string(home.uid) + ",gid=" + std::to_string(home.gid);
  do_mount("tmpfs", view, "tmpfs", MS_NOSUID | MS_NODEV, options.c_str());
  if (home.fresh) return;

  for (const char* name : kHomeToolDirs) {
    const std::string source = real + "/" + name;
    const std::string target = view + "/" + name;
    struct stat st {};
    if (lstat(source.c_str(), &st) < 0) continue;
    if (S_ISLNK(st.st_mode)) {
      // Copied, not followed: a link into the real HOME dangles, a link elsewhere lands in
      // the (read-only) view of that place, never in a hidden part of HOME.
      copy_symlink(source, target);
      continue;
    }
    if (!S_ISDIR(st.st_mode)) continue;
    make_dir(target, 0700);
    bind(source, target, true);
  }
}

void mask_credentials(const std::string& new_root, const HomeSpec& home) {
  if (!has_view(home)) return;
  UniqueFd root(open(new_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) throw errno_error("open " + new_root);
  if (!open_in_view(root.get(), new_root, home.path).valid()) return;
  // The entries come grouped by top-level directory, and most of those are absent.
  std::string_view top;
  bool top_present = false;
  for (const std::string_view relative : kCredentialFiles) {
    if (relative.substr(0, relative.find('/')) != top) {
      top = relative.substr(0, relative.find('/'));
      top_present = open_in_view(root.get(), new_root, home.path + "/" + std::string(top)).valid();
    }
    if (!top_present) continue;
    const std::string path = home.path + "/" + std::string(relative);
    const UniqueFd file = open_in_view(root.get(), new_root, path);
    if (!file.valid()) continue;
    struct stat st {};
    if (fstat(file.get(), &st) < 0) throw errno_error("stat " + path);
    // Mounting on the descriptor's magic link covers exactly the file resolved above; a path
    // would be resolved again, against the staging root, symlinks and all.
    const std::string target = new_root + "/proc/self/fd/" + std::to_string(file.get());
    if (S_ISDIR(st.st_mode)) {
      hide_directory(target);
    } else {
      cover_file(target);
    }
  }
}

}  // namespace awf::sandbox
