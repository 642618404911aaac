#include "sandbox/mounts.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/unique_fd.h"
#include "sandbox/git_view.h"
#include "sandbox/kernel_view.h"
#include "sandbox/mount_ops.h"

namespace awf::sandbox {
namespace {

// Staging layout while the view is built: the staging tmpfs is our root, the host's root sits
// at /oldroot and the future root at /newroot.
constexpr const char* kNewRoot = "/newroot";

// Each top-level entry of the host's root becomes a deliberate decision.
void populate_root(const std::string& old_root, const std::string& new_root) {
  const std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(old_root.c_str()), &closedir);
  if (!dir) throw errno_error("opendir " + old_root);
  while (dirent* entry = readdir(dir.get())) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    const std::string source = old_root + "/" + name;
    const std::string target = new_root + "/" + name;
    struct stat st {};
    if (lstat(source.c_str(), &st) < 0) continue;
    if (S_ISLNK(st.st_mode)) {
      // Merged-/usr links (bin -> usr/bin) keep working inside the new root.
      copy_symlink(source, target);
      continue;
    }
    if (!S_ISDIR(st.st_mode)) continue;
    // /proc is mounted fresh for the new PID namespace (host processes stay invisible).
    // /run is a fresh tmpfs: it holds host IPC sockets (Docker, systemd-resolved, nscd,
    // D-Bus) that could act on the network for the command. /dev is the sandbox's own
    // (kernel_view.h), and so is /tmp (private_tmp).
    if (name == "proc" || name == "run" || name == "dev" || name == "tmp") {
      make_dir(target);
      continue;
    }
    make_dir(target);
    bind(source, target, false);
  }
}

