// policy-manifest.json, written by awf into a run's log directory: the rules with the ids that
// audit.jsonl records name in their "rule" key.
//   {"version":1,"default":"deny","rules":[{"id":1,"action":"allow","domain":"github.com"}]}
// Pure: parsing only. Unknown keys are ignored, so later versions stay readable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace awf::logs {

struct ManifestRule {
  std::uint32_t id = 0;
  std::string action;  // "allow" or "block"
  std::string domain;  // the entry as the user wrote it
};

struct Manifest {
  std::string default_action = "deny";
  std::vector<ManifestRule> rules;

  // The rule with this id, or nullptr.
  const ManifestRule* find(std::uint32_t id) const;
};

// nullopt when the text is not a manifest (not JSON, a rule without a positive id, ...).
std::optional<Manifest> parse_manifest(std::string_view text);

}  // namespace awf::logs
