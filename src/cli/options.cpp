#include "cli/options.h"

#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <iterator>
#include <stdexcept>

#include "cli/awf_config.h"
#include "cli/config_file.h"
#include "cli/config_words.h"
#include "cli/flag_table.h"
#include "cli/parse_errors.h"
#include "cli/pending_options.h"
#include "policy/domain_list.h"
#include "policy/policy.h"
#include "sandbox/shown_path.h"

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
    "       awf completion bash|zsh|fish | awf man | awf predownload";

constexpr const char* kFooter =
    "\nExamples:\n"
    "  awf --allow-domains github.com -- curl https://api.github.com/zen\n"
    "  awf -d 'github.com,*.githubusercontent.com' --block-domains gist.github.com \\\n"
    "      --container-workdir \"$PWD\" -- ./agent.sh\n\n"
    "Exit status: the command's own; 1 for awf's errors; 124 when --agent-timeout stopped it;\n"
    "130/143 when awf is interrupted.\n"
    "Docs: docs/user-guide.md";

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
  std::vector<std::string> sockets;  // -v targets that are Unix sockets
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
    if (const std::optional<std::string> why = unsafe_symlink_in(mount.host)) {
      throw UsageError("-v/--mount '" + text + "': " + *why +
                       "; mount the link's target by a path without it, or move the link to "
                       "a directory only you can write");
    }
    if (S_ISSOCK(st.st_mode)) sockets.push_back(mount.container);  // bound by name: allowed
    options.mounts.push_back(std::move(mount));
  }
  for (const std::string& path : raw.allow_unix_sockets) {
    if (!path.starts_with('/')) {
      throw UsageError("--allow-unix-socket '" + path +
                       "': name the socket by its absolute path as the command sees it (e.g. "
                       "/var/run/docker.sock)");
    }
    options.allow_unix_sockets.push_back(path);
  }
  options.allow_unix_sockets.insert(options.allow_unix_sockets.end(), sockets.begin(),
                                    sockets.end());
  for (const std::string& path : raw.allow_git_write) {
    char resolved[PATH_MAX];
    struct stat st {};
    if (realpath(path.c_str(), resolved) == nullptr || stat(resolved, &st) < 0 ||
        !S_ISDIR(st.st_mode)) {
      throw UsageError("--allow-git-write '" + path +
                       "': not an existing directory (name the workspace or a -v host path)");
    }
    options.allow_git_write.emplace_back(resolved);
  }
  for (const std::string& dir : raw.persist_home_dirs) {
    if (!sandbox::is_persistable_home_dir(dir)) {
      throw UsageError("--persist-home-dir '" + dir +
                       "': name a HOME tool directory relative to HOME, like .npm or .cache/pip "
                       "(under .cache .config .local .cargo .rustup .npm .nvm .azure .anthropic "
                       ".claude .copilot .gemini)");
    }
    options.persist_home_dirs.push_back(dir);
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

// As AWF, service ports may name a dangerous port (the job's database service): said aloud.
void warn_dangerous_service_ports(Options& options) {
  for (const policy::PortRange& range : options.host_service_ports) {
    for (const std::uint16_t port : policy::dangerous_ports()) {
      if (!range.contains(port)) continue;
      options.notices.push_back("awf: warning: --allow-host-service-ports opens port " +
                                std::to_string(port) +
                                " of the host, which is on the dangerous-ports list (the "
                                "command reaches whatever serves it there)");
    }
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
      options.host_service_ports =
          policy::parse_port_spec(raw.host_service_ports, policy::DangerousPorts::Allowed);
    } catch (const std::invalid_argument& error) {
      throw UsageError(std::string("--allow-host-service-ports: ") + error.what());
    }
    options.enable_host_access = true;
    warn_dangerous_service_ports(options);
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

// An HTTP field name (RFC 9110 token) other than the hop-by-hop and framing ones: the key's
// header must reach the provider as it is.
std::string auth_header_name(const std::string& flag, const std::string& text) {
  const bool token = !text.empty() && text.find_first_not_of(
                                          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789!#$%&'*+-.^_`|~") == std::string::npos;
  if (!token) {
    throw UsageError(flag + " '" + text + "': not a header name (letters, digits, '-')");
  }
  for (const char* reserved : {"host", "content-length", "transfer-encoding", "connection",
                               "upgrade", "te", "trailer", "keep-alive", "cookie"}) {
    if (strcasecmp(text.c_str(), reserved) == 0) {
      throw UsageError(flag + " '" + text + "': this header cannot carry the key");
    }
  }
  return text;
}

void convert_api_auth(const CLI::App& app, const RawValues& raw, Options& options) {
  const auto index = [](proxy::Provider id) { return static_cast<std::size_t>(id); };
  if (app.count("--openai-api-auth-header") > 0) {
    options.api_auth_headers[index(proxy::Provider::OpenAi)] =
        auth_header_name("--openai-api-auth-header", raw.openai_auth_header);
  }
  if (app.count("--anthropic-api-auth-header") > 0) {
    options.api_auth_headers[index(proxy::Provider::Anthropic)] =
        auth_header_name("--anthropic-api-auth-header", raw.anthropic_auth_header);
  }
  if (app.count("--openai-base-url-env") > 0) {
    if (!is_valid_env_name(raw.openai_base_url_env)) {
      throw UsageError("--openai-base-url-env '" + raw.openai_base_url_env +
                       "': not a valid variable name (letters, digits and '_', not starting "
                       "with a digit)");
    }
    options.openai_base_url_env = raw.openai_base_url_env;
  }
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
  convert_api_auth(app, raw, options);
  if (app.count("--api-proxy-ca-file") > 0) {
    if (raw.api_ca_file.empty()) throw UsageError("--api-proxy-ca-file: empty path");
    options.api_proxy_ca_file = absolute_path(raw.api_ca_file);
    if (access(options.api_proxy_ca_file.c_str(), R_OK) != 0) {
      throw UsageError("--api-proxy-ca-file '" + raw.api_ca_file + "': cannot read the file (" +
                       std::strerror(errno) + ")");
    }
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

std::string shown_name(const CLI::Option& option, const Origins& origins) {
  const std::string name = long_name(option);
  const auto origin = origins.find(name);
  return origin == origins.end() ? name : "config." + origin->second;
}

void record_notices(const CLI::App& app, const Origins& origins, Options& options) {
  for (const CLI::Option* option : app.get_options()) {
    const FlagNote* note = flag_note(*option);
    if (!note || option->count() == 0) continue;
    options.notices.push_back("awf: " + shown_name(*option, origins) +
                              (note->kind == FlagNote::Kind::NoEffect
                                   ? " has no effect in awf: "
                                   : " is not yet built in awf: ") +
                              std::string(note->why));
  }
}

// --container-runtime: awf has one runtime, its namespace sandbox. A microVM cannot be
// pretended: refused before anything starts.
void check_runtime(const CLI::App& app, const RawValues& raw, const Origins& origins,
                   Options& options) {
  if (app.count("--container-runtime") == 0) return;
  const std::string name = shown_name(*app.get_option("--container-runtime"), origins);
  const std::string& runtime = raw.container_runtime;
  if (runtime == "cloud-hypervisor" || runtime == "nvx") {
    throw std::runtime_error(name + " " + runtime +
                             " asks for a microVM; awf provides Linux namespaces and seccomp, "
                             "not a VM. Run without it to use awf's sandbox");
  }
  std::string instead;
  if (runtime == "docker") {
    instead = "awf runs the command in its own namespace sandbox, not in a Docker container";
  } else if (runtime == "gvisor" || runtime == "sbx") {
    instead =
        "awf provides Linux namespaces and a seccomp filter, not " +
        std::string(runtime == "gvisor" ? "gVisor's user-space kernel" : "Docker sbx's microVM");
  } else {
    throw UsageError(name + " '" + runtime +
                     "': expected docker, gvisor, sbx, cloud-hypervisor or nvx");
  }
  options.notices.push_back("awf: " + name + " " + runtime + ": " + instead);
}

// AWF's deprecated and removed spellings.
void check_deprecated(const CLI::App& app, const RawValues& raw) {
  if (raw.no_api_proxy) {
    throw UsageError(
        "--no-enable-api-proxy is not allowed (the API proxy cannot be turned off); remove it");
  }
  if (app.count("--security-mode") > 0 && raw.security_mode != "strict" &&
      raw.security_mode != "compat") {
    throw UsageError("--security-mode '" + raw.security_mode + "': expected strict or compat");
  }
}

void convert_limits(const CLI::App& app, const RawValues& raw, Options& options) {
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
}

void convert_logging(const RawValues& raw, Options& options) {
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
}

// The command: everything from `--` or the first word that is not a flag.
std::vector<std::string> command_of(const CLI::App& app, const RawValues& raw) {
  std::vector<std::string> command = app.remaining();
  if (!command.empty() && command.front() == "--") {
    command.erase(command.begin());
  } else if (!command.empty() && command.front().starts_with('-')) {
    throw UsageError(unknown_option_message(app, command.front()));
  }
  if (raw.reflect) {
    if (!command.empty()) throw UsageError("--reflect cannot be used with a command");
    return command;
  }
  if (command.empty()) {
    throw UsageError("no command given (usage: awf [options] -- <command> [args...])");
  }
  return command;
}

Options convert(const CLI::App& app, const RawValues& raw, Options options,
                const Origins& origins) {
  check_deprecated(app, raw);
  options.command = command_of(app, raw);
  options.reflect = raw.reflect;
  check_runtime(app, raw, origins, options);
  if (options.command.size() == 1) {
    options.command = {"/bin/bash", "-c", options.command.front()};
  }
  convert_limits(app, raw, options);
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
  convert_logging(raw, options);
  options.pending = convert_pending(app, raw, std::move(options.pending.api_proxy_config));
  try {
    options.model_policy = proxy::parse_model_policy(options.pending.api_proxy_config);
  } catch (const std::invalid_argument& error) {
    throw UsageError("--config: " + std::string(error.what()));
  }
  record_notices(app, origins, options);
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
  Options options;
  Origins origins;
  try {
    parse_words(*app, args);
    if (!raw.config.empty()) {
      // Settings from the file go first, then the command line again: a fresh parse keeps
      // "the command line wins" true for lists too (the file's list is not merged into it).
      std::vector<std::string> words = config_words(raw.config, *app, origins, options);
      words.insert(words.end(), args.begin(), args.end());
      raw = RawValues{};
      app = make_app(raw);
      parse_words(*app, words);
    }
  } catch (const CLI::CallForHelp&) {
    std::cout << app->help();
    return {std::nullopt, 0};
  } catch (const CLI::CallForVersion&) {
    std::cout << "awf " << AWF_VERSION << " (AWF v0.28 interface)\n";
    return {std::nullopt, 0};
  } catch (const CLI::ParseError& error) {
    throw UsageError(explain_parse_error(error));
  }
  options = convert(*app, raw, std::move(options), origins);
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
