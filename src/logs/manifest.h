// policy-manifest.json, written by awf into a run's log directory (and --audit-dir) in AWF's v1
// form: {"version":1,"generatedAt":..,"rules":[{"id":"allow-1","order":5,"action":"allow",
// "aclName":"allowed_domains","protocol":"both","domains":[".github.com"],"description":..,
// "rule":1,"entry":"github.com"}],"dangerousPorts":[..],"dnsServers":[..],...}. awf's rules carry
// "rule", the number audit.jsonl records name in their own "rule" key.
// Also read: the form earlier awf versions wrote,
//   {"version":1,"default":"deny","rules":[{"id":1,"action":"allow","domain":"github.com"}]}
// and AWF's own manifests (string ids, no "rule"). Pure: parsing only. Unknown keys are
// ignored, so later versions stay readable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace awf::logs {

struct ManifestRule {
  std::string id;          // "allow-1", "deny-default"; an earlier awf's number as text
  std::uint32_t rule = 0;  // the number audit records name; 0 for a rule they never name
  std::uint32_t order = 0;
  std::string action;                // "allow" or "deny" ("block" in an earlier awf's manifest)
  std::string protocol;              // "http", "https", "both"; "" when not said
  std::vector<std::string> domains;  // Squid form: ".github.com", "exact.host", "^regex$"
  std::string description;
  std::string entry;  // the entry as the user wrote it ("" for AWF's own rules)
};

struct Manifest {
  std::string default_action = "deny";
  std::vector<ManifestRule> rules;

  // The rule audit records name by this number, or nullptr.
  const ManifestRule* find(std::uint32_t rule) const;
};

// nullopt when the text is not a manifest (not JSON, a rule without an id or an action, ...).
std::optional<Manifest> parse_manifest(std::string_view text);

}  // namespace awf::logs
