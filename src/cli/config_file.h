// The two structured inputs of the command line: --ruleset-file (YAML domain rules) and
// --config (JSON or YAML holding flags). Pure parsing of text into plain values; no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace awf::cli {

struct RulesetRule {
  std::string domain;
  bool subdomains = true;  // false: the exact name only
};

// `{version: 1, rules: [{domain: x, subdomains: true|false}]}`. Throws std::invalid_argument
// naming the problem (unknown key, wrong type, missing domain, unsupported version).
std::vector<RulesetRule> parse_ruleset(std::string_view text);

struct ConfigSetting {
  std::string flag;                 // long flag name without dashes, kebab-case ("allow-domains")
  std::vector<std::string> values;  // one per scalar; a list gives several; booleans "true"/"false"
  std::string origin;               // the structured config's key ("network.allowDomains"), or ""
};

// A JSON or YAML mapping of flag names (kebab-case, snake_case or camelCase) to a scalar or a
// list of scalars. Throws std::invalid_argument for anything else. Whether a flag exists is
// the caller's check.
std::vector<ConfigSetting> parse_config(std::string_view text);

// "allowDomains", "allow_domains", "allow-domains" -> "allow-domains".
std::string kebab_case(std::string_view key);

}  // namespace awf::cli
