#include "cli/audit_files.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <utility>

#include "audit/audit_record.h"
#include "policy/host_access.h"
#include "policy/port_spec.h"

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

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// An ACL name's tail: letters and digits kept, anything else '_'.
std::string acl_suffix(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return out;
}

// "80,443,3000-3010", as the flag is written.
std::string port_list(const std::vector<policy::PortRange>& ranges) {
  std::string out;
  for (const Json& range : port_ranges(ranges)) {
    out += (out.empty() ? "" : ",") + range.get<std::string>();
  }
  return out;
}

// A glob's '*' as AWF turns it into a Squid regex: any run of host-name characters.
std::string wildcard_regex(std::string_view host) {
  std::string out = "^";
  for (const char c : host) {
    if (c == '*') {
      out += "[a-zA-Z0-9.-]*";
    } else {
      if (std::string_view("\\^$.|?+()[]{}").find(c) != std::string_view::npos) out += '\\';
      out += c;
    }
  }
  return out + "$";
}

bool is_ip_literal(std::string_view host) {
  return host.find(':') != std::string_view::npos ||
         host.find_first_not_of("0123456789./") == std::string_view::npos;
}

// One policy entry as AWF's manifest states a Squid ACL: the protocol its prefix limits it to
// (allow entries only: the blocklist ignores prefixes) and the host in Squid's form (".x.com"
// for x.com and its subdomains, "x.com" for the name only, a regex for a wildcard).
struct SquidEntry {
  std::string protocol = "both";
  std::string domain;
  bool regex = false;
};

SquidEntry squid_entry(const policy::RuleInfo& rule) {
  SquidEntry out;
  std::string text = lower(rule.entry);
  for (const auto& [prefix, protocol] : {std::pair{"http://", "http"}, {"https://", "https"}}) {
    if (text.starts_with(prefix)) {
      text.erase(0, std::string_view(prefix).size());
      if (!rule.block) out.protocol = protocol;
    }
  }
  // A URL pattern's path is not part of the host ACL; its description keeps the whole entry.
  if (!is_ip_literal(text.substr(0, text.find('/')))) text = text.substr(0, text.find('/'));
  if (text.ends_with('.')) text.pop_back();
  if (text.size() > 1 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.find('*') != std::string::npos) {
    out.domain = wildcard_regex(text);
    out.regex = true;
  } else if (rule.exact || is_ip_literal(text)) {
    out.domain = text;
  } else {
    out.domain = "." + text;
  }
  return out;
}

// The manifest's rules array, numbered in evaluation order.
struct Rules {
  Json json = Json::array();

  Json& add(const std::string& id, const char* action, const std::string& acl,
            const std::string& protocol, std::vector<std::string> domains,
            const std::string& description) {
    json.push_back(Json{{"id", id},
                        {"order", json.size() + 1},
                        {"action", action},
                        {"aclName", acl},
                        {"protocol", protocol},
                        {"domains", std::move(domains)},
                        {"description", description}});
    return json.back();
  }

  void add_entry(const policy::RuleInfo& rule) {
    const SquidEntry squid = squid_entry(rule);
    const std::string number = std::to_string(rule.id);
    std::string acl = rule.block                  ? "blocked_domains"
                      : squid.protocol == "http"  ? "allowed_http_only"
                      : squid.protocol == "https" ? "allowed_https_only"
                                                  : "allowed_domains";
    if (squid.regex) acl += "_regex";
    const std::string what = squid.protocol == "both" ? "" : " (" + squid.protocol + " only)";
    Json& added = add((rule.block ? "deny-blocked-" : "allow-") + number,
                      rule.block ? "deny" : "allow", acl, squid.protocol, {squid.domain},
                      (rule.block ? "Deny '" : "Allow '") + rule.entry + "'" + what +
                          (rule.exact ? ", not its subdomains" : ""));
    added["rule"] = rule.id;
    added["entry"] = rule.entry;
  }
};

}  // namespace

std::string policy_manifest_json(const policy::Policy& policy, const ManifestFacts& facts) {
  Rules rules;
  for (const std::string& peer : facts.topology_peers) {
    rules.add("allow-topology-peer-" + peer, "allow", "topology_peer_" + acl_suffix(peer), "both",
              {"." + lower(peer)},
              "Allow topology peer '" + peer + "' on any port (--topology-attach)");
  }
  rules.add("deny-unsafe-ports", "deny", "!Safe_ports", "both", {},
            "Connections to ports other than 80 and 443 (and --allow-host-ports to the host) "
            "reach nothing: refused, logged as blocked attempts");
  if (facts.dlp) {
    rules.add("deny-dlp", "deny", "dlp_blocked", "both", {},
              "Deny requests and DNS names carrying a credential-shaped string (--enable-dlp)");
  }
  const std::vector<policy::RuleInfo> entries = policy.rules();
  // Block entries win over allow entries whatever their ids: they come first.
  for (const policy::RuleInfo& rule : entries) {
    if (rule.block) rules.add_entry(rule);
  }
  if (facts.host_access) {
    rules.add(
        "allow-host-access", "allow", "host_access", "both", {std::string(policy::kHostAccessName)},
        "Allow the host as " + std::string(policy::kHostAccessName) + " (--enable-host-access)");
  }
  for (const policy::RuleInfo& rule : entries) {
    if (!rule.block) rules.add_entry(rule);
  }
  rules.add("deny-raw-ipv4", "deny", "dst_ipv4", "both", {"^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$"},
            "Deny raw IPv4 addresses not in the allowlist (they bypass domain filtering)");
  rules.add("deny-raw-ipv6", "deny", "dst_ipv6", "both", {"^\\[?[0-9a-fA-F:]+\\]?$"},
            "Deny raw IPv6 addresses not in the allowlist (they bypass domain filtering)");
  rules.add("deny-default", "deny", "all", "both", {},
            "Deny all traffic not matching any allow rule (default deny)");

  Json dangerous = Json::array();
  for (const std::uint16_t port : policy::dangerous_ports()) dangerous.push_back(port);
  Json manifest{
      {"version", 1},
      {"generatedAt", audit::format_timestamp(facts.generated_ms)},
      {"rules", std::move(rules.json)},
      {"dangerousPorts", std::move(dangerous)},
      {"dnsServers", facts.dns_servers},
      {"sslBumpEnabled", facts.ssl_bump},
      {"dlpEnabled", facts.dlp},
      {"hostAccessEnabled", facts.host_access},
      {"allowHostPorts",
       facts.host_ports.empty() ? Json(nullptr) : Json(port_list(facts.host_ports))},
      {"topologyPeers", facts.topology_peers},
  };
  return manifest.dump(2, ' ', true, Json::error_handler_t::replace) + "\n";
}

std::vector<std::string> dns_server_list(std::string_view servers_text) {
  std::vector<std::string> servers;
  while (!servers_text.empty()) {
    const auto comma = servers_text.find(',');
    std::string_view server = servers_text.substr(0, comma);
    servers_text = comma == std::string_view::npos ? "" : servers_text.substr(comma + 1);
    while (server.starts_with(' ')) server.remove_prefix(1);
    if (server.empty()) continue;
    if (server.ends_with(":53")) {
      server.remove_suffix(3);
      if (server.starts_with('[') && server.ends_with(']')) {
        server = server.substr(1, server.size() - 2);
      }
    }
    servers.emplace_back(server);
  }
  return servers;
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
