#include "sandbox/git_view.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <memory>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"
#include "sandbox/git_config.h"
#include "sandbox/mount_ops.h"

namespace awf::sandbox {
namespace {

// A config larger than this is no hand-written one: the command sees an empty config instead.
constexpr std::size_t kMaxConfigBytes = 4u << 20;
// Submodules nest (.git/modules/a/modules/b); deeper than this is not a checkout.
constexpr int kMaxModuleDepth = 8;

class Protector {
 public:
  explicit Protector(const std::string& new_root) : new_root_(new_root) {
    root_ = UniqueFd(open(new_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root_.valid()) throw errno_error("open " + new_root);
  }

  // `dir`, a directory in the view, holds a repository at its top.
  void protect_checkout(const std::string& dir) {
    const std::string dot_git = dir + "/.git";
    const UniqueFd fd = open_in_view(root_.get(), new_root_, dot_git);
    if (!fd.valid()) return;
    struct stat st {};
    if (fstat(fd.get(), &st) < 0) throw errno_error("stat " + dot_git);
    if (S_ISDIR(st.st_mode)) {
      protect_git_dir(dot_git, 0);
    } else if (S_ISREG(st.st_mode)) {
      // "gitdir: PATH": the command must not point it at a directory of its own making.
      const std::string text = read_small(fd, dot_git, 4096);
      show_read_only(fd, "gitfile");
      if (const std::string target = gitdir_of(text, dir); !target.empty()) {
        protect_git_dir(target, 0);
      }
    }
  }

 private:
  void protect_git_dir(const std::string& git_dir, int depth) {
    {
      const UniqueFd fd = open_in_view(root_.get(), new_root_, git_dir);
      if (!fd.valid() || !is_dir(fd)) return;
      // Not a repository (a .git file may name anything): nothing git would read there.
      if (!open_in_view(root_.get(), new_root_, git_dir + "/HEAD").valid()) return;
      // A mount point cannot be renamed or removed (EBUSY): the command cannot move .git
      // aside and put a repository of its own in its place.
      const std::string magic = fd_path(new_root_, fd);
      do_mount(magic.c_str(), magic, nullptr, MS_BIND | MS_REC);
    }
    // Resolved again: the descriptor above is under the new mount.
    const UniqueFd dir = open_in_view(root_.get(), new_root_, git_dir);
    if (!dir.valid()) return;
    const UniqueFd common = open_in_view(root_.get(), new_root_, git_dir + "/commondir");
    if (common.valid() && is_regular(common)) {
      // A linked worktree's directory: config and hooks are the common directory's, which
      // `commondir` names (read-only: the command must not point it elsewhere).
      std::string path = read_small(common, git_dir + "/commondir", 4096);
      show_read_only(common, "commondir");
      path = path.substr(0, path.find('\n'));
      if (!path.empty() && depth < kMaxModuleDepth) {
        protect_git_dir(path.front() == '/' ? path : git_dir + "/" + path, depth + 1);
      }
      filter_config(dir, git_dir, "config.worktree", worktree_config_);
      return;
    }
    filter_config(dir, git_dir, "config", true);
    filter_config(dir, git_dir, "config.worktree", worktree_config_);
    protect_hooks(dir, git_dir);
    protect_worktrees(git_dir + "/worktrees");
    if (depth < kMaxModuleDepth) protect_modules(git_dir + "/modules", depth + 1);
  }

  // The linked worktrees' directories (.git/worktrees/NAME) of a repository in the view: their
  // `commondir` and `config.worktree` are read by git in each worktree, wherever it is.
  void protect_worktrees(const std::string& dir) {
    for (const std::string& name : subdirectories(dir)) {
      const std::string path = dir + "/" + name;
      const UniqueFd common = open_in_view(root_.get(), new_root_, path + "/commondir");
      if (common.valid() && is_regular(common)) show_read_only(common, "commondir");
      const UniqueFd fd = open_in_view(root_.get(), new_root_, path);
      if (fd.valid()) filter_config(fd, path, "config.worktree", worktree_config_);
    }
  }

  std::vector<std::string> subdirectories(const std::string& dir) {
    std::vector<std::string> names;
    const UniqueFd fd = open_in_view(root_.get(), new_root_, dir);
    if (!fd.valid() || !is_dir(fd)) return names;
    UniqueFd listing(open(fd_path(new_root_, fd).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!listing.valid()) return names;
    const std::unique_ptr<DIR, int (*)(DIR*)> entries(fdopendir(listing.release()), &closedir);
    if (!entries) return names;
    while (dirent* entry = readdir(entries.get())) {
      const std::string name = entry->d_name;
      if (name != "." && name != ".." && entry->d_type == DT_DIR) names.push_back(name);
    }
    return names;
  }

  // Submodules' git directories: .git/modules/NAME, where NAME may hold slashes.
  void protect_modules(const std::string& dir, int depth) {
    const std::vector<std::string> names = subdirectories(dir);
    for (const std::string& name : names) {
      const std::string path = dir + "/" + name;
      const UniqueFd head = open_in_view(root_.get(), new_root_, path + "/HEAD");
      if (head.valid()) {
        protect_git_dir(path, depth);
      } else if (depth < kMaxModuleDepth) {
        protect_modules(path, depth + 1);
      }
    }
  }

  // `name` in `dir` shown as a read-only copy without credentials. A missing config is
  // created empty (`required`): git would read one the command wrote.
  void filter_config(const UniqueFd& dir, const std::string& git_dir, const char* name,
                     bool required) {
    const std::string path = git_dir + "/" + name;
    UniqueFd file = open_in_view(root_.get(), new_root_, path);
    if (!file.valid()) {
      // In a read-only bind nothing can be planted either.
      if (!required || !create_owned_like(dir, name, git_dir)) return;
      file = open_in_view(root_.get(), new_root_, path);
      if (!file.valid()) throw SetupError("cannot create " + path);
    }
    if (!is_regular(file)) return;
    struct stat st {};
    if (fstat(file.get(), &st) < 0) throw errno_error("stat " + path);
    std::string text;
    if (static_cast<std::size_t>(st.st_size) <= kMaxConfigBytes) {
      text = strip_git_credentials(read_small(file, path, kMaxConfigBytes)).text;
    }
    // extensions.worktreeConfig makes git read config.worktree, which must then exist (and
    // be protected) too; looked for loosely, a false positive only creates an empty file.
    std::string lower = text;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower.find("worktreeconfig") != std::string::npos) worktree_config_ = true;
    const std::string staged = stage_name("git-config");
    write_file(staged, text, 0444);
    // Read-only as a mount of its own first: the bind below reaches its target through the
    // magic link, where a remount would not find it.
    bind(staged, staged, false);
    do_mount(staged.c_str(), fd_path(new_root_, file), nullptr, MS_BIND);
  }

  void protect_hooks(const UniqueFd& dir, const std::string& git_dir) {
    const std::string path = git_dir + "/hooks";
    UniqueFd hooks = open_in_view(root_.get(), new_root_, path);
    if (!hooks.valid()) {
      if (mkdirat(dir.get(), "hooks", 0755) < 0 && errno != EEXIST) {
        if (errno == EROFS) return;  // a read-only bind: nothing can be planted
        throw errno_error("mkdir " + path);
      }
      give_to_owner(dir, "hooks", AT_SYMLINK_NOFOLLOW);
      hooks = open_in_view(root_.get(), new_root_, path);
      if (!hooks.valid()) throw SetupError("cannot create " + path);
    }
    if (is_dir(hooks)) show_read_only(hooks, "git-hooks");
  }

  // Binds what `fd` is over itself, read-only all the way down, through a staging mount
  // point (the magic link reaches the file under any new mount, not the mount itself).
  void show_read_only(const UniqueFd& fd, const char* kind) {
    const std::string staged = stage_name(kind);
    if (is_dir(fd)) {
      make_dir(staged);
    } else {
      write_file(staged, "", 0444);
    }
    const std::string magic = fd_path(new_root_, fd);
    bind(magic, staged, false);
    do_mount(staged.c_str(), magic, nullptr, MS_BIND | MS_REC);
    if (umount2(staged.c_str(), MNT_DETACH) < 0) throw errno_error("umount " + staged);
  }

  // False when `dir` is read-only (nothing can be created there).
  static bool create_owned_like(const UniqueFd& dir, const char* name,
                                const std::string& git_dir) {
    const UniqueFd made(openat(dir.get(), name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                                                    O_CLOEXEC, 0644));
    if (!made.valid() && errno == EROFS) return false;
    if (!made.valid() && errno != EEXIST) throw errno_error("create " + git_dir + "/" + name);
    give_to_owner(dir, name, AT_SYMLINK_NOFOLLOW);
    return true;
  }

  // What awf creates in a repository belongs to the repository's owner, not to root.
  static void give_to_owner(const UniqueFd& dir, const char* name, int flags) {
    struct stat st {};
    if (fstat(dir.get(), &st) == 0 && fchownat(dir.get(), name, st.st_uid, st.st_gid, flags) < 0) {
      // Best effort: an owner outside a rootless run's id map cannot be given.
    }
  }

  std::string read_small(const UniqueFd& fd, const std::string& path, std::size_t limit) {
    const UniqueFd file(open(fd_path(new_root_, fd).c_str(), O_RDONLY | O_CLOEXEC));
    if (!file.valid()) throw errno_error("open " + path);
    std::string text;
    char buffer[8192];
    ssize_t n;
    while ((n = read(file.get(), buffer, sizeof buffer)) > 0 && text.size() < limit) {
      text.append(buffer, static_cast<std::size_t>(n));
    }
    if (n < 0) throw errno_error("read " + path);
    return text.substr(0, limit);
  }

  // The directory a .git file names, as a path in the view ("" when it names none).
  static std::string gitdir_of(const std::string& text, const std::string& dir) {
    constexpr std::string_view kPrefix = "gitdir: ";
    if (!text.starts_with(kPrefix)) return "";
    std::string path = text.substr(kPrefix.size());
    path = path.substr(0, path.find_first_of("\r\n"));
    if (path.empty()) return "";
    return path.front() == '/' ? path : dir + "/" + path;
  }

  static bool is_dir(const UniqueFd& fd) {
    struct stat st {};
    return fstat(fd.get(), &st) == 0 && S_ISDIR(st.st_mode);
  }

  static bool is_regular(const UniqueFd& fd) {
    struct stat st {};
    return fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode);
  }

  std::string stage_name(const char* kind) {
    return "/" + std::string(kind) + "-" + std::to_string(count_++);
  }

  std::string new_root_;
  UniqueFd root_;
  int count_ = 0;
  bool worktree_config_ = false;  // a repository seen so far enables extensions.worktreeConfig
};

}  // namespace

void protect_repositories(const std::string& new_root, const std::vector<ShownPath>& shown,
                          const std::vector<std::string>& writable) {
  Protector protector(new_root);
  for (const ShownPath& place : shown) {
    if (std::find(writable.begin(), writable.end(), place.source) != writable.end()) continue;
    protector.protect_checkout(place.target);
  }
}

}  // namespace awf::sandbox
