#include "cli/run_policy.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "audit/log_writer.h"
#include "cli/audit_files.h"
#include "cli/config_file.h"
#include "common/error.h"
#include "policy/address_class.h"
#include "policy/domain_list.h"
#include "policy/host_access.h"
#include "proxy/client_tls.h"

namespace awf::cli {

std::string read_input_file(const std::string& path, const char* flag) {
  struct stat info {};
  if (stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    throw UsageError(std::string(flag) + " '" + path + "': is a directory; name a file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    throw UsageError(std::string(flag) + " '" + path + "': cannot read the file (" +
                     std::strerror(errno) + ")");
  }
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) throw UsageError(std::string(flag) + " '" + path + "': cannot read the file");
  return contents.str();
}

namespace {

void add_file_entries(const std::vector<std::string>& paths, const char* flag,
                      std::vector<std::string>& entries) {
  for (const std::string& path : paths) {
    for (std::string& entry : policy::parse_domain_file(read_input_file(path, flag))) {
      entries.push_back(std::move(entry));
    }
  }
}

// --ruleset-file: entries with subdomains join the allowlist, the others are exact names.
void add_ruleset_entries(const Options& options, std::vector<std::string>& allow,
                         std::vector<std::string>& exact) {
  for (const std::string& path : options.ruleset_files) {
    std::vector<RulesetRule> rules;
    try {
      rules = parse_ruleset(read_input_file(path, "--ruleset-file"));
    } catch (const std::invalid_argument& error) {
      throw UsageError("--ruleset-file '" + path + "': " + error.what());
    }
    for (RulesetRule& rule : rules) {
      (rule.subdomains ? allow : exact).push_back(std::move(rule.domain));
    }
  }
}

}  // namespace

policy::Policy build_policy(const Options& options, const std::vector<std::string>& extra_allow) {
  std::vector<std::string> allow = options.allow_domains;
  allow.insert(allow.end(), extra_allow.begin(), extra_allow.end());
  std::vector<std::string> block = options.block_domains;
  add_file_entries(options.allow_domain_files, "--allow-domains-file", allow);
  add_file_entries(options.block_domain_files, "--block-domains-file", block);
  std::vector<std::string> exact;
  add_ruleset_entries(options, allow, exact);
  try {
    return policy::Policy::build(allow, block, exact);
  } catch (const policy::PolicyError& error) {
    throw UsageError(error.what());
  }
}

namespace {

// "https://127.0.0.1:443/" -> "127.0.0.1"; "[::1]" -> "::1"; "" when not an address.
std::string address_of_entry(std::string_view entry) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (entry.starts_with(scheme)) entry.remove_prefix(scheme.size());
  }
  if (const std::size_t slash = entry.find('/'); slash != std::string_view::npos) {
    entry = entry.substr(0, slash);
  }
  if (std::string literal = policy::canonical_ip_literal(entry); !literal.empty()) return literal;
  const std::size_t colon = entry.rfind(':');
  if (colon == std::string_view::npos) return "";
  return policy::canonical_ip_literal(entry.substr(0, colon));
}

std::optional<std::string> internal_reason_of(const std::string& literal) {
  in_addr v4{};
  if (inet_pton(AF_INET, literal.c_str(), &v4) == 1) return policy::internal_address_reason(v4);
  in6_addr v6{};
  if (inet_pton(AF_INET6, literal.c_str(), &v6) == 1) return policy::internal_address_reason(v6);
  return std::nullopt;
}

}  // namespace

void warn_about_policy(const Options& options, const policy::Policy& policy) {
  if (options.log_level > LogLevel::Warn) return;
  for (const std::string& entry : options.allow_domains) {
    const std::string literal = address_of_entry(entry);
    const auto reason = literal.empty() ? std::nullopt : internal_reason_of(literal);
    if (!reason) continue;
    std::fprintf(stderr,
                 "awf: warning: --allow-domains %s is an internal address (%s): the command "
                 "reaches what listens there on ports 80 and 443, from the host's network\n",
                 entry.c_str(), reason->c_str());
  }
  if (options.enable_host_access && policy::blocks_host_access(policy)) {
    std::fprintf(stderr,
                 "awf: warning: a --block-domains entry covers %s: --enable-host-access is off "
                 "for this run (block beats allow)\n",
                 std::string(policy::kHostAccessName).c_str());
  }
}

DnsSettings dns_settings(const Options& options) {
  DnsSettings dns;
  for (const std::string& server : options.dns_servers) {
    try {
      dns.servers.push_back(dns::dns_server_entry(server));
    } catch (const std::invalid_argument& error) {
      throw UsageError(std::string("--dns-servers: ") + error.what());
    }
  }
  if (!options.dns_over_https.empty()) {
    try {
      dns.doh = dns::parse_doh_url(options.dns_over_https);
    } catch (const std::invalid_argument& error) {
      throw UsageError("--dns-over-https '" + options.dns_over_https + "': " + error.what() +
                       " (expected https://host[:port]/path, e.g. https://dns.google/dns-query)");
    }
  }
  return dns;
}

void use_dns_over_https(dns::Resolver& resolver, const DnsSettings& dns, const Options& options) {
  if (!dns.doh) return;
  // The same verification as the API proxy's upstream TLS (system trust store, which
  // honours SSL_CERT_FILE / SSL_CERT_DIR).
  const auto tls = proxy::make_client_tls("", "--dns-over-https");
  resolver.send_over_https(*dns.doh, std::shared_ptr<boost::asio::ssl::context>(tls, &tls->context),
                           options.log_level <= LogLevel::Warn);
}

std::string run_manifest(const Options& options, const policy::Policy& policy,
                         const dns::Resolver& resolver, const std::vector<peers::Peer>& peers) {
  ManifestFacts facts;
  facts.generated_ms = audit::now_ms();
  facts.dns_servers = dns_server_list(resolver.servers_text());
  facts.ssl_bump = options.ssl_bump;
  facts.dlp = options.enable_dlp;
  facts.host_access = options.enable_host_access;
  facts.host_ports = options.host_ports;
  for (const peers::Peer& peer : peers) facts.topology_peers.push_back(peer.name);
  return policy_manifest_json(policy, facts);
}

}  // namespace awf::cli
