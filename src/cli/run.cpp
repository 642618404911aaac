#include "cli/run.h"

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>

#include "audit/log_writer.h"
#include "dns/resolver.h"
#include "policy/domain_list.h"
#include "policy/policy.h"
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

std::string read_file(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError(std::string(flag) + " '" + path + "': cannot read the file");
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

policy::Policy build_policy(const Options& options) {
  std::vector<std::string> allow = options.allow_domains;
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
  try {
    return policy::Policy::build(allow, block);
  } catch (const policy::PolicyError& error) {
    throw UsageError(error.what());
  }
}

std::string default_logs_dir() {
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", std::gmtime(&now));
  return std::string("/tmp/awf-logs-") + stamp + "-" + std::to_string(getpid());
}

std::string canonical_path(const std::string& path) {
  char resolved[PATH_MAX];
  return realpath(path.c_str(), resolved) ? resolved : path;
}

std::string current_directory() {
  char buffer[PATH_MAX];
  return getcwd(buffer, sizeof buffer) ? buffer : "/";
}

// Whether `path` is `ancestor` or lies below it (both resolved, no trailing slash).
bool is_within(const std::string& path, const std::string& ancestor) {
  if (ancestor == "/") return true;
  return path.starts_with(ancestor) &&
         (path.size() == ancestor.size() || path[ancestor.size()] == '/');
}

// The environment is built from nothing: SSH_AUTH_SOCK, cloud and CI tokens and everything
// else in awf's environment stay out unless listed here.
std::vector<std::string> command_environment(const sandbox::Identity& identity) {
  const std::string proxy = "http://127.0.0.1:" + std::to_string(sandbox::kExplicitProxyPort);
  const char* path = std::getenv("PATH");
  std::vector<std::string> env = {
      std::string("PATH=") +
          (path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
      "HOME=" + identity.home,
      "HTTP_PROXY=" + proxy,
      "HTTPS_PROXY=" + proxy,
      "http_proxy=" + proxy,
      "https_proxy=" + proxy,
      "NO_PROXY=localhost,127.0.0.1,::1",
      "no_proxy=localhost,127.0.0.1,::1",
  };
  if (!identity.name.empty()) {
    env.push_back("USER=" + identity.name);
    env.push_back("LOGNAME=" + identity.name);
  }
  for (const char* name : {"TERM", "LANG", "LC_ALL", "TZ", "COLORTERM"}) {
    if (const char* value = std::getenv(name)) env.push_back(std::string(name) + "=" + value);
  }
  return env;
}

void print_summary(const audit::LogWriter& log, int code, bool explicit_logs_dir) {
  const auto denied = log.denied_names();
  if (code != 0 && !denied.empty()) {
    std::fprintf(stderr, "Firewall blocked domains:\n");
    for (const std::string& name : denied) std::fprintf(stderr, "  - %s\n", name.c_str());
  }
  if (!explicit_logs_dir) std::fprintf(stderr, "awf: logs in %s\n", log.directory().c_str());
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

}  // namespace

int run(const Options& options) {
  raise_descriptor_limit();
  const policy::Policy policy = build_policy(options);
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

  const bool explicit_logs_dir = !options.proxy_logs_dir.empty();
  audit::LogWriter log(explicit_logs_dir ? options.proxy_logs_dir : default_logs_dir());
  asio::io_context io(1);
  dns::Resolver resolver(io, dns_servers);
  if (options.log_level == LogLevel::Debug) {
    std::fprintf(stderr, "awf: %zu allow and %zu block rules; DNS upstream %s; logs in %s\n",
                 policy.allow_rule_count(), policy.block_rule_count(),
                 resolver.servers_text().c_str(), log.directory().c_str());
  }

  sandbox::SandboxSpec spec;
  spec.argv = options.command;
  spec.env = command_environment(identity);
  spec.identity = identity;
  spec.workdir = current_directory();
  spec.mounts.resolv_conf =
      "# awf: the sandbox's only DNS server is awf's listener\n"
      "nameserver 127.0.0.1\n";
  // Mount targets are resolved paths inside the new root: relative or symlinked spellings
  // would miss their mount point (and leave, say, the log directory visible).
  const std::string workspace = canonical_path(spec.workdir);
  spec.mounts.home = {canonical_path(identity.home), identity.uid, identity.gid};
  // A workspace that contains HOME would bring the whole real HOME back (keys, cloud
  // credentials) on top of its deny-by-default view.
  if (workspace != "/" && spec.mounts.home.path != "/" &&
      is_within(spec.mounts.home.path, workspace)) {
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
  spec.mounts.masked_paths = {canonical_path(log.directory())};

  // Memory and process limits, declared before the sandbox: the cgroup can go only once the
  // init has been reaped.
  std::string cgroup_problem;
  const std::optional<sandbox::Cgroup> cgroup =
      sandbox::Cgroup::create(options.limits, cgroup_problem);
  if (!cgroup && options.log_level <= LogLevel::Warn) {
    std::fprintf(stderr, "awf: warning: --memory-limit and --pids-limit are not enforced: %s\n",
                 cgroup_problem.c_str());
  }
  if (cgroup && options.log_level == LogLevel::Debug) {
    std::fprintf(stderr, "awf: limits: memory %s, %llu processes (%s)\n",
                 sandbox::format_size(options.limits.memory_bytes).c_str(),
                 static_cast<unsigned long long>(options.limits.pids), cgroup->describe().c_str());
  }
  if (cgroup) spec.cgroup = cgroup->join();

  // Signals are taken by the event loop from here on; before the clone so that the init
  // inherits no surprises (it installs its own).
  asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
  signals.add(SIGCHLD);
  sandbox::Sandbox sandbox = sandbox::Sandbox::start(spec);

  proxy::Gateway gateway(io, policy, resolver, log, std::thread::hardware_concurrency());
  gateway.serve(sandbox.take_listeners());
  sandbox.release();

  std::optional<int> exit_code;
  int interrupted_by = 0;
  asio::steady_timer flush_timer(io);
  asio::steady_timer kill_timer(io);
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
  io.run();

  // The command is gone: close every connection so its record is written, then flush.
  gateway.stop();
  flush_timer.cancel();
  kill_timer.cancel();
  signals.cancel();
  const auto deadline = std::chrono::steady_clock::now() + kDrainTime;
  // The workers finish their connections (the resolver's loop keeps serving them).
  // run_for, not poll: poll() keeps going while handlers keep becoming ready.
  while (!gateway.finished() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_for(std::chrono::milliseconds(1));
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
  print_summary(log, code, explicit_logs_dir);
  return code;
}

}  // namespace awf::cli
