#include "cli/run.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "audit/log_writer.h"
#include "cli/api_proxy_setup.h"
#include "cli/audit_files.h"
#include "cli/config_file.h"
#include "cli/diagnostics.h"
#include "cli/environment.h"
#include "cli/ssl_bump_setup.h"
#include "common/error.h"
#include "common/owner.h"
#include "common/unique_fd.h"
#include "dns/resolver.h"
#include "peers/docker_client.h"
#include "peers/peer_plan.h"
#include "policy/domain_list.h"
#include "policy/host_access.h"
#include "policy/policy.h"
#include "proxy/client_tls.h"
#include "proxy/gateway.h"
#include "sandbox/cgroup.h"
#include "sandbox/listeners.h"
#include "sandbox/sandbox.h"

namespace asio = boost::asio;

namespace awf::cli {
namespace {

constexpr auto kFlushInterval = std::chrono::milliseconds(250);
constexpr auto kStopGrace = std::chrono::seconds(10);
constexpr auto kDrainTime = std::chrono::milliseconds(500);
constexpr int kTimeoutExitCode = 124;  // as timeout(1)

extern "C" char** environ;

std::string read_file(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(std::string(flag) + " '" + path + "': cannot read the file");
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

// `extra_allow`: names awf allows on the user's behalf (the API proxy's chosen targets).
policy::Policy build_policy(const Options& options, const std::vector<std::string>& extra_allow) {
  std::vector<std::string> allow = options.allow_domains;
  allow.insert(allow.end(), extra_allow.begin(), extra_allow.end());
  std::vector<std::string> block = options.block_domains;
  for (const std::string& path : options.allow_domain_files) {
    for (std::string& entry : policy::parse_domain_file(read_file(path, "--allow-domains-file"))) {
      allow.push_back(std::move(entry));
    }
  }
  for (const std::string& path : options.block_domain_files) {
    for (std::string& entry : policy::parse_domain_file(read_file(path, "--block-domains-file"))) {
      block.push_back(std::move(entry));
    }
  }
  std::vector<std::string> exact;
  for (const std::string& path : options.ruleset_files) {
    std::vector<RulesetRule> rules;
    try {
      rules = parse_ruleset(read_file(path, "--ruleset-file"));
    } catch (const std::invalid_argument& error) {
      throw UsageError("--ruleset-file '" + path + "': " + error.what());
    }
    for (RulesetRule& rule : rules) {
      (rule.subdomains ? allow : exact).push_back(std::move(rule.domain));
    }
  }
  try {
    return policy::Policy::build(allow, block, exact);
  } catch (const policy::PolicyError& error) {
    throw UsageError(error.what());
  }
}

// "/tmp/<prefix><UTC time>-<pid>": unique per run, sorts by start time.
std::string fresh_tmp_dir(const char* prefix) {
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", std::gmtime(&now));
  return std::string("/tmp/") + prefix + stamp + "-" + std::to_string(getpid());
}

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

// Secrets are left out here already (build_environment would drop them): no copy of a token
// lingers in awf's heap, which the sandbox's init inherits.
std::vector<EnvEntry> host_environment() {
  std::vector<EnvEntry> entries;
  const auto& secrets = secret_env_names();
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string_view text = *entry;
    const auto eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    const std::string_view name = text.substr(0, eq);
    if (std::find(secrets.begin(), secrets.end(), name) != secrets.end()) continue;
    entries.emplace_back(std::string(name), std::string(text.substr(eq + 1)));
  }
  return entries;
}

// What the command reaches without the explicit proxy, as AWF lists it: the sandbox's own
// loopback, awf's API proxy (by its AWF name), and the topology peers.
std::string no_proxy_list(const Options& options) {
  std::string list = "localhost,127.0.0.1,::1,0.0.0.0,api-proxy";
  for (const std::string& peer : options.topology_attach) list += "," + peer;
  return list;
}

// awf's own variables for the command: the proxy (for tools that honour it; the rest are
// caught transparently), identity, locale, and colour according to --tty.
std::vector<EnvEntry> builtin_environment(const Options& options,
                                          const sandbox::Identity& identity,
                                          const std::string& java_options) {
  const std::string port = std::to_string(sandbox::kExplicitProxyPort);
  const std::string proxy = "http://127.0.0.1:" + port;
  const char* path = std::getenv("PATH");
  std::vector<EnvEntry> env = {
      {"PATH", path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"HOME", identity.home},
      // As AWF: no lower-case http_proxy. curl reads only that one for http:// URLs
      // (httpoxy), so its plain HTTP takes the transparent path, which decides the same way.
      {"HTTP_PROXY", proxy},
      {"HTTPS_PROXY", proxy},
      {"https_proxy", proxy},
      {"NO_PROXY", no_proxy_list(options)},
      {"no_proxy", no_proxy_list(options)},
      // JVMs ignore HTTP_PROXY.
      {"JAVA_TOOL_OPTIONS", "-Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=" + port +
                                " -Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=" + port +
                                java_options},
  };
  if (!identity.name.empty()) {
    env.emplace_back("USER", identity.name);
    env.emplace_back("LOGNAME", identity.name);
  }
  for (const char* name : {"TERM", "LANG", "LC_ALL", "TZ", "COLORTERM"}) {
    if (const char* value = std::getenv(name)) env.emplace_back(name, value);
  }
  if (const char* server = std::getenv("GITHUB_SERVER_URL")) {
    if (const std::string host = gh_host_from_server_url(server); !host.empty()) {
      env.emplace_back("GH_HOST", host);
    }
  }
  if (options.tty) {
    env.emplace_back("FORCE_COLOR", "1");
    env.emplace_back("TERM", "xterm-256color");
  } else {
    env.emplace_back("NO_COLOR", "1");
  }
  return env;
}

std::vector<std::string> command_environment(const Options& options,
                                             const sandbox::Identity& identity,
                                             std::vector<EnvEntry> overrides,
                                             const std::string& java_options) {
  EnvLayers layers;
  layers.overrides = std::move(overrides);
  layers.builtins = builtin_environment(options, identity, java_options);
  if (options.env_all) layers.host = host_environment();
  for (const std::string& path : options.env_files) {
    try {
      for (EnvEntry& entry : parse_env_file(read_file(path, "--env-file"))) {
        layers.file.push_back(std::move(entry));
      }
    } catch (const std::invalid_argument& error) {
      throw UsageError("--env-file '" + path + "': " + error.what());
    }
  }
  layers.explicit_entries = options.env;
  layers.excluded = options.exclude_env;
  BuiltEnvironment built = build_environment(layers);
  if (options.log_level <= LogLevel::Warn) {
    for (const std::string& name : built.withheld) {
      std::fprintf(stderr, "awf: warning: %s is not passed to the command (%s)\n", name.c_str(),
                   std::find(options.exclude_env.begin(), options.exclude_env.end(), name) !=
                           options.exclude_env.end()
                       ? "--exclude-env"
                       : "secrets never enter the sandbox");
    }
  }
  if (options.log_level <= LogLevel::Info) {
    for (const std::string& name : built.oversized) {
      std::fprintf(stderr, "awf: %s is not passed by --env-all (value over 64 KiB)\n",
                   name.c_str());
    }
  }
  return std::move(built.env);
}

// awf's own directories, hidden from the command wherever they appear: at their path, and
// under a -v mount whose host side contains them (or lies inside one of them).
std::vector<std::string> masked_paths(const std::vector<std::string>& own,
                                      const std::vector<sandbox::BindMount>& binds) {
  std::vector<std::string> masked = own;
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

// Creates an output directory (and its parents) for `flag`, owned by the invoking user
// (common/owner.h). Returns whether the directory itself was created.
bool make_output_dir(const std::string& path, const char* flag) {
  struct stat st {};
  const bool existed = stat(path.c_str(), &st) == 0;
  try {
    make_output_dirs(path);
  } catch (const SetupError& error) {
    throw UsageError(std::string(flag) + " '" + path + "': cannot create it: " + error.what());
  }
  return !existed;
}

// awf's work directory: the run's policy manifest and resolved configuration. Removed at exit
// (only what awf wrote, and the directory when that leaves it empty) unless it is to be kept.
class WorkDir {
 public:
  WorkDir(std::string path, bool keep)
      : path_(std::move(path)), keep_(keep), created_(make_output_dir(path_, "--work-dir")) {}
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  ~WorkDir() {
    if (keep_) return;
    std::error_code ignored;
    for (const std::string& file : files_) std::filesystem::remove(file, ignored);
    if (created_) std::filesystem::remove(path_, ignored);  // only when empty
  }

  const std::string& path() const { return path_; }

  void write(const std::string& name, const std::string& contents) {
    const std::string file = path_ + "/" + name;
    write_text_file(file, contents);
    files_.push_back(file);
  }

  // Never through a symlink; a file created here belongs to the invoking user.
  static void write_text_file(const std::string& file, const std::string& contents) {
    const UniqueFd fd = open_output_file(file, O_WRONLY | O_TRUNC);
    std::size_t done = 0;
    while (done < contents.size()) {
      const ssize_t n = ::write(fd.get(), contents.data() + done, contents.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw errno_error("cannot write " + file);
      done += static_cast<std::size_t>(n);
    }
  }

 private:
  std::string path_;
  bool keep_;
  bool created_;
  std::vector<std::string> files_;
};

void write_audit_dir(const std::string& dir, const std::string& manifest,
                     const std::string& config) {
  make_output_dir(dir, "--audit-dir");
  WorkDir::write_text_file(dir + "/policy-manifest.json", manifest);
  WorkDir::write_text_file(dir + "/awf-config.json", config);
}

// A proxy URL that did not parse, for a message: whatever precedes the last '@' (user info,
// a password) is hidden, with or without a scheme.
std::string hide_userinfo(std::string_view url) {
  const auto at = url.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  const auto scheme = url.find("://");
  const std::string prefix =
      scheme != std::string_view::npos && scheme < at ? std::string(url.substr(0, scheme + 3)) : "";
  return prefix + "***" + std::string(url.substr(at));
}

struct ParentProxy {
  std::optional<proxy::ProxyUrl> url;
  proxy::NoProxy no_proxy;
};

// --upstream-proxy, else the first of https_proxy, HTTPS_PROXY, http_proxy, HTTP_PROXY in
// awf's own environment (an unusable value is ignored with a warning); names in the host's
// no_proxy/NO_PROXY go direct. The password is never printed.
ParentProxy parent_proxy(const Options& options) {
  ParentProxy parent;
  if (!options.upstream_proxy.empty()) {
    try {
      parent.url = proxy::parse_proxy_url(options.upstream_proxy);
    } catch (const std::invalid_argument& error) {
      throw UsageError("--upstream-proxy '" + hide_userinfo(options.upstream_proxy) +
                       "': " + error.what());
    }
  } else {
    for (const char* variable : proxy::kProxyVariables) {
      const char* value = std::getenv(variable);
      if (value == nullptr || *value == '\0') continue;
      try {
        parent.url = proxy::parse_proxy_url(value);
        if (options.log_level <= LogLevel::Info) {
          std::fprintf(stderr, "awf: using upstream proxy %s from %s\n",
                       parent.url->redacted().c_str(), variable);
        }
      } catch (const std::invalid_argument& error) {
        if (options.log_level <= LogLevel::Warn) {
          std::fprintf(stderr, "awf: warning: ignoring %s='%s' (%s): no upstream proxy is used\n",
                       variable, hide_userinfo(value).c_str(), error.what());
        }
      }
      break;
    }
  }
  if (!parent.url) return parent;
  for (const char* variable : proxy::kNoProxyVariables) {
    const char* value = std::getenv(variable);
    if (value == nullptr || *value == '\0') continue;
    parent.no_proxy = proxy::NoProxy::parse(value);
    if (options.log_level == LogLevel::Debug) {
      std::fprintf(stderr, "awf: %s=%s: these go direct, not via the upstream proxy\n", variable,
                   value);
    }
    break;
  }
  return parent;
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

// The sandbox's view for --diagnostic-logs, one mount decision per line.
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

// Where --diagnostic-logs writes, as AWF: the audit directory, else the work directory.
std::string diagnostics_home(const Options& options, const std::optional<WorkDir>& work_dir,
                             const audit::LogWriter& log) {
  if (!options.audit_dir.empty()) return options.audit_dir;
  if (work_dir) return work_dir->path();
  return log.directory();
}

void print_host_access_warning(const Options& options) {
  if (!options.localhost_keyword || options.log_level > LogLevel::Warn) return;
  std::string ports;
  for (const policy::PortRange& range : options.host_ports) {
    if (!ports.empty()) ports += ",";
    ports += std::to_string(range.first);
    if (range.last != range.first) ports += "-" + std::to_string(range.last);
  }
  std::fprintf(stderr,
               "awf: warning: 'localhost' in --allow-domains gives the command access to "
               "services on the host's ports 80, 443 and %s (as %s, reaching the host's "
               "127.0.0.1), not only to its own localhost\n",
               ports.c_str(), std::string(policy::kHostAccessName).c_str());
}

void print_notices(const Options& options) {
  if (options.log_level > LogLevel::Info) return;
  for (const std::string& notice : options.notices) std::fprintf(stderr, "%s\n", notice.c_str());
}

// --topology-attach: each container looked up through the Docker Engine API (--docker-host,
// else DOCKER_HOST, else the default socket) before anything is created. nullopt after a
// "Fatal error:" line (gh-aw's start-up retry looks for it): the command must not run.
std::optional<std::vector<peers::Peer>> look_up_topology_peers(const Options& options) {
  if (options.topology_attach.empty()) return std::vector<peers::Peer>{};
  std::string host = options.docker_host;
  std::string origin = "--docker-host";
  if (host.empty()) {
    const char* env = std::getenv("DOCKER_HOST");
    host = env != nullptr && *env != '\0' ? env : std::string(peers::kDefaultDockerHost);
    origin = env != nullptr && *env != '\0' ? "DOCKER_HOST" : "the default";
  }
  std::vector<std::string> names;
  for (const std::string& name : options.topology_attach) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  try {
    std::vector<peers::Peer> found = peers::look_up_peers(names, host, origin);
    for (const peers::Peer& peer : found) {
      if (peer.routes.empty() && options.log_level <= LogLevel::Warn) {
        std::fprintf(stderr,
                     "awf: warning: --topology-attach %s: the container publishes and exposes "
                     "no TCP port, so only its name resolves (docker run --expose PORT)\n",
                     peer.name.c_str());
      }
      if (options.log_level == LogLevel::Debug) {
        for (const peers::PeerRoute& route : peer.routes) {
          std::fprintf(stderr, "awf: peer %s: %s:%u -> %s:%u\n", peer.name.c_str(),
                       peer.address.c_str(), route.port, route.target_ip.c_str(),
                       route.target_port);
        }
      }
    }
    return found;
  } catch (const peers::PeerError& error) {
    std::fprintf(stderr, "Fatal error: %s\n", error.what());
    return std::nullopt;
  }
}

// What the sandbox needs of the peers: their names in /etc/hosts, a listener per port.
void add_peers_to_spec(const std::vector<peers::Peer>& peers, sandbox::SandboxSpec& spec) {
  for (const peers::Peer& peer : peers) {
    spec.mounts.hosts_entries += peer.address + " " + peer.name + "\n";
    for (const peers::PeerRoute& route : peer.routes) {
      spec.peer_ports.push_back({peer.address, route.port});
    }
  }
}

void print_summary(const audit::LogWriter& log, int code, bool explicit_logs_dir) {
  const auto denied = log.denied_names();
  if (code != 0 && !denied.empty()) {
    std::fprintf(stderr, "Firewall blocked domains:\n");
    for (const std::string& name : denied) std::fprintf(stderr, "  - %s\n", name.c_str());
  }
  if (!explicit_logs_dir) std::fprintf(stderr, "awf: logs in %s\n", log.directory().c_str());
}

// The run's cgroup for --memory-limit and --pids-limit. Defaults the host cannot enforce are a
// warning; a limit the caller asked for refuses the run instead, before anything starts.
std::optional<sandbox::Cgroup> create_limits_cgroup(const Options& options) {
  std::string problem;
  std::optional<sandbox::Cgroup> cgroup = sandbox::Cgroup::create(options.limits, problem);
  if (cgroup) {
    if (options.log_level == LogLevel::Debug) {
      std::fprintf(stderr, "awf: limits: memory %s, %llu processes (%s)\n",
                   sandbox::format_size(options.limits.memory_bytes).c_str(),
                   static_cast<unsigned long long>(options.limits.pids),
                   cgroup->describe().c_str());
    }
    return cgroup;
  }
  const std::string refusal =
      sandbox::unenforceable_limits_message(options.limits, problem, geteuid() != 0);
  if (!refusal.empty()) throw SetupError(refusal);
  if (options.log_level <= LogLevel::Warn) {
    std::fprintf(stderr, "awf: warning: --memory-limit and --pids-limit are not enforced: %s\n",
                 problem.c_str());
  }
  return cgroup;
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

// The gateway holds two sockets (and, while bytes flow, two pipes) per connection: use the
// whole descriptor allowance the host grants.
void raise_descriptor_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

void ignore_pipe_signal(int) {}

// A peer that resets its connection makes the next write to that socket (a splice(2) among
// them, which has no MSG_NOSIGNAL) raise SIGPIPE, whose default action would end awf and the
// whole run. A handler rather than SIG_IGN: handlers fall back to the default on execve, so
// the command still gets the SIGPIPE that `producer | head` relies on.
void survive_broken_pipes() {
  struct sigaction action {};
  action.sa_handler = ignore_pipe_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGPIPE, &action, nullptr);
}

}  // namespace

int run(const Options& options) {
  raise_descriptor_limit();
  survive_broken_pipes();
  // First: the keys leave awf's environment before anything copies it.
  ApiProxySetup api_proxy = setup_api_proxy(options);
  const policy::Policy policy = build_policy(options, api_proxy.allow);
  if (policy.allowlist_empty()) {
    std::fprintf(stderr,
                 "awf: warning: no --allow-domains given: all network access is denied "
                 "(local commands still run)\n");
  }
  std::vector<std::string> dns_servers;
  for (const std::string& server : options.dns_servers) {
    try {
      dns_servers.push_back(dns::dns_server_entry(server));
    } catch (const std::invalid_argument& error) {
      throw UsageError(std::string("--dns-servers: ") + error.what());
    }
  }
  std::optional<dns::DohUrl> doh_url;
  if (!options.dns_over_https.empty()) {
    try {
      doh_url = dns::parse_doh_url(options.dns_over_https);
    } catch (const std::invalid_argument& error) {
      throw UsageError("--dns-over-https '" + options.dns_over_https + "': " + error.what() +
                       " (expected https://host[:port]/path, e.g. https://dns.google/dns-query)");
    }
  }
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
  sandbox::check_user_namespaces();
  const std::string own_home = identity.home;
  const sandbox::HomeSpec home = command_home(identity, options);

  // Everything that can be refused is checked before anything is created.
  ParentProxy parent = parent_proxy(options);
  print_host_access_warning(options);
  SslBumpSetup ssl_bump = setup_ssl_bump(options, policy);
  std::vector<EnvEntry> overrides = std::move(api_proxy.env);
  overrides.insert(overrides.end(), ssl_bump.env.begin(), ssl_bump.env.end());
  std::vector<std::string> command_env =
      command_environment(options, identity, std::move(overrides), ssl_bump.java_options);
  const std::optional<std::vector<peers::Peer>> topology_peers = look_up_topology_peers(options);
  if (!topology_peers) return 1;
  // The resolver first: the manifest names the servers it asks.
  asio::io_context io(1);
  dns::Resolver resolver(io, dns_servers);
  if (doh_url) {
    // The same verification as the API proxy's upstream TLS (system trust store, which
    // honours SSL_CERT_FILE / SSL_CERT_DIR).
    const auto tls = proxy::make_client_tls("", "--dns-over-https");
    resolver.send_over_https(*doh_url, std::shared_ptr<asio::ssl::context>(tls, &tls->context),
                             options.log_level <= LogLevel::Warn);
  }
  ManifestFacts facts;
  facts.generated_ms = audit::now_ms();
  facts.dns_servers = dns_server_list(resolver.servers_text());
  facts.ssl_bump = options.ssl_bump;
  facts.dlp = options.enable_dlp;
  facts.host_access = options.enable_host_access;
  facts.host_ports = options.host_ports;
  for (const peers::Peer& peer : *topology_peers) facts.topology_peers.push_back(peer.name);
  const std::string manifest = policy_manifest_json(policy, facts);
  print_notices(options);
  // Memory and process limits, declared before the sandbox: the cgroup can go only once the
  // init has been reaped.
  const std::optional<sandbox::Cgroup> cgroup = create_limits_cgroup(options);

  const bool explicit_logs_dir = !options.proxy_logs_dir.empty();
  audit::LogWriter log(explicit_logs_dir ? options.proxy_logs_dir : fresh_tmp_dir("awf-logs-"));
  // A work directory only when asked for: by default a run leaves nothing behind but its
  // logs, even when awf is killed.
  std::optional<WorkDir> work_dir;
  if (!options.work_dir.empty() || options.keep_work_dir) {
    work_dir.emplace(options.work_dir.empty() ? fresh_tmp_dir("awf-") : options.work_dir,
                     options.keep_work_dir);
    work_dir->write("policy-manifest.json", manifest);
    work_dir->write("awf-config.json", resolved_config_json(options));
  }
  // `awf logs audit` names the rule behind each record from the copy next to the logs.
  WorkDir::write_text_file(log.directory() + "/policy-manifest.json", manifest);
  if (!options.audit_dir.empty()) {
    write_audit_dir(options.audit_dir, manifest, resolved_config_json(options));
  }
  if (options.log_level == LogLevel::Debug) {
    std::fprintf(stderr, "awf: %zu allow and %zu block rules; DNS upstream %s; logs in %s\n",
                 policy.allow_rule_count(), policy.block_rule_count(),
                 resolver.servers_text().c_str(), log.directory().c_str());
  }

  sandbox::SandboxSpec spec;
  spec.argv = options.command;
  spec.env = std::move(command_env);
  spec.identity = identity;
  // AWF's default: the command starts in its HOME; a missing directory falls back to "/".
  spec.workdir = options.container_workdir.empty() ? own_home : options.container_workdir;
  spec.mounts.resolv_conf =
      "# awf: the sandbox's only DNS server is awf's listener\n"
      "nameserver 127.0.0.1\n";
  // Mount targets are resolved paths inside the new root: relative or symlinked spellings
  // would miss their mount point (and leave, say, the log directory visible).
  const std::string workspace = canonical_path(workspace_directory());
  spec.mounts.home = home;
  spec.mounts.terminal = inherited_terminal();
  // A workspace that contains HOME would bring the whole real HOME back (keys, cloud
  // credentials) on top of its deny-by-default view.
  if (workspace != "/" && !home.fresh && is_within(home.path, workspace)) {
    if (options.log_level <= LogLevel::Warn) {
      std::fprintf(stderr,
                   "awf: warning: the working directory %s contains HOME (%s), which the "
                   "sandbox shows only in part; it is not bound (run awf from a project "
                   "directory)\n",
                   workspace.c_str(), spec.mounts.home.path.c_str());
    }
  } else {
    spec.mounts.writable_paths = {workspace};
  }
  for (const MountSpec& mount : options.mounts) {
    spec.mounts.binds.push_back({canonical_path(mount.host), mount.container, mount.read_only});
  }
  if (auto bind = session_state_bind(options, identity)) {
    spec.mounts.binds.push_back(std::move(*bind));
  }
  spec.mounts.git_writable = options.allow_git_write;
  spec.mounts.provided_files = std::move(ssl_bump.files);
  spec.mounts.masked_paths =
      masked_paths(work_dir ? std::vector<std::string>{canonical_path(log.directory()),
                                                       canonical_path(work_dir->path())}
                            : std::vector<std::string>{canonical_path(log.directory())},
                   spec.mounts.binds);

  if (cgroup) spec.cgroup = cgroup->join();
  spec.host_ports = host_listener_ports(options);
  if (!spec.host_ports.empty()) spec.host_address = std::string(policy::kHostGatewayAddress);
  spec.api_ports = api_proxy.ports;
  add_peers_to_spec(*topology_peers, spec);

  // Signals are taken by the event loop from here on; before the clone so that the init
  // inherits no surprises (it installs its own).
  asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
  signals.add(SIGCHLD);
  std::optional<StderrTail> stderr_tail;
  if (options.diagnostic_logs) spec.stderr_fd = stderr_tail.emplace().write_end();
  sandbox::Sandbox sandbox = sandbox::Sandbox::start(spec);
  if (stderr_tail) stderr_tail->start_forwarding();
  // Provider keys live in awf from here on: no core dump, no /proc/<awf>/mem for the caller's
  // other processes. Not earlier: the sandbox's id maps are written through /proc first.
  if (api_proxy.holds_keys) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

  proxy::GatewayOptions gateway_options;
  gateway_options.dlp = options.enable_dlp;
  gateway_options.host_access = options.enable_host_access;
  gateway_options.host_ports = options.host_ports;
  gateway_options.parent = std::move(parent.url);
  gateway_options.no_proxy = std::move(parent.no_proxy);
  gateway_options.api_proxy = std::move(api_proxy.gateway);
  gateway_options.bump = std::move(ssl_bump.gateway);
  gateway_options.peers = *topology_peers;
  proxy::Gateway gateway(io, policy, resolver, log, std::thread::hardware_concurrency(),
                         std::move(gateway_options));
  gateway.serve(sandbox.take_listeners());
  sandbox.release();

  std::optional<int> exit_code;
  int interrupted_by = 0;
  bool timed_out = false;
  asio::steady_timer flush_timer(io);
  asio::steady_timer kill_timer(io);
  asio::steady_timer agent_timer(io);
  std::function<void()> schedule_flush = [&] {
    flush_timer.expires_after(kFlushInterval);
    flush_timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      log.flush();
      schedule_flush();
    });
  };
  schedule_flush();

  std::function<void()> wait_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int signal) {
      if (ec) return;
      if (signal == SIGCHLD) {
        if (auto code = sandbox.try_wait()) {
          exit_code = *code;
          io.stop();
          return;
        }
      } else {
        // Forwarded to the command through the init; if it does not end, it is killed.
        if (interrupted_by == 0) interrupted_by = signal;
        sandbox.forward_signal(signal);
        kill_timer.expires_after(kStopGrace);
        kill_timer.async_wait([&](const boost::system::error_code& timer_error) {
          if (!timer_error) sandbox.forward_signal(SIGKILL);
        });
      }
      wait_signal();
    });
  };
  wait_signal();
  if (options.agent_timeout_minutes > 0) {
    agent_timer.expires_after(std::chrono::minutes(options.agent_timeout_minutes));
    agent_timer.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      timed_out = true;
      std::fprintf(stderr, "awf: --agent-timeout of %u minute(s) reached: stopping the command\n",
                   options.agent_timeout_minutes);
      sandbox.forward_signal(SIGTERM);
      kill_timer.expires_after(kStopGrace);
      kill_timer.async_wait([&](const boost::system::error_code& timer_error) {
        if (!timer_error) sandbox.forward_signal(SIGKILL);
      });
    });
  }
  io.run();

  // The command is gone: close every connection so its record is written, then flush.
  gateway.stop();
  flush_timer.cancel();
  kill_timer.cancel();
  agent_timer.cancel();
  signals.cancel();
  const auto deadline = std::chrono::steady_clock::now() + kDrainTime;
  // The workers finish their connections (the resolver's loop keeps serving them). The
  // guard makes run_one_for wait rather than return at once when the loop has no work (a
  // busy loop that took a core from the workers it waited for); each worker posts to this
  // loop when it finishes.
  {
    const auto waiting = asio::make_work_guard(io);
    while (!gateway.finished() && std::chrono::steady_clock::now() < deadline) {
      io.restart();
      io.run_one_for(std::chrono::milliseconds(5));
    }
  }
  gateway.join();
  log.flush();
  if (cgroup && options.log_level <= LogLevel::Warn) {
    for (const std::string& report : cgroup->limit_reports()) {
      std::fprintf(stderr, "awf: %s\n", report.c_str());
    }
  }

  int code = exit_code.value_or(1);
  if (interrupted_by == SIGINT) code = 130;
  if (interrupted_by == SIGTERM) code = 143;
  if (interrupted_by == SIGHUP) code = 129;
  if (timed_out && interrupted_by == 0) code = kTimeoutExitCode;
  if (stderr_tail) {
    DiagnosticsReport report{diagnostics_home(options, work_dir, log),
                             resolved_config_json(options),
                             describe_mounts(spec.mounts),
                             log.directory(),
                             stderr_tail->finish(),
                             code,
                             timed_out,
                             interrupted_by};
    if (code != 0) {
      std::fprintf(stderr, "awf: diagnostics in %s\n", write_diagnostics(report).c_str());
    }
  }
  print_summary(log, code, explicit_logs_dir);
  if (work_dir && options.keep_work_dir) {
    std::fprintf(stderr, "awf: work directory kept at %s\n", work_dir->path().c_str());
  }
  return code;
}

}  // namespace awf::cli
