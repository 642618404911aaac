// The run's self-description for --audit-dir (and the log directory): the policy manifest,
// which `awf logs audit` uses to name the rule behind each record, and the resolved
// configuration with secret values redacted. Pure: JSON text from values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cli/options.h"
#include "policy/policy.h"

namespace awf::cli {

// The facts of a run the policy manifest states beside the domain rules.
struct ManifestFacts {
  std::int64_t generated_ms = 0;         // "generatedAt"
  std::vector<std::string> dns_servers;  // the upstream resolvers awf asks ("1.2.3.4", "[v6]:5353")
  bool ssl_bump = false;
  bool dlp = false;
  bool host_access = false;
  std::vector<policy::PortRange> host_ports;  // --allow-host-ports ("allowHostPorts")
  // Peers reachable by name (--topology-attach): allowed on any port before every other rule.
  std::vector<std::string> topology_peers;
};

// AWF's policy manifest v1 (docs/logs.md): the rules in evaluation order (block entries before
// allow entries, then the default deny), each of awf's carrying "rule", the number audit.jsonl
// records name, and "entry", the entry as written.
std::string policy_manifest_json(const policy::Policy& policy, const ManifestFacts& facts);

// Resolver::servers_text() ("203.0.113.53:53, [2001:db8::1]:5353") as the manifest lists them:
// the port only when it is not 53.
std::vector<std::string> dns_server_list(std::string_view servers_text);

// Whether a variable's value must not be written down: awf's secret names, and names that
// say what they hold (TOKEN, SECRET, PASSWORD, KEY, AUTH, CREDENTIAL, ...).
bool looks_secret(std::string_view name);

// "http://user:pass@host:3128" -> "http://user:***@host:3128".
std::string redact_url(std::string_view url);

// Every option after parsing, as JSON: -e values of secret-looking names, userinfo passwords
// and the raw command line (which may hold either) are redacted.
std::string resolved_config_json(const Options& options);

}  // namespace awf::cli
