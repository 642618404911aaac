#include "cli/flag_table.h"

#include <CLI/CLI.hpp>
#include <map>

#include "cli/awf_config_keys.h"

namespace awf::cli {
namespace {

// AWF's help groups, in AWF's order.
constexpr const char* kConfigGroup = "Configuration";
constexpr const char* kDomainGroup = "Domain Filtering";
constexpr const char* kImageGroup = "Image Management";
constexpr const char* kVmGroup = "Cloud Hypervisor Preview (no effect in awf: no microVM)";
constexpr const char* kContainerGroup = "Container Configuration";
constexpr const char* kNetworkGroup = "Network & Security";
constexpr const char* kApiGroup = "API Proxy";
constexpr const char* kCliProxyGroup = "CLI Proxy";
constexpr const char* kLogGroup = "Logging & Debug";
constexpr const char* kHidden = "";  // deprecated AWF spellings: accepted, not listed

constexpr const char* kNoEffect = "[no effect in awf] ";
constexpr const char* kNotYet = "[not yet built in awf] ";

using Note = FlagNote::Kind;

const std::map<std::string, FlagNote, std::less<>>& notes() {
  static const std::map<std::string, FlagNote, std::less<>> table = [] {
    std::map<std::string, FlagNote, std::less<>> t;
    for (const char* flag : {"--build-local", "--agent-image", "--image-registry", "--image-tag",
                             "--skip-pull", "--enable-dind", "--docker-host-path-prefix"}) {
      t.emplace(flag, FlagNote{Note::NoEffect, kWhyDocker});
    }
    for (const char* flag : {"--legacy-security", "--security-mode"}) {
      t.emplace(flag, FlagNote{Note::NoEffect, kWhyOneMode});
    }
    t.emplace("--no-network-isolation",
              FlagNote{Note::NoEffect, "awf always isolates the command's network"});
    for (const char* flag :
         {"--cloud-hypervisor-preview", "--cloud-hypervisor-binary", "--cloud-hypervisor-kernel",
          "--cloud-hypervisor-rootfs", "--cloud-hypervisor-supervisor", "--cloud-hypervisor-vcpus",
          "--cloud-hypervisor-memory-mib", "--cloud-hypervisor-api-timeout-ms",
          "--cloud-hypervisor-binary-sha256", "--cloud-hypervisor-virtiofsd-sha256",
          "--cloud-hypervisor-kernel-sha256", "--cloud-hypervisor-rootfs-sha256",
          "--cloud-hypervisor-supervisor-sha256"}) {
      t.emplace(flag, FlagNote{Note::NoEffect, kWhyMicroVm});
    }
    return t;
  }();
  return table;
}

std::string described(const char* flag, const std::string& help) {
  const auto it = notes().find(flag);
  if (it == notes().end()) return help;
  return (it->second.kind == Note::NoEffect ? kNoEffect : kNotYet) + help;
}

CLI::Option* repeatable(CLI::App& app, const std::string& names, std::vector<std::string>& to,
                        const std::string& help, const char* group, const char* type) {
  return app.add_option(names, to, help + " (repeatable)")
      ->group(group)
      ->type_name(type)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

CLI::Option* single(CLI::App& app, const std::string& names, std::string& to,
                    const std::string& help, const char* group, const char* type) {
  const std::string flag = names.substr(names.rfind(',') + 1);
  return app.add_option(names, to, described(flag.c_str(), help))->group(group)->type_name(type);
}

CLI::Option* flag(CLI::App& app, const std::string& names, bool& to, const std::string& help,
                  const char* group) {
  const std::string name = names.substr(names.rfind(',') + 1);
  return app.add_flag(names, to, described(name.c_str(), help))->group(group);
}

void domain_flags(CLI::App& app, RawValues& raw) {
  single(app, "--config", raw.config,
         "AWF config file, JSON or YAML (- reads stdin); flags on the command line win",
         kConfigGroup, "PATH");
  repeatable(app, "-d,--allow-domains", raw.allow,
             "Comma-separated domains the command may reach (subdomains included; *.x "
             "wildcards; http:// or https:// prefix limits the protocol; 'localhost' opens the "
             "host's dev-server ports)",
             kDomainGroup, "LIST");
  repeatable(app, "--allow-domains-file", raw.allow_files,
             "File of allowed domains (one per line or comma-separated, # comments)", kDomainGroup,
             "PATH");
  repeatable(app, "--ruleset-file", raw.rulesets,
             "YAML rules {version: 1, rules: [{domain: x, subdomains: true|false}]}; "
             "subdomains: false allows the exact name only",
             kDomainGroup, "PATH");
  repeatable(app, "--block-domains", raw.block, "Comma-separated domains that are always denied",
             kDomainGroup, "LIST");
  repeatable(app, "--block-domains-file", raw.block_files, "File of blocked domains", kDomainGroup,
             "PATH");
  flag(app, "--ssl-bump", raw.ssl_bump,
       "Intercept TLS to the allowed names that --allow-urls mentions, with a per-run CA the "
       "sandbox trusts, and decide each request by its URL",
       kDomainGroup);
  repeatable(app, "--allow-urls", raw.allow_urls,
             "Comma-separated https://host/path patterns ('*' matches anything in the path); "
             "needs --ssl-bump",
             kDomainGroup, "LIST");
  single(app, "--ssl-bump-ca-file", raw.bump_ca_file,
         "Also trust these PEM CA certificates for intercepted origins (tests, private CAs)",
         kDomainGroup, "PATH");
}

void image_flags(CLI::App& app, RawValues& raw) {
  flag(app, "-b,--build-local", raw.ignored_switch, "Build AWF's images locally", kImageGroup);
  single(app, "--agent-image", raw.ignored_value, "AWF's agent image", kImageGroup, "IMAGE");
  single(app, "--image-registry", raw.ignored_value, "AWF's image registry", kImageGroup,
         "REGISTRY");
  single(app, "--image-tag", raw.ignored_value, "AWF's image tag (with digests)", kImageGroup,
         "TAG");
  flag(app, "--skip-pull", raw.ignored_switch, "Use local images only", kImageGroup);
  single(app, "--docker-host", raw.docker_host,
         "Docker Engine API socket for --topology-attach, unix:///PATH (default: DOCKER_HOST, "
         "else /var/run/docker.sock)",
         kImageGroup, "URL");
  single(app, "--docker-host-path-prefix", raw.ignored_value,
         "Prefix for bind-mount sources of a split Docker daemon", kImageGroup, "PREFIX");
  single(app, "--container-runtime", raw.container_runtime,
         "docker, gvisor or sbx: awf runs its own namespace sandbox (namespaces and seccomp); "
         "cloud-hypervisor and nvx (microVMs) are refused",
         kImageGroup, "RUNTIME");
}

void cloud_hypervisor_flags(CLI::App& app, RawValues& raw) {
  flag(app, "--cloud-hypervisor-preview", raw.ignored_switch, "Cloud Hypervisor preview", kVmGroup);
  const std::pair<const char*, const char*> values[] = {
      {"binary", "PATH"},       {"kernel", "PATH"},       {"rootfs", "PATH"},
      {"supervisor", "PATH"},   {"vcpus", "COUNT"},       {"memory-mib", "MIB"},
      {"api-timeout-ms", "MS"}, {"binary-sha256", "HEX"}, {"virtiofsd-sha256", "HEX"},
      {"kernel-sha256", "HEX"}, {"rootfs-sha256", "HEX"}, {"supervisor-sha256", "HEX"},
  };
  for (const auto& [name, type] : values) {
    single(app, std::string("--cloud-hypervisor-") + name, raw.ignored_value,
           std::string("Cloud Hypervisor ") + name, kVmGroup, type);
  }
}

void container_flags(CLI::App& app, RawValues& raw) {
  repeatable(app, "-e,--env", raw.env,
             "Set KEY=VALUE in the command's environment (overrides everything but the secret "
             "exclusions)",
             kContainerGroup, "KEY=VALUE");
  flag(app, "--env-all", raw.env_all,
       "Pass the host environment, minus secrets, session and proxy variables and values over "
       "64 KiB",
       kContainerGroup);
  repeatable(app, "--exclude-env", raw.exclude_env, "Never pass this variable", kContainerGroup,
             "NAME");
  repeatable(app, "--env-file", raw.env_files, "File of KEY=VALUE lines (# comments)",
             kContainerGroup, "PATH");
  repeatable(app, "-v,--mount", raw.mounts,
             "Bind HOST_PATH at CONTAINER_PATH (absolute; $VAR expanded; default rw)",
             kContainerGroup, "HOST:CONTAINER[:ro|rw]");
  repeatable(app, "--allow-git-write", raw.allow_git_write,
             "Leave this directory's repository writable with its real .git/config (default: "
             "config and hooks read-only, credentials removed)",
             kContainerGroup, "PATH");
  repeatable(app, "--persist-home-dir", raw.persist_home_dirs,
             "Keep writes to this HOME tool directory (e.g. .npm, .cache/pip; default: they "
             "vanish with the run)",
             kContainerGroup, "DIR");
  repeatable(app, "--allow-unix-socket", raw.allow_unix_sockets,
             "Let the command reach the Unix socket at this path, as the command sees it "
             "(default: only sockets created in the sandbox; a -v of a socket names it too)",
             kContainerGroup, "PATH");
  single(app, "--container-workdir", raw.container_workdir,
         "Directory the command starts in (default: its HOME; / when missing)", kContainerGroup,
         "DIR");
  single(app, "--memory-limit", raw.memory_limit,
         "Memory limit for everything in the sandbox, N[bkmg] (default 6g; no swap; in a cgroup "
         "awf can write: given explicitly, a limit that cannot be enforced refuses the run)",
         kContainerGroup, "SIZE");
  single(app, "--pids-limit", raw.pids_limit,
         "Maximum number of processes and threads in the sandbox (default 1000)", kContainerGroup,
         "N");
  flag(app, "--tty", raw.tty,
       "The command is interactive: FORCE_COLOR=1 and TERM=xterm-256color instead of "
       "NO_COLOR=1",
       kContainerGroup);
  single(app, "--user", raw.user,
         "Run the command as NAME|UID[:GID] (default: SUDO_UID under sudo, the caller when not "
         "root, else 65534)",
         kContainerGroup, "USER");
}

void network_flags(CLI::App& app, RawValues& raw) {
  app.add_option("--dns-servers", raw.dns,
                 "Comma-separated upstream DNS servers (IPv4/IPv6; default: the host's "
                 "resolv.conf)")
      ->group(kNetworkGroup)
      ->type_name("LIST")
      ->delimiter(',')
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  app.add_option("--dns-over-https", raw.dns_over_https,
                 "awf resolves allowed names over DNS-over-HTTPS (RFC 8484) at this URL "
                 "(default " +
                     std::string(kDefaultDohUrl) + ")")
      ->group(kNetworkGroup)
      ->type_name("[URL]")
      ->expected(0, 1)
      ->default_str(kDefaultDohUrl);
  single(app, "--upstream-proxy", raw.upstream_proxy,
         "Reach origins through this parent proxy, http://HOST:PORT (default: the host's "
         "https_proxy/http_proxy; no_proxy names go direct)",
         kNetworkGroup, "URL");
  flag(app, "--enable-host-access", raw.host_access,
       "Let the command reach the host as host.docker.internal (ports 80, 443 and "
       "--allow-host-ports)",
       kNetworkGroup);
  flag(app, "--network-isolation", raw.ignored_switch,
       "Accepted: awf always runs the command in its own network namespace", kNetworkGroup);
  flag(app, "--no-network-isolation", raw.ignored_switch, "Turn network isolation off",
       kNetworkGroup);
  repeatable(app, "--topology-attach", raw.topology,
             "Let the command reach this Docker container by name, on its ports (looked up "
             "through the Docker Engine API)",
             kNetworkGroup, "NAME");
  single(app, "--allow-host-ports", raw.host_ports,
         "Host ports for --enable-host-access: N or N-M items, comma-separated", kNetworkGroup,
         "PORTS");
  single(app, "--allow-host-service-ports", raw.host_service_ports,
         "Host ports reachable at host.docker.internal (the job's service containers; dangerous "
         "ports allowed with a warning); turns host access on",
         kNetworkGroup, "PORTS");
  flag(app, "--enable-dind", raw.ignored_switch, "Expose the Docker socket to the command",
       kNetworkGroup);
  flag(app, "--legacy-security", raw.ignored_switch, "AWF's sudo and iptables mode", kNetworkGroup);
  single(app, "--security-mode", raw.security_mode, "strict or compat (deprecated)", kHidden,
         "MODE");
  flag(app, "--enable-dlp", raw.enable_dlp,
       "Deny plain-HTTP URLs and CONNECT targets that carry credential-shaped strings "
       "(GitHub/OpenAI/Anthropic/AWS/Google/Slack tokens, private keys)",
       kNetworkGroup);
}

void provider_flags(CLI::App& app, RawValues& raw) {
  for (const proxy::ProviderInfo& provider : proxy::providers()) {
    const std::size_t i = static_cast<std::size_t>(provider.id);
    const std::string name(provider.name);
    single(app, "--" + name + "-api-target", raw.api_targets[i],
           "Send " + name + " requests to HOST[:PORT] (https) instead of " +
               std::string(provider.default_target),
           kApiGroup, "HOST");
    if (provider.has_base_path_flag) {
      single(app, "--" + name + "-api-base-path", raw.api_base_paths[i],
             "Path prefix for " + name + " requests upstream", kApiGroup, "PATH");
    }
  }
  single(app, "--openai-base-url-env", raw.openai_base_url_env,
         "Variable of awf's environment holding a secret OpenAI-compatible base URL (https; "
         "sets the OpenAI target and base path)",
         kApiGroup, "NAME");
  single(app, "--openai-api-auth-header", raw.openai_auth_header,
         "Header that carries the OpenAI key, bare (default: Authorization: Bearer)", kApiGroup,
         "NAME");
  single(app, "--anthropic-api-auth-header", raw.anthropic_auth_header,
         "Header that carries the Anthropic key (default: x-api-key)", kApiGroup, "NAME");
  single(app, "--api-proxy-ca-file,--api-proxy-ca-cert", raw.api_ca_file,
         "Extra CA certificate (PEM) trusted for the providers' TLS", kApiGroup, "PATH");
}

void budget_flags(CLI::App& app, RawValues& raw) {
  flag(app, "--anthropic-auto-cache", raw.auto_cache,
       "Anthropic prompt caching: breakpoints on tools, system, the first and last messages, "
       "1h TTLs",
       kApiGroup);
  single(app, "--anthropic-cache-tail-ttl", raw.cache_tail_ttl,
         "TTL of the last message's breakpoint with --anthropic-auto-cache: 5m (default) or 1h",
         kApiGroup, "TTL");
  single(app, "--rate-limit-rpm", raw.rate_rpm,
         "Requests per minute per provider (any rate limit flag turns limits on; default 600)",
         kApiGroup, "N");
  single(app, "--rate-limit-rph", raw.rate_rph, "Requests per hour per provider (default 10000)",
         kApiGroup, "N");
  single(app, "--rate-limit-bytes-pm", raw.rate_bytes_pm,
         "Request bytes per minute per provider (default 52428800)", kApiGroup, "N");
  flag(app, "--no-rate-limit", raw.no_rate_limit, "No rate limits, whatever else is given",
       kApiGroup);
  single(app, "--max-model-multiplier", raw.model_multipliers,
         "Per-model cost multipliers, MODEL:X,...", kApiGroup, "LIST");
  single(app, "--max-model-multiplier-cap", raw.multiplier_cap, "Largest model multiplier allowed",
         kApiGroup, "X");
  single(app, "--max-permission-denied", raw.max_permission_denied,
         "Upstream 401/403 answers allowed per run", kApiGroup, "N");
  single(app, "--max-cache-misses", raw.max_cache_misses, "Consecutive cache misses allowed",
         kApiGroup, "N");
  flag(app, "--enable-token-steering", raw.token_steering,
       "Warnings injected at 80-99% of apiProxy.maxEffectiveTokens", kApiGroup);
  single(app, "--difc-proxy-host", raw.difc_host,
         "External DIFC proxy for gh, HOST:PORT: the command's gh asks awf, which runs the real "
         "gh outside the sandbox against localhost:PORT with the token (GH_TOKEN/GITHUB_TOKEN)",
         kCliProxyGroup, "HOST:PORT");
  single(app, "--difc-proxy-ca-cert", raw.difc_ca_cert,
         "The DIFC proxy's CA certificate (PEM), trusted by awf's gh with the system roots",
         kCliProxyGroup, "PATH");
}

void api_flags(CLI::App& app, RawValues& raw) {
  flag(app, "--enable-api-proxy", raw.api_proxy,
       "Serve the LLM providers on api-proxy (127.0.0.1) ports 10000-10004 in the sandbox; awf "
       "injects the keys (also on when a provider key is in awf's environment)",
       kApiGroup);
  flag(app, "--no-enable-api-proxy", raw.no_api_proxy, "Refused, as in AWF", kHidden);
  provider_flags(app, raw);
  budget_flags(app, raw);
}

void logging_flags(CLI::App& app, RawValues& raw) {
  single(app, "--log-level", raw.log_level, "awf's own messages: debug, info, warn, error",
         kLogGroup, "LEVEL");
  flag(app, "-k,--keep-containers", raw.keep,
       "Keep awf's work directory after the run and print its path", kLogGroup);
  single(app, "--agent-timeout", raw.agent_timeout,
         "Stop the command after this many minutes; awf then exits 124", kLogGroup, "MINUTES");
  single(app, "--work-dir", raw.work_dir,
         "awf's work directory for the run's policy manifest and resolved configuration "
         "(created on demand; with -k it defaults to a fresh /tmp/awf-* directory)",
         kLogGroup, "DIR");
  single(app, "--proxy-logs-dir", raw.proxy_logs_dir,
         "Directory for access.log and audit.jsonl (default: a new private directory in "
         "~/.awf/logs, which the command cannot see, printed at exit)",
         kLogGroup, "DIR");
  single(app, "--audit-dir", raw.audit_dir,
         "Write policy-manifest.json and the resolved configuration (secrets redacted) here",
         kLogGroup, "DIR");
  single(app, "--session-state-dir", raw.session_state_dir,
         "Directory the command's Copilot CLI session state is kept in after the run", kLogGroup,
         "DIR");
  flag(app, "--diagnostic-logs", raw.diagnostic_logs,
       "On a non-zero exit, write awf's diagnostics to <audit-dir or work-dir>/diagnostics/",
       kLogGroup);
  flag(app, "--reflect", raw.reflect,
       "Print the API proxy's /reflect answer (providers, ports, model aliases) and exit",
       kLogGroup);
}

}  // namespace

void define_flags(CLI::App& app, RawValues& raw) {
  // AWF (commander): a single-value flag given twice takes the last value.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.set_version_flag("-V,--version", std::string(AWF_VERSION) + " (AWF v0.28 interface)",
                       "Print the version and exit");
  app.set_help_flag("-h,--help", "Print this help and exit");
  domain_flags(app, raw);
  image_flags(app, raw);
  cloud_hypervisor_flags(app, raw);
  container_flags(app, raw);
  network_flags(app, raw);
  api_flags(app, raw);
  logging_flags(app, raw);
  // Everything from `--` or the first non-option argument on is the command, untouched.
  app.prefix_command(true);
}

const FlagNote* flag_note(const CLI::Option& option) {
  const auto it = notes().find(long_name(option));
  return it == notes().end() ? nullptr : &it->second;
}

std::string long_name(const CLI::Option& option) {
  const std::vector<std::string>& names = option.get_lnames();
  return names.empty() ? option.get_name() : "--" + names.front();
}

}  // namespace awf::cli
