#include "cli/options.h"

#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include "cli/config_file.h"
#include "policy/domain_list.h"
#include "policy/policy.h"

namespace awf::cli {
namespace {

constexpr const char* kDescription =
    "awf - Agent Workflow Firewall\n"
    "Runs a command so that its network access is limited to allowed domains; every\n"
    "decision is logged.\n\n"
    "Usage: awf [options] -- <command> [args...]\n"
    "       awf [options] '<shell command>'\n"
    "       awf logs [stats|summary|audit|suggest] [options]   (awf logs --help)\n"
    "       awf policy explain HOST[:PORT] [options]\n"
    "       awf completion bash | awf man | awf predownload";

constexpr const char* kFooter =
    "\nExamples:\n"
    "  sudo awf --allow-domains github.com -- curl https://api.github.com/zen\n"
    "  sudo awf -d 'github.com,*.githubusercontent.com' --block-domains gist.github.com \\\n"
    "      --container-workdir \"$PWD\" -- ./agent.sh\n\n"
    "Exit status: the command's own; 1 for awf's errors; 124 when --agent-timeout stopped it;\n"
    "130/143 when awf is interrupted.\n"
    "Docs: docs/user-guide.md";

constexpr const char* kPolicyGroup = "Domain policy";
constexpr const char* kEnvGroup = "Environment";
constexpr const char* kSandboxGroup = "Filesystem and process";
constexpr const char* kNetworkGroup = "Network";
constexpr const char* kApiGroup = "LLM API proxy (credential isolation)";
constexpr const char* kBumpGroup = "TLS interception (URL rules)";
constexpr const char* kLogGroup = "Logging and audit";
constexpr const char* kConfigGroup = "Configuration";
constexpr const char* kDockerGroup = "AWF Docker backend (accepted for compatibility, no effect)";

// AWF's default DNS-over-HTTPS resolver (--dns-over-https without a URL).
constexpr const char* kDefaultDohUrl = "https://dns.google/dns-query";

// The ports AWF's `localhost` keyword opens on the host (common development servers).
constexpr std::uint16_t kDevServerPorts[] = {3000, 3001, 4000, 4200, 5000, 5173,
                                             8000, 8080, 8081, 8888, 9000, 9090};

// CLI11's generated usage line ("awf [OPTIONS]") and "..." marks would contradict the usage
// text above: the description carries the real usage, and repeatable flags say so in words.
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_usage(const CLI::App*, std::string) const override { return ""; }
  std::string make_option_opts(const CLI::Option* option) const override {
    std::string opts = CLI::Formatter::make_option_opts(option);
    if (const std::size_t dots = opts.rfind(" ...");
        dots != std::string::npos && dots + 4 == opts.size()) {
      opts.erase(dots);
    }
    return opts;
  }
};

// Everything the flag table binds to, as text: values are validated after parsing, so a bad
// one gets awf's own message instead of CLI11's.
struct RawValues {
  std::vector<std::string> allow, block, allow_files, block_files, rulesets;
  std::vector<std::string> env, env_files, exclude_env, mounts, dns, topology;
  std::string container_workdir, work_dir, user, memory_limit, pids_limit, agent_timeout;
  std::string upstream_proxy, host_ports, host_service_ports, proxy_logs_dir, audit_dir, config;
  std::string dns_over_https, session_state_dir;
  bool diagnostic_logs = false;
  std::string log_level = "info";
  std::string agent_image, image_registry, image_tag, docker_host, container_runtime;
  bool enable_dlp = false, env_all = false, tty = false, keep = false, host_access = false;
  bool build_local = false, skip_pull = false, enable_dind = false, legacy_security = false;
  bool network_isolation = false;
  bool api_proxy = false;
  std::array<std::string, 4> api_targets, api_base_paths;
  std::string api_ca_file;
  bool ssl_bump = false;
  std::vector<std::string> allow_urls;
  std::string bump_ca_file;
};

CLI::Option* repeatable(CLI::App& app, const std::string& names, std::vector<std::string>& to,
                        const std::string& help, const char* group, const char* type) {
  return app.add_option(names, to, help + " (repeatable)")
      ->group(group)
      ->type_name(type)
      ->allow_extra_args(false);
}

CLI::Option* single(CLI::App& app, const std::string& names, std::string& to,
                    const std::string& help, const char* group, const char* type) {
  return app.add_option(names, to, help)->group(group)->type_name(type);
}

void define_flags(CLI::App& app, RawValues& raw) {
  app.set_version_flag("-V,--version", AWF_VERSION, "Print the version and exit");
  app.set_help_flag("-h,--help", "Print this help and exit");

  repeatable(app, "-d,--allow-domains", raw.allow,
             "Comma-separated domains the command may reach (subdomains included; *.x "
             "wildcards; http:// or https:// prefix limits the protocol; 'localhost' opens the "
             "host's dev-server ports)",
             kPolicyGroup, "LIST");
  repeatable(app, "--allow-domains-file", raw.allow_files,
             "File of allowed domains (one per line or comma-separated, # comments)", kPolicyGroup,
             "PATH");
  repeatable(app, "--block-domains", raw.block, "Comma-separated domains that are always denied",
             kPolicyGroup, "LIST");
  repeatable(app, "--block-domains-file", raw.block_files, "File of blocked domains", kPolicyGroup,
             "PATH");
  repeatable(app, "--ruleset-file", raw.rulesets,
             "YAML rules {version: 1, rules: [{domain: x, subdomains: true|false}]}; "
             "subdomains: false allows the exact name only",
             kPolicyGroup, "PATH");
  app.add_flag("--enable-dlp", raw.enable_dlp,
               "Deny plain-HTTP URLs and CONNECT targets that carry credential-shaped strings "
               "(GitHub/OpenAI/Anthropic/AWS/Google/Slack tokens, private keys)")
      ->group(kPolicyGroup);

  repeatable(app, "-e,--env", raw.env,
             "Set KEY=VALUE in the command's environment (overrides everything but the secret "
             "exclusions)",
             kEnvGroup, "KEY=VALUE");
  app.add_flag("--env-all", raw.env_all,
               "Pass the host environment, minus secrets, session and proxy variables and "
               "values over 64 KiB")
      ->group(kEnvGroup);
  repeatable(app, "--env-file", raw.env_files, "File of KEY=VALUE lines (# comments)", kEnvGroup,
             "PATH");
  repeatable(app, "--exclude-env", raw.exclude_env, "Never pass this variable", kEnvGroup, "NAME");
  app.add_flag("--tty", raw.tty,
               "The command is interactive: FORCE_COLOR=1 and TERM=xterm-256color instead of "
               "NO_COLOR=1")
      ->group(kEnvGroup);

  repeatable(app, "-v,--mount", raw.mounts,
             "Bind HOST_PATH at CONTAINER_PATH (absolute; $VAR expanded; default rw)",
             kSandboxGroup, "HOST:CONTAINER[:ro|rw]");
  single(app, "--container-workdir", raw.container_workdir,
         "Directory the command starts in (default: its HOME; / when missing)", kSandboxGroup,
         "DIR");
  single(app, "--work-dir", raw.work_dir,
         "awf's work directory for the run's policy manifest and resolved configuration "
         "(created on demand; with -k it defaults to a fresh /tmp/awf-* directory)",
         kSandboxGroup, "DIR");
  app.add_flag("-k,--keep-containers", raw.keep,
               "Keep awf's work directory after the run and print its path")
      ->group(kSandboxGroup);
  single(app, "--user", raw.user,
         "Run the command as NAME|UID[:GID] (default: SUDO_UID under sudo, the caller when not "
         "root, else 65534)",
         kSandboxGroup, "USER");
  single(app, "--memory-limit", raw.memory_limit,
         "Memory limit for everything in the sandbox, N[bkmg] (default 6g; no swap; needs root "
         "and cgroups)",
         kSandboxGroup, "SIZE");
  single(app, "--pids-limit", raw.pids_limit,
         "Maximum number of processes and threads in the sandbox (default 1000)", kSandboxGroup,
         "N");
  single(app, "--agent-timeout", raw.agent_timeout,
         "Stop the command after this many minutes; awf then exits 124", kSandboxGroup, "MINUTES");

  app.add_option("--dns-servers", raw.dns,
                 "Comma-separated upstream DNS servers (IPv4/IPv6; default: the host's "
                 "resolv.conf)")
      ->group(kNetworkGroup)
      ->type_name("LIST")
      ->delimiter(',')
      ->allow_extra_args(false);
  single(app, "--upstream-proxy", raw.upstream_proxy,
         "Reach origins through this parent proxy, http://HOST:PORT (default: the host's "
         "https_proxy/http_proxy; no_proxy names go direct)",
         kNetworkGroup, "URL");
  app.add_flag("--enable-host-access", raw.host_access,
               "Let the command reach the host as host.docker.internal (ports 80, 443 and "
               "--allow-host-ports)")
      ->group(kNetworkGroup);
  single(app, "--allow-host-ports", raw.host_ports,
         "Host ports for --enable-host-access: N or N-M items, comma-separated", kNetworkGroup,
         "PORTS");
  single(app, "--allow-host-service-ports", raw.host_service_ports,
         "Host ports reachable only at host.docker.internal (service containers); turns host "
         "access on",
         kNetworkGroup, "PORTS");
  app.add_option("--dns-over-https", raw.dns_over_https,
                 "awf resolves allowed names over DNS-over-HTTPS (RFC 8484) at this URL "
                 "(default " + std::string(kDefaultDohUrl) + ")")
      ->group(kNetworkGroup)
      ->type_name("[URL]")
      ->expected(0, 1)
      ->default_str(kDefaultDohUrl);
  repeatable(app, "--topology-attach", raw.topology,
             "Let the command reach this Docker container by name, on its ports (looked up "
             "through the Docker Engine API)",
             kNetworkGroup, "NAME");
  single(app, "--docker-host", raw.docker_host,
         "Docker Engine API socket for --topology-attach, unix:///PATH (default: DOCKER_HOST, "
         "else /var/run/docker.sock)",
         kNetworkGroup, "URL");

  app.add_flag("--enable-api-proxy", raw.api_proxy,
               "Serve the LLM providers on 127.0.0.1:10000-10003 in the sandbox; awf injects "
               "the keys (also on when a provider key is in awf's environment)")
      ->group(kApiGroup);
  for (const proxy::ProviderInfo& provider : proxy::providers()) {
    const std::string name(provider.name);
    const std::size_t index = static_cast<std::size_t>(provider.id);
    single(app, "--" + name + "-api-target", raw.api_targets[index],
           "Send " + name + " requests to HOST[:PORT] over HTTPS (default " +
               std::string(provider.default_target) + "; a non-default one is allowed "
               "automatically)",
           kApiGroup, "HOST");
    if (provider.has_base_path_flag) {
      single(app, "--" + name + "-api-base-path", raw.api_base_paths[index],
             "Path prefix for every forwarded " + name + " request", kApiGroup, "PATH");
    }
  }
  single(app, "--api-proxy-ca-file", raw.api_ca_file,
         "Also trust these PEM CA certificates for the providers (private gateways, tests)",
         kApiGroup, "PATH");

  app.add_flag("--ssl-bump", raw.ssl_bump,
               "Intercept TLS to the allowed names that --allow-urls mentions, with a per-run "
               "CA the sandbox trusts, and decide each request by its URL")
      ->group(kBumpGroup);
  repeatable(app, "--allow-urls", raw.allow_urls,
             "Comma-separated https://host/path patterns ('*' matches anything in the path); "
             "needs --ssl-bump",
             kBumpGroup, "LIST");
  single(app, "--ssl-bump-ca-file", raw.bump_ca_file,
         "Also trust these PEM CA certificates for intercepted origins (tests, private CAs)",
         kBumpGroup, "PATH");

  single(app, "--log-level", raw.log_level, "awf's own messages: debug, info, warn, error",
         kLogGroup, "LEVEL");
  single(app, "--proxy-logs-dir", raw.proxy_logs_dir,
         "Directory for access.log and audit.jsonl (default: a fresh /tmp/awf-logs-* "
         "directory, printed at exit)",
         kLogGroup, "DIR");
  single(app, "--audit-dir", raw.audit_dir,
         "Write policy-manifest.json and the resolved configuration (secrets redacted) here",
         kLogGroup, "DIR");
  single(app, "--session-state-dir", raw.session_state_dir,
         "Directory the command's Copilot CLI session state is kept in after the run",
         kLogGroup, "DIR");
  app.add_flag("--diagnostic-logs", raw.diagnostic_logs,
               "On a non-zero exit, write awf's diagnostics to <audit-dir or work-dir>/diagnostics/")
      ->group(kLogGroup);

  single(app, "--config", raw.config,
         "JSON or YAML file of flags (- reads stdin); flags on the command line win", kConfigGroup,
         "PATH");

  app.add_flag("--build-local", raw.build_local, "No effect")->group(kDockerGroup);
  single(app, "--agent-image", raw.agent_image, "No effect", kDockerGroup, "IMAGE");
  single(app, "--image-registry", raw.image_registry, "No effect", kDockerGroup, "REGISTRY");
  single(app, "--image-tag", raw.image_tag, "No effect", kDockerGroup, "TAG");
  app.add_flag("--skip-pull", raw.skip_pull, "No effect")->group(kDockerGroup);
  single(app, "--container-runtime", raw.container_runtime, "No effect", kDockerGroup, "NAME");
  app.add_flag("--enable-dind", raw.enable_dind, "No effect")->group(kDockerGroup);
  app.add_flag("--legacy-security", raw.legacy_security, "No effect")->group(kDockerGroup);
  app.add_flag("--network-isolation", raw.network_isolation, "No effect")->group(kDockerGroup);

  // Everything from `--` or the first non-option argument on is the command, untouched.
  app.prefix_command(true);
}

std::unique_ptr<CLI::App> make_app(RawValues& raw) {
  auto app = std::make_unique<CLI::App>(kDescription, "awf");
  app->footer(kFooter);
  app->formatter(std::make_shared<HelpFormatter>());
  app->get_formatter()->column_width(40);
  define_flags(*app, raw);
  return app;
}

void append_split(std::vector<std::string>& out, const std::vector<std::string>& values) {
  for (const std::string& value : values) {
    for (std::string& entry : policy::split_domain_list(value)) out.push_back(std::move(entry));
  }
}

std::string read_config_text(const std::string& path) {
  std::ostringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
    return text.str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UsageError("--config '" + path + "': cannot read the file");
  text << in.rdbuf();
  return text.str();
}

// Flags from --config that the command line does not give itself, as command-line words.
std::vector<std::string> config_words(const std::string& path, const CLI::App& given) {
  std::vector<ConfigSetting> settings;
  try {
    settings = parse_config(read_config_text(path));
  } catch (const std::invalid_argument& error) {
    throw UsageError("--config '" + path + "': " + error.what());
  }
  std::vector<std::string> words;
  for (const ConfigSetting& setting : settings) {
    const std::string flag = "--" + setting.flag;
    const CLI::Option* option = nullptr;
    try {
      option = given.get_option(flag);
    } catch (const CLI::OptionNotFound&) {
    }
    if (!option || setting.flag == "config" || setting.flag == "help" ||
        setting.flag == "version") {
      throw UsageError("--config '" + path + "': unknown key '" + setting.flag + "'");
    }
    if (option->count() > 0) continue;      // the command line wins
    if (option->get_expected_max() == 0) {  // a switch
      for (const std::string& value : setting.values) {
        if (value == "true") {
          words.push_back(flag);
        } else if (value != "false") {
          throw UsageError("--config '" + path + "': '" + setting.flag + "' must be true or false");
        }
      }
      continue;
    }
    for (const std::string& value : setting.values) {
      words.push_back(flag);
      words.push_back(value);
    }
  }
  return words;
}

// "1".."99999" minutes; no sign, no leading zero.
unsigned parse_minutes(const std::string& text) {
  const bool digits_only = !text.empty() && text.size() <= 5 &&
                           text.find_first_not_of("0123456789") == std::string::npos &&
                           text.front() != '0';
  if (!digits_only) {
    throw UsageError("--agent-timeout '" + text + "': expected a positive whole number of minutes");
  }
  return static_cast<unsigned>(std::stoul(text));
}

std::optional<std::string> host_variable(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (!value) return std::nullopt;
  return std::string(value);
}

std::string absolute_path(const std::string& path) {
  if (path.starts_with('/')) return path;
  char cwd[PATH_MAX];
  if (!getcwd(cwd, sizeof cwd)) return path;
  return std::string(cwd) + "/" + path;
}

void convert_environment(const RawValues& raw, Options& options) {
  for (const std::string& assignment : raw.env) {
    try {
      options.env.push_back(parse_env_assignment(assignment));
    } catch (const std::invalid_argument& error) {
      throw UsageError(std::string("-e/--env: ") + error.what());
    }
  }
  for (const std::string& name : raw.exclude_env) {
    if (!is_valid_env_name(name)) {
      throw UsageError("--exclude-env '" + name + "': not a valid variable name");
    }
  }
  options.env_all = raw.env_all;
  options.env_files = raw.env_files;
  options.exclude_env = raw.exclude_env;
  options.tty = raw.tty;
}

void convert_filesystem(const CLI::App& app, const RawValues& raw, Options& options) {
  for (const std::string& text : raw.mounts) {
    MountSpec mount;
    try {
      mount = parse_mount_spec(text, host_variable);
    } catch (const std::invalid_argument& error) {
      throw UsageError(std::string("-v/--mount: ") + error.what());
    }
    struct stat st {};
    if (stat(mount.host.c_str(), &st) < 0) {
      throw UsageError("-v/--mount '" + text + "': host path " + mount.host + " does not exist");
    }
    options.mounts.push_back(std::move(mount));
  }
  if (app.count("--container-workdir") > 0 && !raw.container_workdir.starts_with('/')) {
    throw UsageError("--container-workdir '" + raw.container_workdir + "': must be absolute");
  }
  options.container_workdir = raw.container_workdir;
  if (app.count("--work-dir") > 0) {
    if (raw.work_dir.empty()) throw UsageError("--work-dir: empty path");
    options.work_dir = absolute_path(raw.work_dir);
  }
  options.keep_work_dir = raw.keep;
  if (app.count("--user") > 0 && raw.user.empty()) throw UsageError("--user: empty value");
  options.user = raw.user;
  if (app.count("--agent-timeout") > 0) {
    options.agent_timeout_minutes = parse_minutes(raw.agent_timeout);
  }
}

void convert_network(const CLI::App& app, const RawValues& raw, Options& options) {
  options.dns_servers = raw.dns;
  options.upstream_proxy = raw.upstream_proxy;
  options.enable_host_access = raw.host_access;
  if (app.count("--dns-over-https") > 0) {
    options.dns_over_https = raw.dns_over_https.empty() ? kDefaultDohUrl : raw.dns_over_https;
  }
  options.topology_attach = raw.topology;
  options.docker_host = raw.docker_host;
  if (!raw.host_service_ports.empty()) {
    try {
      options.host_service_ports = policy::parse_port_spec(raw.host_service_ports);
    } catch (const std::invalid_argument& error) {
      throw UsageError(std::string("--allow-host-service-ports: ") + error.what());
    }
    options.enable_host_access = true;
  }
  if (!raw.host_ports.empty()) {
    if (!raw.host_access) {
      throw UsageError("--allow-host-ports needs --enable-host-access");
    }
    try {
      options.host_ports = policy::parse_port_spec(raw.host_ports);
    } catch (const std::invalid_argument& error) {
      throw UsageError(std::string("--allow-host-ports: ") + error.what());
    }
  }
  // Service ports are host ports that need no --enable-host-access of their own.
  options.host_ports.insert(options.host_ports.end(), options.host_service_ports.begin(),
                            options.host_service_ports.end());
}

void convert_api_proxy(const CLI::App& app, const RawValues& raw, Options& options) {
  options.enable_api_proxy = raw.api_proxy;
  for (const proxy::ProviderInfo& provider : proxy::providers()) {
    const std::size_t index = static_cast<std::size_t>(provider.id);
    const std::string target_flag = "--" + std::string(provider.name) + "-api-target";
    if (app.count(target_flag) > 0) {
      try {
        options.api_targets[index] = proxy::parse_api_target(raw.api_targets[index]);
      } catch (const std::invalid_argument& error) {
        throw UsageError(target_flag + " '" + raw.api_targets[index] + "': " + error.what());
      }
    }
    const std::string path_flag = "--" + std::string(provider.name) + "-api-base-path";
    if (provider.has_base_path_flag && app.count(path_flag) > 0) {
      try {
        options.api_base_paths[index] = proxy::normalize_base_path(raw.api_base_paths[index]);
      } catch (const std::invalid_argument& error) {
        throw UsageError(path_flag + " '" + raw.api_base_paths[index] + "': " + error.what());
      }
    }
  }
  if (app.count("--api-proxy-ca-file") > 0) {
    if (raw.api_ca_file.empty()) throw UsageError("--api-proxy-ca-file: empty path");
    options.api_proxy_ca_file = absolute_path(raw.api_ca_file);
  }
}

void convert_ssl_bump(const CLI::App& app, const RawValues& raw, Options& options) {
  options.ssl_bump = raw.ssl_bump;
  if (!raw.allow_urls.empty() && !raw.ssl_bump) {
    throw UsageError("--allow-urls needs --ssl-bump (URL paths are visible only inside TLS)");
  }
  try {
    options.allow_urls = policy::parse_url_patterns(raw.allow_urls);
  } catch (const policy::PolicyError& error) {
    throw UsageError(error.what());
  }
  if (app.count("--ssl-bump-ca-file") > 0) {
    if (raw.bump_ca_file.empty()) throw UsageError("--ssl-bump-ca-file: empty path");
    if (!raw.ssl_bump) throw UsageError("--ssl-bump-ca-file needs --ssl-bump");
    options.ssl_bump_ca_file = absolute_path(raw.bump_ca_file);
  }
}

// AWF's `localhost` keyword: not a domain, but host access on the usual dev-server ports.
void take_localhost_keyword(Options& options) {
  std::erase_if(options.allow_domains, [&](const std::string& entry) {
    if (entry != "localhost") return false;
    options.localhost_keyword = true;
    return true;
  });
  if (!options.localhost_keyword) return;
  options.enable_host_access = true;
  if (options.host_ports.empty()) {
    for (const std::uint16_t port : kDevServerPorts) options.host_ports.push_back({port, port});
    options.host_ports_from_keyword = true;
  }
}

void record_docker_flags(const CLI::App& app, Options& options) {
  for (const CLI::Option* option : app.get_options()) {
    if (option->get_group() == kDockerGroup && option->count() > 0) {
      options.docker_only_flags.push_back(option->get_name(false, true));
    }
  }
}

Options convert(const CLI::App& app, const RawValues& raw) {
  Options options;
  options.command = app.remaining();
  if (!options.command.empty() && options.command.front() == "--") {
    options.command.erase(options.command.begin());
  } else if (!options.command.empty() && options.command.front().starts_with('-')) {
    throw UsageError("unknown option '" + options.command.front() + "'");
  }
  if (options.command.empty()) {
    throw UsageError("no command given (usage: awf [options] -- <command> [args...])");
  }
  if (options.command.size() == 1) {
    options.command = {"/bin/bash", "-c", options.command.front()};
  }
  try {
    if (app.count("--memory-limit") > 0) {
      options.limits.memory_bytes = sandbox::parse_memory_limit(raw.memory_limit);
      options.limits.memory_explicit = true;
    }
    if (app.count("--pids-limit") > 0) {
      options.limits.pids = sandbox::parse_pids_limit(raw.pids_limit);
      options.limits.pids_explicit = true;
    }
  } catch (const std::invalid_argument& error) {
    throw UsageError(error.what());
  }
  append_split(options.allow_domains, raw.allow);
  append_split(options.block_domains, raw.block);
  options.allow_domain_files = raw.allow_files;
  options.block_domain_files = raw.block_files;
  options.ruleset_files = raw.rulesets;
  options.enable_dlp = raw.enable_dlp;
  convert_environment(raw, options);
  convert_filesystem(app, raw, options);
  convert_network(app, raw, options);
  convert_api_proxy(app, raw, options);
  convert_ssl_bump(app, raw, options);
  take_localhost_keyword(options);
  options.proxy_logs_dir = raw.proxy_logs_dir;
  options.audit_dir = raw.audit_dir;
  options.session_state_dir = raw.session_state_dir;
  options.diagnostic_logs = raw.diagnostic_logs;
  if (raw.log_level != "debug" && raw.log_level != "info" && raw.log_level != "warn" &&
      raw.log_level != "error") {
    throw UsageError("--log-level '" + raw.log_level + "': expected debug, info, warn or error");
  }
  options.log_level = raw.log_level == "debug"   ? LogLevel::Debug
                      : raw.log_level == "warn"  ? LogLevel::Warn
                      : raw.log_level == "error" ? LogLevel::Error
                                                 : LogLevel::Info;
  record_docker_flags(app, options);
  return options;
}

// CLI11 takes its words in reverse order.
void parse_words(CLI::App& app, std::vector<std::string> words) {
  std::reverse(words.begin(), words.end());
  app.parse(words);
}

}  // namespace

