#include "cli/run.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/api_proxy_setup.h"
#include "cli/cli_proxy_setup.h"
#include "cli/command_env.h"
#include "cli/command_watch.h"
#include "cli/diagnostics.h"
#include "cli/exit_report.h"
#include "cli/parent_proxy.h"
#include "cli/run_outputs.h"
#include "cli/run_policy.h"
#include "cli/sandbox_plan.h"
#include "cli/ssl_bump_setup.h"
#include "audit/log_writer.h"
#include "cli/topology_setup.h"
#include "common/error.h"
#include "dns/resolver.h"
#include "policy/host_access.h"
#include "policy/policy.h"
#include "proxy/gateway.h"
#include "proxy/usage_log.h"
#include "sandbox/cgroup.h"
#include "sandbox/host_address_watch.h"
#include "sandbox/limits.h"
#include "sandbox/sandbox.h"
#include "sandbox/socket_supervisor.h"

namespace awf::cli {
namespace {

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

void prepare_process() {
  raise_descriptor_limit();
  survive_broken_pipes();
}

void warn_if_nothing_allowed(const policy::Policy& policy) {
  if (!policy.allowlist_empty()) return;
  std::fprintf(stderr,
               "awf: warning: no --allow-domains given: all network access is denied "
               "(local commands still run)\n");
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

void print_run_plan(const Options& options, const policy::Policy& policy,
                    const dns::Resolver& resolver, const RunOutputs& outputs) {
  if (options.log_level != LogLevel::Debug) return;
  std::fprintf(stderr, "awf: %zu allow and %zu block rules; DNS upstream %s; logs in %s\n",
               policy.allow_rule_count(), policy.block_rule_count(),
               resolver.servers_text().c_str(), outputs.log().directory().c_str());
}

// The variables the API proxy, --ssl-bump and the CLI proxy set for the command, above all
// others.
std::vector<EnvEntry> setup_variables(ApiProxySetup& api_proxy, const SslBumpSetup& ssl_bump,
                                      const CliProxySetup& cli_proxy) {
  std::vector<EnvEntry> variables = std::move(api_proxy.env);
  variables.insert(variables.end(), ssl_bump.env.begin(), ssl_bump.env.end());
  variables.insert(variables.end(), cli_proxy.env.begin(), cli_proxy.env.end());
  return variables;
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

// Starts the command. With --diagnostic-logs its stderr goes through `stderr_tail`.
sandbox::Sandbox start_sandbox(sandbox::SandboxSpec& spec, std::optional<StderrTail>& stderr_tail,
                               const Options& options, bool holds_keys) {
  if (options.diagnostic_logs) spec.stderr_fd = stderr_tail.emplace().write_end();
  sandbox::Sandbox sandbox = sandbox::Sandbox::start(spec);
  if (stderr_tail) stderr_tail->start_forwarding();
  // Provider keys live in awf from here on: no core dump, no /proc/<awf>/mem for the caller's
  // other processes. Not earlier: the sandbox's id maps are written through /proc first.
  if (holds_keys) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  return sandbox;
}

// Usage accounting (token-usage.jsonl) is on with the API proxy, its file there from the start.
void open_usage_log(ApiProxySetup& api_proxy, const RunOutputs& outputs) {
  if (!api_proxy.gateway.enabled) return;
  api_proxy.gateway.usage = std::make_shared<proxy::UsageLog>(
      outputs.log().directory() + "/api-proxy-logs", outputs.log_file_mode(),
      api_proxy.gateway.budget);
}

proxy::GatewayOptions gateway_options(const Options& options, ParentProxy parent,
                                      ApiProxySetup& api_proxy, SslBumpSetup& ssl_bump,
                                      const std::vector<peers::Peer>& peers,
                                      const sandbox::HostAddressWatch& host_addresses) {
  proxy::GatewayOptions gateway;
  gateway.dlp = options.enable_dlp;
  gateway.host_access = options.enable_host_access;
  gateway.host_ports = options.host_ports;
  gateway.parent = std::move(parent.url);
  gateway.no_proxy = std::move(parent.no_proxy);
  gateway.api_proxy = std::move(api_proxy.gateway);
  gateway.bump = std::move(ssl_bump.gateway);
  gateway.peers = peers;
  gateway.host_addresses = [&host_addresses] { return host_addresses.current(); };
  return gateway;
}

// The Unix socket rule (sandbox/socket_supervisor.h): answers the command's connect() and
// addressed sends; every refusal is an audit record. Null when the command ended at once.
std::unique_ptr<sandbox::SocketSupervisor> supervise_sockets(sandbox::Sandbox& sandbox,
                                                             const Options& options,
                                                             const sandbox::Identity& identity,
                                                             audit::LogWriter& log) {
  std::vector<sandbox::Listener> supervision = sandbox.take_supervision();
  if (supervision.size() != 2 || supervision[0].kind != sandbox::ListenerKind::SyscallNotify ||
      supervision[1].kind != sandbox::ListenerKind::UnixDiag) {
    return nullptr;
  }
  sandbox::SupervisorOptions supervisor;
  supervisor.allowed_paths = options.allow_unix_sockets;
  supervisor.identity = identity;
  supervisor.refused = [&log](const sandbox::UnixRefusal& refusal) {
    audit::AuditRecord record;
    record.time_ms = audit::now_ms();
    record.kind = "unix";
    record.transport = refusal.call;
    record.name = refusal.path;
    record.url = refusal.path;
    record.decision = "deny";
    record.reason =
        "host Unix socket outside the sandbox (name it with --allow-unix-socket PATH to allow)";
    record.pid = refusal.pid;
    record.command = refusal.command;
    log.write_audit(record);
  };
  return std::make_unique<sandbox::SocketSupervisor>(
      std::move(supervision[0].fd), std::move(supervision[1].fd), std::move(supervisor));
}

}  // namespace

int run(const Options& options) {
  prepare_process();
  // First: the keys leave awf's environment before anything copies it.
  ApiProxySetup api_proxy = setup_api_proxy(options);
  // --reflect: what GET /reflect would answer in the sandbox, without starting one.
  if (options.reflect) {
    std::printf("%s\n", api_proxy.gateway.reflect.c_str());
    return 0;
  }
  CliProxySetup cli_proxy = setup_cli_proxy(options);
  const policy::Policy policy = build_policy(options, api_proxy.allow);
  warn_if_nothing_allowed(policy);
  warn_about_policy(options, policy);
  const DnsSettings dns = dns_settings(options);
  const CommandUser user = command_user(options);

  // Everything that can be refused is checked before anything is created.
  ParentProxy parent = parent_proxy(options);
  print_host_access_warning(options);
  SslBumpSetup ssl_bump = setup_ssl_bump(options, policy);
  std::vector<std::string> command_env = command_environment(
      options, user.identity, setup_variables(api_proxy, ssl_bump, cli_proxy),
      ssl_bump.java_options);
  if (cli_proxy.enabled()) prepend_cli_proxy_path(command_env);
  const std::optional<std::vector<peers::Peer>> peers = look_up_topology_peers(options);
  if (!peers) return 1;
  // The resolver first: the manifest names the servers it asks.
  boost::asio::io_context io(1);
  dns::Resolver resolver(io, dns.servers);
  use_dns_over_https(resolver, dns, options);
  const std::string manifest = run_manifest(options, policy, resolver, *peers);
  print_notices(options);
  // Memory and process limits, declared before the sandbox: the cgroup can go only once the
  // init has been reaped.
  const std::optional<sandbox::Cgroup> cgroup = create_limits_cgroup(options);
  RunOutputs outputs(options, manifest);
  open_usage_log(api_proxy, outputs);
  print_run_plan(options, policy, resolver, outputs);

  sandbox::SandboxSpec spec = command_spec(options, user, std::move(command_env));
  spec.mounts = plan_mounts(options, user, std::move(ssl_bump.files), outputs.own_dirs());
  spec.mounts.binds.insert(spec.mounts.binds.end(), cli_proxy.binds.begin(),
                           cli_proxy.binds.end());
  if (cli_proxy.enabled()) spec.cli_proxy_port = cli_proxy::kPort;
  if (cgroup) spec.cgroup = cgroup->join();
  plan_listeners(options, api_proxy.ports, *peers, spec);
  CommandWatch watch(io);
  std::optional<StderrTail> stderr_tail;
  sandbox::Sandbox sandbox =
      start_sandbox(spec, stderr_tail, options, api_proxy.holds_keys || cli_proxy.enabled());
  const sandbox::HostAddressWatch host_addresses;
  proxy::Gateway gateway(io, policy, resolver, outputs.log(), std::thread::hardware_concurrency(),
                         gateway_options(options, std::move(parent), api_proxy, ssl_bump, *peers,
                                         host_addresses));
  std::vector<sandbox::Listener> listeners = sandbox.take_listeners();
  std::unique_ptr<cli_proxy::Server> cli_server =
      serve_cli_proxy(cli_proxy, listeners, outputs.log().directory());
  gateway.serve(std::move(listeners));
  sandbox.release();
  std::unique_ptr<sandbox::SocketSupervisor> supervisor =
      supervise_sockets(sandbox, options, user.identity, outputs.log());

  const CommandEnd end = watch.wait(sandbox, outputs.log(), options.agent_timeout_minutes);
  supervisor.reset();  // its last refusals go into the flush below
  watch.close(gateway);
  cli_server.reset();
  outputs.log().flush();
  report_limits(cgroup, options);
  const int code = report_unrecorded(outputs.log(), exit_status(end));
  if (stderr_tail) write_run_diagnostics(options, outputs, spec.mounts, *stderr_tail, end, code);
  print_summary(outputs, code);
  return code;
}

}  // namespace awf::cli
