// AWF v0.28's structured config file (`--config`, docs/awf-config.schema.json upstream): a
// closed tree of sections (network, apiProxy, security, container, ...). Pure: text in,
// flag settings and notices out; reading the file is the caller's job.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/config_file.h"

namespace awf::cli {

// How the file's name says it is written: ".json" -> JSON only, ".yaml"/".yml" -> YAML only,
// anything else (stdin too) -> JSON first, then YAML.
enum class ConfigSyntax { Json, Yaml, Either };
ConfigSyntax config_syntax(std::string_view path);

struct AwfConfig {
  // Settings for awf's own flags (ConfigSetting::flag is the long flag name, `origin` the
  // key's path such as "network.allowDomains"). An empty list sets nothing.
  std::vector<ConfigSetting> settings;
  // One line per key that awf accepts without acting on it, ready for stderr.
  std::vector<std::string> notices;
  // The validated apiProxy section as JSON ("" when absent): kept for the API proxy's
  // budgets and model policy, which awf does not enforce yet.
  std::string api_proxy_json;
};

// Either form: AWF's structured one, or awf's own flat {flag: value} form (parse_config). The
// structured form is told by `$schema`, a section name or a mapping value at the top level; a
// flat file has none of those, so the two cannot be confused.
AwfConfig load_config(std::string_view text, ConfigSyntax syntax);

// The structured form only. Validates against the schema (closed world: an unknown key is an
// error naming its path, "config.network.foo is not supported"; wrong types, enums, bounds and
// the schema's cross-key rules likewise), then maps every key onto awf's flags or a notice.
// Throws std::invalid_argument naming the key and what it must be.
AwfConfig load_awf_config(std::string_view text, ConfigSyntax syntax);

}  // namespace awf::cli
