#include "cli/audit_files.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace awf::cli {
namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kRedacted = "***";

std::string upper(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return out;
}

// A command-line word with a secret in it: "-e TOKEN=x", "--env=TOKEN=x", "-eTOKEN=x", a
// URL's password.
std::string redact_word(const std::string& word) {
  const std::string_view text = word.starts_with("--env=") ? std::string_view(word).substr(6)
                                : word.starts_with("-e") && !word.starts_with("-e=")
                                    ? std::string_view(word).substr(2)
                                    : std::string_view(word);
  if (const auto eq = text.find('='); eq != std::string_view::npos && !text.starts_with("-")) {
    if (looks_secret(text.substr(0, eq))) {
      return std::string(word.substr(0, word.size() - (text.size() - eq - 1))) + kRedacted;
    }
  }
  return redact_url(word);
}

Json port_ranges(const std::vector<policy::PortRange>& ranges) {
  Json out = Json::array();
  for (const policy::PortRange& range : ranges) {
    out.push_back(range.first == range.last
                      ? std::to_string(range.first)
                      : std::to_string(range.first) + "-" + std::to_string(range.last));
  }
  return out;
}

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Info:
      return "info";
    case LogLevel::Warn:
      return "warn";
    case LogLevel::Error:
      return "error";
  }
  return "info";
}

}  // namespace

std::string policy_manifest_json(const policy::Policy& policy) {
  Json rules = Json::array();
  for (const policy::RuleInfo& rule : policy.rules()) {
    rules.push_back(Json{{"id", rule.id},
                         {"action", rule.block ? "block" : "allow"},
                         {"domain", rule.entry},
                         {"subdomains", !rule.exact}});
  }
  Json manifest{{"version", 1}, {"default", "deny"}, {"rules", std::move(rules)}};
  return manifest.dump(2, ' ', true, Json::error_handler_t::replace) + "\n";
}

bool looks_secret(std::string_view name) {
  const auto& secrets = secret_env_names();
  if (std::find(secrets.begin(), secrets.end(), name) != secrets.end()) return true;
  const std::string text = upper(name);
  for (const char* marker : {"TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASS", "KEY", "AUTH",
                             "CREDENTIAL", "COOKIE", "SESSION", "PRIVATE"}) {
    if (text.find(marker) != std::string::npos) return true;
  }
  return false;
}

std::string redact_url(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const auto host_start = scheme + 3;
  const auto at = url.find('@', host_start);
  const auto slash = url.find('/', host_start);
  if (at == std::string_view::npos || (slash != std::string_view::npos && slash < at)) {
    return std::string(url);
  }
  const auto colon = url.find(':', host_start);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + kRedacted + std::string(url.substr(at));
}

std::string resolved_config_json(const Options& o) {
  Json env = Json::object();
  for (const EnvEntry& entry : o.env) {
    env[entry.first] = looks_secret(entry.first) ? kRedacted : entry.second;
  }
  Json mounts = Json::array();
  for (const MountSpec& mount : o.mounts) {
    mounts.push_back(mount.host + ":" + mount.container + (mount.read_only ? ":ro" : ":rw"));
  }
  Json argv = Json::array();
  for (const std::string& word : o.argv) argv.push_back(redact_word(word));
  Json config{
      {"allow_domains", o.allow_domains},
      {"block_domains", o.block_domains},
      {"allow_domains_files", o.allow_domain_files},
      {"block_domains_files", o.block_domain_files},
      {"ruleset_files", o.ruleset_files},
      {"enable_dlp", o.enable_dlp},
      {"env", std::move(env)},
      {"env_all", o.env_all},
      {"env_files", o.env_files},
      {"exclude_env", o.exclude_env},
      {"tty", o.tty},
      {"mounts", std::move(mounts)},
      {"container_workdir", o.container_workdir},
      {"work_dir", o.work_dir},
      {"keep_containers", o.keep_work_dir},
      {"user", o.user},
      {"memory_limit_bytes", o.limits.memory_bytes},
      {"pids_limit", o.limits.pids},
      {"agent_timeout_minutes", o.agent_timeout_minutes},
      {"dns_servers", o.dns_servers},
      {"upstream_proxy", redact_url(o.upstream_proxy)},
      {"enable_host_access", o.enable_host_access},
      {"allow_host_ports", port_ranges(o.host_ports)},
      {"proxy_logs_dir", o.proxy_logs_dir},
      {"audit_dir", o.audit_dir},
      {"log_level", level_name(o.log_level)},
      {"command", o.command},
      {"argv", std::move(argv)},
  };
  return config.dump(2, ' ', true, Json::error_handler_t::replace) + "\n";
}

}  // namespace awf::cli
