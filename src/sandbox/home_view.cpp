#include "sandbox/home_view.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <set>
#include <string_view>

#include "common/error.h"
#include "common/unique_fd.h"
#include "sandbox/credential_list.h"
#include "sandbox/mount_ops.h"

namespace awf::sandbox {
namespace {

// Where the per-run layers of the tool directories are staged (the staging root is dropped
// once the sandbox's root is in place; the layers' mounts keep the tmpfs alive for the run).
constexpr const char* kLayerRoot = "/home-layer";

bool has_view(const HomeSpec& home) {
  return !home.path.empty() && home.path != "/";
}

// `home` resolved, when it is a directory other than "/"; "" otherwise.
std::string real_home(const char* home) {
  char resolved[PATH_MAX];
  struct stat st {};
  if (home == nullptr || *home == '\0' || realpath(home, resolved) == nullptr ||
      std::string_view(resolved) == "/" || stat(resolved, &st) < 0 || !S_ISDIR(st.st_mode)) {
    return "";
  }
  return resolved;
}

// Whose files a bind may show: the command's HOME, the caller's, and sudo's invoking user's.
std::vector<std::string> credential_homes(const std::string& command_home) {
  std::vector<std::string> homes;
  const auto add = [&](const std::string& home) {
    if (!home.empty() && std::find(homes.begin(), homes.end(), home) == homes.end()) {
      homes.push_back(home);
    }
  };
  add(command_home);
  add(real_home(std::getenv("HOME")));
  if (const char* sudo_user = std::getenv("SUDO_USER")) {
    if (const passwd* pw = getpwnam(sudo_user)) add(real_home(pw->pw_dir));
  }
  return homes;
}

// Masks whatever the command reaches at `path`, if anything.
void mask_one(int root, const std::string& new_root, const std::string& path) {
  const UniqueFd file = open_in_view(root, new_root, path);
  if (!file.valid()) return;
  struct stat st {};
  if (fstat(file.get(), &st) < 0) throw errno_error("stat " + path);
  const std::string target = fd_path(new_root, file);
  if (S_ISDIR(st.st_mode)) {
    hide_directory(target);
  } else {
    cover_file(target);
  }
}

// Shows the host directory `source` (its stat `st`) at `target` with the command's writes in a
// per-run layer: the upper directory is on the staging tmpfs, gone with the sandbox. A kernel
// or filesystem without overlayfs support gets a read-only bind instead (closed, not open).
void show_layered(const std::string& source, const std::string& target, const struct stat& st,
                  int index) {
  const std::string base = std::string(kLayerRoot) + "/" + std::to_string(index);
  make_dir(base, 0700);
  make_dir(base + "/lower", 0700);
  make_dir(base + "/work", 0700);
  make_dir(base + "/upper", st.st_mode & 07777);
  // The layer's top directory is the upper one: it must be the tool directory's owner's.
  // Best effort (an owner outside a rootless run's id map cannot be given).
  if (chown((base + "/upper").c_str(), st.st_uid, st.st_gid) < 0) {
    // The command may then not create entries at the directory's top; reading still works.
  }
  if (chmod((base + "/upper").c_str(), st.st_mode & 07777) < 0) throw errno_error("chmod " + base);
  // Through a bind at a path of ours: overlayfs options cannot carry ',' or ':' unescaped.
  bind(source, base + "/lower", false);
  const std::string options = "lowerdir=" + base + "/lower,upperdir=" + base +
                              "/upper,workdir=" + base + "/work";
  if (mount("overlay", target.c_str(), "overlay", MS_NOSUID | MS_NODEV, options.c_str()) == 0) {
    return;
  }
  bind(source, target, false);
}

// --persist-home-dir below a tool directory (.cache/pip): the real directory bound over the
// layer. Created when missing (owned like its parent), each component a real directory: a
// symlink would lead the bind out of HOME.
void persist_nested(const std::string& real, const std::string& view, const std::string& dir) {
  std::string done;
  std::size_t at = 0;
  while (at <= dir.size()) {
    const std::size_t slash = dir.find('/', at);
    const std::string prefix = dir.substr(0, slash);
    at = slash == std::string::npos ? dir.size() + 1 : slash + 1;
    const std::string path = real + "/" + prefix;
    struct stat st {};
    if (lstat(path.c_str(), &st) < 0) {
      if (errno != ENOENT) throw errno_error("lstat " + path);
      struct stat parent {};
      if (stat((real + "/" + done).c_str(), &parent) < 0) throw errno_error("stat " + done);
      make_dir(path, 0700);
      if (chown(path.c_str(), parent.st_uid, parent.st_gid) < 0) {
        throw errno_error("--persist-home-dir: chown " + path);
      }
    } else if (!S_ISDIR(st.st_mode)) {
      throw SetupError("--persist-home-dir " + dir + ": " + path +
                       " is not a directory (a symbolic link is not followed)");
    }
    done = prefix;
  }
  const std::string target = view + "/" + dir;
  make_dirs(target);
  bind(real + "/" + dir, target, true);
}

}  // namespace

HomeSpec plan_home(const std::string& home, uid_t uid, gid_t gid) {
  const std::string resolved = real_home(home.c_str());
  if (resolved.empty()) return {kPrivateHome, uid, gid, true, credential_homes("")};
  return {resolved, uid, gid, false, credential_homes(resolved)};
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

  make_dir(kLayerRoot, 0700);
  do_mount("tmpfs", kLayerRoot, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700");
  int layers = 0;
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
    if (std::find(home.persist.begin(), home.persist.end(), name) != home.persist.end()) {
      bind(source, target, true);
    } else {
      show_layered(source, target, st, layers++);
    }
  }
  for (const std::string& dir : home.persist) {
    // The top-level ones that exist are bound above.
    if (dir.find('/') != std::string::npos || !is_real_directory(real + "/" + dir)) {
      persist_nested(real, view, dir);
    }
  }
}

void mask_credentials(const std::string& new_root, const HomeSpec& home,
                      const std::vector<ShownPath>& shown) {
  UniqueFd root(open(new_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) throw errno_error("open " + new_root);
  // View paths, deduplicated: the HOME view is itself a place that shows the real HOME, and
  // a workspace bind may show the same files again.
  std::set<std::string> paths;
  std::vector<ShownPath> places = shown;
  if (has_view(home)) places.push_back({home.path, home.path});
  std::vector<std::string> homes = home.credential_homes;
  if (has_view(home) && !home.fresh &&
      std::find(homes.begin(), homes.end(), home.path) == homes.end()) {
    homes.push_back(home.path);
  }
  for (const ShownPath& place : places) {
    for (const std::string& owner : homes) {
      // The entries come grouped by top-level directory, and most of those are absent.
      std::string_view top;
      bool top_present = false;
      for (const std::string_view relative : kCredentialFiles) {
        const std::string_view first = relative.substr(0, relative.find('/'));
        if (first != top) {
          top = first;
          const std::string dir = path_in_view(owner + "/" + std::string(top), place);
          top_present = !dir.empty() && open_in_view(root.get(), new_root, dir).valid();
        }
        if (!top_present) continue;
        const std::string path = path_in_view(owner + "/" + std::string(relative), place);
        if (!path.empty()) paths.insert(path);
      }
    }
  }
  for (const std::string& path : paths) mask_one(root.get(), new_root, path);
}

}  // namespace awf::sandbox