// Shows `staged_file` at `path` (/etc/resolv.conf, /etc/hosts) in the sandbox. Hosts often
// make /etc/resolv.conf a symlink into /run (systemd-resolved, resolvconf, NetworkManager);
// /run is our own tmpfs, so the link's target is created there. A regular file gets our file
// bind-mounted over it.
void install_etc_file(const std::string& new_root, std::string path,
                      const std::string& staged_file) {
  const std::string name = path;
  for (int hops = 0; hops < 16; ++hops) {
    const std::string full = new_root + path;
    struct stat st {};
    if (lstat(full.c_str(), &st) < 0) {
      if (errno != ENOENT) throw errno_error("lstat " + full);
      if (path.rfind("/run/", 0) != 0) {
        throw SetupError("cannot provide " + name + ": " + path +
                         " does not exist and is outside /run");
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
  throw SetupError(name + ": too many levels of symbolic links");
}

// The host's /etc/hosts (as the view shows it) with the names awf serves added (api-proxy,
// --topology-attach peers), so that resolvers that read only the file (and `getent hosts`)
// find them too.
void install_hosts(const std::string& new_root, const std::string& entries) {
  if (entries.empty()) return;
  std::string contents;
  if (UniqueFd fd(open((new_root + "/etc/hosts").c_str(), O_RDONLY | O_CLOEXEC)); fd.valid()) {
    char buffer[4096];
    ssize_t n;
    while ((n = read(fd.get(), buffer, sizeof buffer)) > 0 && contents.size() < (1u << 20)) {
      contents.append(buffer, static_cast<std::size_t>(n));
    }
  }
  if (!contents.empty() && contents.back() != '\n') contents += '\n';
  contents += "# awf: names awf serves (API proxy, --topology-attach)\n" + entries;
  write_file("/hosts", contents, 0644);
  install_etc_file(new_root, "/etc/hosts", "/hosts");
}

std::string in_new_root(const std::string& path) {
  return std::string(kNewRoot) + path;
}

// Staged in the staging root (gone after pivot_root), shown through read-only binds: the
// command can read them but not change what other processes of the sandbox trust.
void install_provided_files(const std::vector<ProvidedFile>& files) {
  for (std::size_t i = 0; i < files.size(); ++i) {
    const ProvidedFile& file = files[i];
    const std::string staged = "/provided-" + std::to_string(i);
    write_file(staged, file.contents, 0644);
    const std::string target = in_new_root(file.path);
    make_dirs(target.substr(0, target.rfind('/')));
    write_file(target, "", 0644);
    bind(staged, target, false);
    for (const std::string& overlay : file.overlays) {
      const std::string full = in_new_root(overlay);
      struct stat st {};
      if (lstat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode)) bind(staged, full, false);
    }
  }
}

// Where `path` of the host's root lands in the new root: /home is a symlink on some systems
// (Silverblue: /home -> var/home), copied as such by populate_root. "" when it leads nowhere.
std::string resolve_top_level(std::string path) {
  for (int hops = 0; hops < 8; ++hops) {
    struct stat st {};
    if (lstat(in_new_root(path).c_str(), &st) < 0) return "";
    if (!S_ISLNK(st.st_mode)) return S_ISDIR(st.st_mode) ? path : "";
    char link[PATH_MAX];
    const ssize_t n = readlink(in_new_root(path).c_str(), link, sizeof link - 1);
    if (n < 0) return "";
    link[n] = '\0';
    path = link[0] == '/' ? std::string(link) : path.substr(0, path.rfind('/') + 1) + link;
  }
  return "";
}

// Other users' homes and root's: the read-only binds would let the command read every
// world-readable file in them (dotfiles, project checkouts, keys with loose modes). Both
// become empty tmpfs; the command's own HOME view and a workspace there are built inside.
std::vector<std::string> hide_host_homes() {
  std::vector<std::string> hidden;
  for (const char* path : {"/home", "/root"}) {
    const std::string dir = resolve_top_level(path);
    if (dir.empty()) continue;
    do_mount("tmpfs", in_new_root(dir), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k");
    hidden.push_back(dir);
  }
  return hidden;
}

// Once HOME and the workspace are in place, nothing else may be created next to them.
void seal(const std::vector<std::string>& dirs) {
  for (const std::string& dir : dirs) {
    do_mount(nullptr, in_new_root(dir), nullptr,
             MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV);
  }
}

// Container runtimes' sockets and state under /var (LXD's unix.socket, other containers'
// filesystems): any of them would run a process outside the sandbox, with the host's network.
constexpr const char* kHiddenVarPaths[] = {
    "/var/lib/docker", "/var/lib/containerd", "/var/lib/containers", "/var/lib/lxd",
    "/var/lib/incus",  "/var/snap/docker",    "/var/snap/lxd",
};

void hide_var_ipc() {
  // /var/run is normally a symlink to /run, which is already our own tmpfs; a real directory
  // would still hold the host's daemon sockets (Docker, D-Bus, nscd), so it gets the same
  // tmpfs.
  if (is_real_directory(in_new_root("/var/run"))) {
    do_mount(in_new_root("/run").c_str(), in_new_root("/var/run"), nullptr, MS_BIND);
  }
  for (const char* path : kHiddenVarPaths) {
    struct stat st {};
    if (lstat(in_new_root(path).c_str(), &st) < 0) continue;
    if (S_ISDIR(st.st_mode)) {
      hide_directory(in_new_root(path));
    } else if (!S_ISLNK(st.st_mode)) {
      cover_file(in_new_root(path));
    }
  }
}

// Directories in /tmp that hold a session's IPC endpoints: X11 (keystrokes into any window),
// tmux and screen (send-keys runs commands in the user's shell outside the sandbox), ssh-agent,
// PulseAudio, systemd services' private /tmp.
bool is_tmp_ipc_directory(std::string_view name) {
  for (const char* exact : {".X11-unix", ".ICE-unix", ".XIM-unix", ".font-unix", "screens"}) {
    if (name == exact) return true;
  }
  for (const char* prefix : {"tmux-", "ssh-", "pulse-", "systemd-private-", "snap-private-tmp"}) {
    if (name.starts_with(prefix)) return true;
  }
  return false;
}

// /tmp and /var/tmp are the sandbox's own, per-run tmpfs: a socket or FIFO a host process
// creates there, before or during the run, at any depth, is not in the view (the host's /tmp
// holds VS Code's IPC, database sockets, agents, tmux and X11). A read-only bind of the host's
// /var/tmp would not do: connect() and FIFO writes ignore the mount's read-only flag. The
// caller names what the command needs from the host's (-v, the workspace), bound on top.
void private_tmp() {
  do_mount("tmpfs", in_new_root("/tmp"), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  if (is_real_directory(in_new_root("/var/tmp"))) {
    do_mount("tmpfs", in_new_root("/var/tmp"), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
  }
}

// When a -v mount or the workspace shows the host's /tmp itself, its top level is swept: every
// Unix socket, FIFO and Kerberos ticket cache is covered and the IPC directories above are
// hidden. The sweep costs about a microsecond per entry.
void hide_tmp_ipc() {
  const std::string view_tmp = in_new_root("/tmp");
  const std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(view_tmp.c_str()), &closedir);
  if (!dir) return;
  while (dirent* entry = readdir(dir.get())) {
    const std::string_view name = entry->d_name;
    unsigned char type = entry->d_type;
    if (type == DT_UNKNOWN) {
      struct stat st {};
      if (fstatat(dirfd(dir.get()), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
      type = S_ISSOCK(st.st_mode)   ? DT_SOCK
             : S_ISFIFO(st.st_mode) ? DT_FIFO
             : S_ISDIR(st.st_mode)  ? DT_DIR
                                    : DT_REG;
    }
    if (type == DT_SOCK || type == DT_FIFO || (type == DT_REG && name.starts_with("krb5cc"))) {
      cover_file(in_new_root("/tmp/" + std::string(name)));
    } else if (type == DT_DIR && name != "." && name != ".." && is_tmp_ipc_directory(name)) {
      hide_directory(in_new_root("/tmp/" + std::string(name)));
    }
  }
}

// The workspace is bound where it is on the host, creating its mount point when it lies under
// one of our tmpfs (HOME, /home, /root, /run). Every missing component is then on a tmpfs of
// ours: a path that exists on the host exists in the host binds too.
void bind_workspaces(const std::vector<std::string>& paths) {
  for (const std::string& path : paths) {
    if (path.empty() || path == "/" || !is_directory(kOldRoot + path)) continue;
    const std::string target = in_new_root(path);
    if (!is_directory(target)) {
      try {
        make_dirs(target);
      } catch (const SetupError&) {
        continue;  // under a hidden, read-only directory: stays hidden
      }
    }
    bind(kOldRoot + path, target, true);
  }
}

// Replaces the read-only directory `dir` (a path in the sandbox) with a tmpfs showing the same
// entries, each bound read-only from what was there, so that a mount point can be created in
// it without writing to the host. The tmpfs is sealed read-only once the mounts are in.
void shadow_directory(const std::string& dir, std::vector<std::string>& shadows) {
  static int count = 0;
  const std::string original = "/shadow-" + std::to_string(count++);  // in the staging root
  make_dir(original);
  bind(in_new_root(dir), original, false);
  struct stat st {};
  if (stat(original.c_str(), &st) < 0) throw errno_error("stat " + dir);
  char mode[32];
  std::snprintf(mode, sizeof mode, "mode=%04o", static_cast<unsigned>(st.st_mode & 07777));
  do_mount("tmpfs", in_new_root(dir), "tmpfs", MS_NOSUID | MS_NODEV, mode);
  const std::unique_ptr<DIR, int (*)(DIR*)> entries(opendir(original.c_str()), &closedir);
  if (!entries) throw errno_error("opendir " + dir);
  while (dirent* entry = readdir(entries.get())) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    const std::string from = original + "/" + name;
    const std::string to = in_new_root(dir) + "/" + name;
    struct stat item {};
    if (lstat(from.c_str(), &item) < 0) continue;
    if (S_ISLNK(item.st_mode)) {
      copy_symlink(from, to);
      continue;
    }
    if (S_ISDIR(item.st_mode)) {
      make_dir(to);
    } else {
      write_file(to, "", 0444);
    }
    bind(from, to, false);
  }
  if (umount2(original.c_str(), MNT_DETACH) < 0) throw errno_error("umount " + original);
  shadows.push_back(dir);
}

// Creates the directory `path` (in the sandbox) and its missing parents; a parent that is a
// read-only host directory is shadowed first.
void make_sandbox_dirs(const std::string& path, std::vector<std::string>& shadows) {
  std::string done;
  std::size_t at = 1;
  while (at <= path.size()) {
    const auto slash = path.find('/', at);
    const std::string prefix = path.substr(0, slash);
    at = slash == std::string::npos ? path.size() + 1 : slash + 1;
    if (is_directory(in_new_root(prefix))) {
      done = prefix;
      continue;
    }
    if (mkdir(in_new_root(prefix).c_str(), 0755) < 0) {
      if (errno != EROFS) throw errno_error("mkdir " + prefix);
      shadow_directory(done.empty() ? "/" : done, shadows);
      make_dir(in_new_root(prefix));
    }
    done = prefix;
  }
}

// Each mount point is created as needed: a directory, or an empty file for a file, shadowing
// read-only host directories on the way (nothing is created on the host).
std::vector<std::string> bind_user_mounts(const std::vector<BindMount>& binds) {
  std::vector<std::string> shadows;
  for (const BindMount& mount : binds) {
    const std::string source = kOldRoot + mount.source;
    const std::string target = in_new_root(mount.target);
    struct stat st {};
    if (stat(source.c_str(), &st) < 0) throw errno_error("-v source " + mount.source);
    try {
      if (S_ISDIR(st.st_mode)) {
        make_sandbox_dirs(mount.target, shadows);
      } else if (access(target.c_str(), F_OK) < 0) {
        const std::string parent = mount.target.substr(0, mount.target.rfind('/'));
        if (!parent.empty()) make_sandbox_dirs(parent, shadows);
        if (UniqueFd(open(target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644)).get() < 0) {
          if (errno != EROFS) throw errno_error("create " + mount.target);
          shadow_directory(parent.empty() ? "/" : parent, shadows);
          write_file(target, "", 0644);
        }
      }
      bind(source, target, !mount.read_only);
    } catch (const SetupError& error) {
      throw SetupError("-v " + mount.source + ":" + mount.target + ": " + error.what());
    }
  }
  return shadows;
}

// Every place the view shows a host directory of the caller's choosing.
std::vector<ShownPath> shown_paths(const MountPlan& plan) {
  std::vector<ShownPath> shown;
  for (const std::string& path : plan.writable_paths) shown.push_back({path, path});
  for (const BindMount& bind : plan.binds) shown.push_back({bind.source, bind.target});
  return shown;
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
  prepare_empty_file();

  do_mount("tmpfs", kNewRoot, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
  populate_root(kOldRoot, kNewRoot);
  do_mount("tmpfs", in_new_root("/run"), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
  make_dir(in_new_root("/dev"));
  build_dev(kOldRoot, in_new_root("/dev"), plan.terminal);
  private_tmp();
  if (is_real_directory(in_new_root("/sys"))) restrict_sys(in_new_root("/sys"));
  // Homes: the host's hidden, the command's rebuilt from its tool directories (home_view.h),
  // then the workspace on top, wherever it is.
  std::vector<std::string> homes = hide_host_homes();
  build_home_view(kOldRoot, kNewRoot, plan.home);
  // A HOME that is one of them (root's /root) is the view now, which stays writable.
  std::erase(homes, plan.home.path);
  bind_workspaces(plan.writable_paths);
  const std::vector<std::string> shadows = bind_user_mounts(plan.binds);
  seal(homes);
  seal(shadows);
  // After the workspace: a workspace of /tmp or /var must not bring the sockets back.
  hide_var_ipc();
  hide_tmp_ipc();

  for (const std::string& path : plan.masked_paths) {
    const std::string target = in_new_root(path);
    if (path.empty() || path == "/" || !is_directory(target)) continue;
    hide_directory(target);
  }

  // A fresh /proc for our PID namespace. Mounted while the host's /proc is still visible in
  // this mount namespace: in a user namespace the kernel only allows a proc mount when a
  // fully visible one already exists.
  do_mount("proc", in_new_root("/proc"), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC);
  restrict_proc(in_new_root("/proc"));

  // Last, so that they cover credentials however they became visible (a tool directory, a
  // workspace inside HOME, a bind of HOME), and .git/config's too (git_view.h).
  protect_repositories(kNewRoot, shown_paths(plan), plan.git_writable);
  mask_credentials(kNewRoot, plan.home, shown_paths(plan));

  write_file("/resolv.conf", plan.resolv_conf, 0644);
  install_etc_file(kNewRoot, "/etc/resolv.conf", "/resolv.conf");
  install_hosts(kNewRoot, plan.hosts_entries);
  install_provided_files(plan.provided_files);

  // Enter the new root and drop the staging root (and the host's root under it): after this
  // no path leads back to a host directory that was not deliberately bound.
  if (chdir(kNewRoot) < 0) throw errno_error("chdir new root");
  if (syscall(SYS_pivot_root, ".", ".") < 0) throw errno_error("pivot_root");
  if (umount2(".", MNT_DETACH) < 0) throw errno_error("detach old root");
  if (chdir("/") < 0) throw errno_error("chdir /");
}

}  // namespace awf::sandbox
