// awf's command line (AWF-compatible names). Parsing and validation of values only: files
// named by flags are read later (run.cpp), except --config, which supplies flags.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/environment.h"
#include "cli/mount_spec.h"
#include "policy/port_spec.h"
#include "policy/url_pattern.h"
#include "proxy/api_provider.h"
#include "proxy/model_policy.h"
#include "sandbox/limits.h"

namespace CLI {
class App;
}

namespace awf::cli {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class LogLevel { Debug, Info, Warn, Error };

// AWF v0.28's flags and config keys for the LLM API proxy's limits, budgets and model policy
// and for the GitHub CLI proxy, parsed and validated in pending_options.cpp. The rate limits
// and budgets and Anthropic auto-cache (api_proxy_setup.cpp) and the CLI proxy
// (cli/cli_proxy_setup.h) are acted on.
struct PendingApiOptions {
  std::string difc_proxy_host;     // --difc-proxy-host HOST:PORT
  std::string difc_proxy_ca_cert;  // absolute
  std::optional<std::uint64_t> rate_limit_rpm, rate_limit_rph, rate_limit_bytes_pm;
  bool no_rate_limit = false;
  std::vector<std::pair<std::string, double>> model_multipliers;  // --max-model-multiplier
  std::optional<double> max_model_multiplier_cap;
  std::optional<std::uint64_t> max_permission_denied, max_cache_misses;
  bool enable_token_steering = false;
  bool anthropic_auto_cache = false;
  std::string anthropic_cache_tail_ttl;  // "", "5m" or "1h"
  std::string api_proxy_config;  // the config file's apiProxy section as JSON, or ""
};

struct Options {
  // Domain policy
  std::vector<std::string> allow_domains;  // entries, split and trimmed (may hold "")
  std::vector<std::string> block_domains;
  std::vector<std::string> allow_domain_files;
  std::vector<std::string> block_domain_files;
  std::vector<std::string> ruleset_files;
  bool enable_dlp = false;
  // Environment
  std::vector<EnvEntry> env;  // -e, validated
  bool env_all = false;
  std::vector<std::string> env_files;
  std::vector<std::string> exclude_env;
  bool tty = false;
  // Filesystem and process
  std::vector<MountSpec> mounts;
  std::vector<std::string> allow_git_write;  // --allow-git-write: resolved host directories
  std::vector<std::string> persist_home_dirs;  // --persist-home-dir: HOME-relative, validated
  // --allow-unix-socket (absolute, in the sandbox's view), then the targets of -v binds of sockets.
  std::vector<std::string> allow_unix_sockets;
  std::string container_workdir;  // "" -> the command's HOME
  std::string work_dir;           // "" -> a fresh /tmp/awf-* directory
  bool keep_work_dir = false;     // -k/--keep-containers
  std::string user;
  sandbox::ResourceLimits limits;      // --memory-limit, --pids-limit (validated)
  unsigned agent_timeout_minutes = 0;  // 0: none
  // Network
  std::vector<std::string> dns_servers;  // as given, validated later
  std::string upstream_proxy;
  bool enable_host_access = false;
  std::vector<policy::PortRange> host_ports;  // --allow-host-ports (validated)
  bool localhost_keyword = false;
  // host_ports are the keyword's dev-server ports, not --allow-host-ports: they get no
  // transparent listener, so the command can still serve those ports itself.
  bool host_ports_from_keyword =
      false;  // "localhost" was in the allowlist (host access on dev ports)
  // --allow-host-service-ports: host ports reachable at host.docker.internal only (AWF: for
  // GitHub Actions service containers); they turn host access on.
  std::vector<policy::PortRange> host_service_ports;
  // --dns-over-https [URL]: awf's own upstream resolution over RFC 8484 (empty: plain DNS).
  std::string dns_over_https;
  // Topology peers (--topology-attach, network.topologyAttach): Docker containers the command
  // reaches by name, looked up through the Docker Engine API at --docker-host/DOCKER_HOST.
  std::vector<std::string> topology_attach;
  std::string docker_host;
  // LLM API proxy (also on when a provider key is in awf's environment: run.cpp decides)
  bool enable_api_proxy = false;
  // Per provider, indexed like proxy::providers(): the target (empty: the default one, which
  // is not added to the allowlist) and the base path ("" or "/a/b").
  std::array<std::optional<proxy::ApiTarget>, proxy::kProviderCount> api_targets;
  std::array<std::string, proxy::kProviderCount> api_base_paths;
  // --openai-api-auth-header, --anthropic-api-auth-header ("": the provider's own header).
  std::array<std::string, proxy::kProviderCount> api_auth_headers;
  // --openai-base-url-env NAME: awf's variable NAME holds the OpenAI target as an https URL
  // (a secret: never printed, never in the sandbox).
  std::string openai_base_url_env;
  std::string api_proxy_ca_file;
  bool reflect = false;  // --reflect: print the API proxy's /reflect answer and exit
  // The config file's apiProxy.models, allowedModels, disallowedModels, requestedModel.
  proxy::ModelPolicy model_policy;
  // TLS interception
  bool ssl_bump = false;
  std::vector<policy::UrlPattern> allow_urls;  // --allow-urls, validated
  std::string ssl_bump_ca_file;
  // Logging
  std::string proxy_logs_dir;
  std::string audit_dir;
  std::string session_state_dir;  // --session-state-dir: kept after the run
  bool diagnostic_logs = false;   // --diagnostic-logs: <auditDir>/diagnostics/ on failure
  LogLevel log_level = LogLevel::Info;
  // One line each for the flags and config keys given that awf accepts without acting on
  // them ("awf: --skip-pull has no effect in awf: ..."); printed unless --log-level is warn
  // or error.
  std::vector<std::string> notices;
  PendingApiOptions pending;
  // The command line as given, for the resolved configuration record (--audit-dir).
  std::vector<std::string> argv;

  std::vector<std::string> command;  // argv of the command (a lone string is run by bash -c)
};

struct ParseResult {
  std::optional<Options> options;  // empty when help/version was printed
  int exit_code = 0;
};

// Parses argv (after any --config settings, which the command line overrides). Prints
// --help/--version itself. Throws UsageError for bad flags or values.
ParseResult parse_options(int argc, char** argv);

// The flag table itself, for generated help, completion and manual (same source as the parser).
std::unique_ptr<CLI::App> describe_options();

// `awf completion bash|zsh|fish` and `awf man`: generated from describe_options().
std::string bash_completion();
std::string zsh_completion();
std::string fish_completion();
std::string manual_page();

}  // namespace awf::cli