ParseResult parse_options(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  RawValues raw;
  std::unique_ptr<CLI::App> app = make_app(raw);
  try {
    parse_words(*app, args);
    if (!raw.config.empty()) {
      // Settings from the file go first, then the command line again: a fresh parse keeps
      // "the command line wins" true for lists too (the file's list is not merged into it).
      std::vector<std::string> words = config_words(raw.config, *app);
      words.insert(words.end(), args.begin(), args.end());
      raw = RawValues{};
      app = make_app(raw);
      parse_words(*app, words);
    }
  } catch (const CLI::CallForHelp&) {
    std::cout << app->help();
    return {std::nullopt, 0};
  } catch (const CLI::CallForVersion&) {
    std::cout << "awf " << AWF_VERSION << "\n";
    return {std::nullopt, 0};
  } catch (const CLI::ParseError& error) {
    throw UsageError(error.what());
  }
  Options options = convert(*app, raw);
  options.argv = args;
  return {std::move(options), 0};
}

std::unique_ptr<CLI::App> describe_options() {
  // The raw values must outlive the App: keep them with it.
  struct DescribedApp : CLI::App {
    RawValues raw;
    DescribedApp() : CLI::App(kDescription, "awf") {}
  };
  auto app = std::make_unique<DescribedApp>();
  app->footer(kFooter);
  app->formatter(std::make_shared<HelpFormatter>());
  define_flags(*app, app->raw);
  return app;
}

}  // namespace awf::cli
