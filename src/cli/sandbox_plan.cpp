#include "cli/sandbox_plan.h"

#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "cli/run_outputs.h"
#include "cli/topology_setup.h"
#include "common/error.h"
#include "common/unique_fd.h"
#include "policy/host_access.h"

namespace awf::cli {
namespace {

std::string canonical_path(const std::string& path) {
  char resolved[PATH_MAX];
  return realpath(path.c_str(), resolved) ? resolved : path;
}

// The writable workspace: $GITHUB_WORKSPACE on a runner, else where awf was started.
std::string workspace_directory() {
  if (const char* workspace = std::getenv("GITHUB_WORKSPACE"); workspace && *workspace == '/') {
    return workspace;
  }
  char buffer[PATH_MAX];
  return getcwd(buffer, sizeof buffer) ? buffer : "/";
}

// The terminal the command inherits (awf's stdin, stdout or stderr), or "" when none is one.
std::string inherited_terminal() {
  for (const int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) {
    char name[PATH_MAX];
    if (isatty(fd) && ttyname_r(fd, name, sizeof name) == 0) return name;
  }
  return "";
}

// Whether `path` is `ancestor` or lies below it (both resolved, no trailing slash).
bool is_within(const std::string& path, const std::string& ancestor) {
  if (ancestor == "/") return true;
  return path.starts_with(ancestor) &&
         (path.size() == ancestor.size() || path[ancestor.size()] == '/');
}

sandbox::Identity command_identity(const Options& options) {
  sandbox::Identity identity;
  std::string notice;
  try {
    identity = options.user.empty() ? sandbox::default_identity(notice)
                                    : sandbox::identity_from_spec(options.user);
  } catch (const std::invalid_argument& error) {
    throw UsageError(error.what());
  }
  if (!notice.empty() && options.log_level <= LogLevel::Info) {
    std::fprintf(stderr, "%s\n", notice.c_str());
  }
  return identity;
}

// The command's HOME view. A user without a HOME on the host (root's default, nobody, has
// /nonexistent) gets a private one, and HOME points there; the default working directory
// stays the user's own HOME ("/" when that is missing).
sandbox::HomeSpec command_home(sandbox::Identity& identity, const Options& options) {
  sandbox::HomeSpec home = sandbox::plan_home(identity.home, identity.uid, identity.gid);
  home.persist = options.persist_home_dirs;
  if (home.fresh) {
    if (options.log_level == LogLevel::Debug) {
      std::fprintf(stderr, "awf: HOME %s does not exist: the command gets an empty %s\n",
                   identity.home.c_str(), home.path.c_str());
    }
    identity.home = home.path;
  }
  return home;
}

// The workspace, bound read-write at its own path. A workspace that contains HOME would bring
// the whole real HOME back (keys, cloud credentials) on top of its deny-by-default view.
std::vector<std::string> writable_paths(const Options& options, const sandbox::HomeSpec& home,
                                        const std::string& workspace) {
  if (workspace == "/" || home.fresh || !is_within(home.path, workspace)) return {workspace};
  if (options.log_level <= LogLevel::Warn) {
    std::fprintf(stderr,
                 "awf: warning: the working directory %s contains HOME (%s), which the "
                 "sandbox shows only in part; it is not bound (run awf from a project "
                 "directory)\n",
                 workspace.c_str(), home.path.c_str());
  }
  return {};
}

// --session-state-dir: the Copilot CLI keeps its session state (events.jsonl, ...) under
// ~/.copilot/session-state; AWF binds the directory there so that it outlives the run. The
// command writes there: a directory awf creates is the command's user's (the invoking user's,
// unless root runs the command as another user), given through an O_NOFOLLOW descriptor.
std::optional<sandbox::BindMount> session_state_bind(const Options& options,
                                                     const sandbox::Identity& identity) {
  if (options.session_state_dir.empty()) return std::nullopt;
  const bool created = make_output_dir(options.session_state_dir, "--session-state-dir");
  const std::string path = canonical_path(options.session_state_dir);
  if (created && geteuid() == 0) {
    const UniqueFd dir(open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir.valid() || fchown(dir.get(), identity.uid, identity.gid) < 0) {
      throw UsageError("--session-state-dir '" + path + "': cannot give it to uid " +
                       std::to_string(identity.uid) + ": " + std::strerror(errno));
    }
  }
  return sandbox::BindMount{path, identity.home + "/.copilot/session-state", false};
}

// awf's own directories, hidden from the command wherever they appear: at their path, and
// under a -v mount whose host side contains them (or lies inside one of them).
std::vector<std::string> masked_paths(const std::vector<std::string>& own_dirs,
                                      const std::vector<sandbox::BindMount>& binds) {
  std::vector<std::string> masked;
  for (const std::string& own : own_dirs) masked.push_back(canonical_path(own));
  const std::vector<std::string> own = masked;
  for (const std::string& dir : own) {
    for (const sandbox::BindMount& bind : binds) {
      if (is_within(dir, bind.source)) {
        masked.push_back(bind.source == "/" ? bind.target + dir
                                            : bind.target + dir.substr(bind.source.size()));
      } else if (is_within(bind.source, dir)) {
        masked.push_back(bind.target);
      }
    }
  }
  return masked;
}

// --enable-host-access: the ports that get a transparent listener on 172.17.0.1 (besides 80
// and 443, which the wildcard listeners serve). Past the limit, none: explicit proxy only.
// Neither for the `localhost` keyword's twelve dev-server ports: a listener there would make
// the command's own `0.0.0.0:3000` dev server fail with EADDRINUSE.
std::vector<std::uint16_t> host_listener_ports(const Options& options) {
  if (!options.enable_host_access || options.host_ports_from_keyword) return {};
  if (auto ports = policy::host_listener_ports(options.host_ports)) return std::move(*ports);
  if (options.log_level <= LogLevel::Info) {
    std::fprintf(stderr,
                 "awf: --allow-host-ports covers more than %zu ports: they are reachable "
                 "through the proxy only (HTTP_PROXY, http://%s:PORT), not transparently\n",
                 policy::kMaxHostListenerPorts, std::string(policy::kHostAccessName).c_str());
  }
  return {};
}

}  // namespace

CommandUser command_user(const Options& options) {
  CommandUser user;
  user.identity = command_identity(options);
  sandbox::check_user_namespaces();
  user.own_home = user.identity.home;
  user.home = command_home(user.identity, options);
  return user;
}

sandbox::SandboxSpec command_spec(const Options& options, const CommandUser& user,
                                  std::vector<std::string> env) {
  sandbox::SandboxSpec spec;
  spec.argv = options.command;
  spec.env = std::move(env);
  spec.identity = user.identity;
  spec.workdir = options.container_workdir.empty() ? user.own_home : options.container_workdir;
  spec.workdir_required = !options.container_workdir.empty();
  return spec;
}

sandbox::MountPlan plan_mounts(const Options& options, const CommandUser& user,
                               std::vector<sandbox::ProvidedFile> files,
                               const std::vector<std::string>& own_dirs) {
  sandbox::MountPlan mounts;
  mounts.resolv_conf =
      "# awf: the sandbox's only DNS server is awf's listener\n"
      "nameserver 127.0.0.1\n";
  mounts.home = user.home;
  mounts.terminal = inherited_terminal();
  // Mount targets are resolved paths inside the new root: relative or symlinked spellings
  // would miss their mount point (and leave, say, the log directory visible).
  mounts.writable_paths = writable_paths(options, user.home, canonical_path(workspace_directory()));
  for (const MountSpec& mount : options.mounts) {
    mounts.binds.push_back({canonical_path(mount.host), mount.container, mount.read_only});
  }
  if (auto bind = session_state_bind(options, user.identity)) {
    mounts.binds.push_back(std::move(*bind));
  }
  mounts.git_writable = options.allow_git_write;
  mounts.provided_files = std::move(files);
  mounts.masked_paths = masked_paths(own_dirs, mounts.binds);
  return mounts;
}

void plan_listeners(const Options& options, const std::vector<std::uint16_t>& api_ports,
                    const std::vector<peers::Peer>& peers, sandbox::SandboxSpec& spec) {
  spec.host_ports = host_listener_ports(options);
  if (!spec.host_ports.empty()) spec.host_address = std::string(policy::kHostGatewayAddress);
  spec.api_ports = api_ports;
  // AWF's name for the API listeners (http://api-proxy:10000/reflect), for resolvers that
  // read only the file; awf's DNS listener answers it too (gateway.cpp).
  if (!api_ports.empty()) spec.mounts.hosts_entries += "127.0.0.1 api-proxy\n";
  add_peers_to_spec(peers, spec);
}

std::string describe_mounts(const sandbox::MountPlan& plan) {
  std::string text = "home " + plan.home.path + " (empty tmpfs with tool directories)\n";
  for (const std::string& dir : plan.home.persist) text += "persisted home " + dir + "\n";
  for (const std::string& path : plan.writable_paths) text += "writable " + path + "\n";
  for (const sandbox::BindMount& bind : plan.binds) {
    text += "bind " + bind.source + " -> " + bind.target + (bind.read_only ? " ro\n" : " rw\n");
  }
  for (const std::string& path : plan.masked_paths) text += "masked " + path + "\n";
  for (const std::string& path : plan.git_writable) text += "git writable " + path + "\n";
  for (const sandbox::ProvidedFile& file : plan.provided_files) {
    text += "provided " + file.path + "\n";
  }
  if (!plan.terminal.empty()) text += "console " + plan.terminal + "\n";
  return text;
}

}  // namespace awf::cli
