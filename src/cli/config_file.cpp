#include "cli/config_file.h"

#include <yaml-cpp/yaml.h>

#include <stdexcept>

namespace awf::cli {
namespace {

YAML::Node load(std::string_view text, const char* what) {
  try {
    return YAML::Load(std::string(text));
  } catch (const YAML::Exception& error) {
    throw std::invalid_argument(std::string(what) + " is not valid YAML/JSON: " + error.msg +
                                " (line " + std::to_string(error.mark.line + 1) + ")");
  }
}

std::string key_text(const YAML::Node& key, const std::string& where) {
  if (!key.IsScalar()) throw std::invalid_argument(where + ": keys must be plain names");
  return key.Scalar();
}

bool read_bool(const YAML::Node& node, const std::string& where) {
  if (node.IsScalar()) {
    const std::string& text = node.Scalar();
    if (text == "true" || text == "True" || text == "yes") return true;
    if (text == "false" || text == "False" || text == "no") return false;
  }
  throw std::invalid_argument(where + " must be true or false");
}

RulesetRule read_rule(const YAML::Node& node, std::size_t index) {
  const std::string where = "rules[" + std::to_string(index) + "]";
  if (!node.IsMap()) throw std::invalid_argument(where + " must be a mapping");
  RulesetRule rule;
  bool has_domain = false;
  for (const auto& item : node) {
    const std::string key = key_text(item.first, where);
    if (key == "domain") {
      if (!item.second.IsScalar() || item.second.Scalar().empty()) {
        throw std::invalid_argument(where + ".domain must be a non-empty string");
      }
      rule.domain = item.second.Scalar();
      has_domain = true;
    } else if (key == "subdomains") {
      rule.subdomains = read_bool(item.second, where + ".subdomains");
    } else {
      throw std::invalid_argument(where + ": unknown key '" + key + "'");
    }
  }
  if (!has_domain) throw std::invalid_argument(where + " has no domain");
  return rule;
}

}  // namespace

std::vector<RulesetRule> parse_ruleset(std::string_view text) {
  const YAML::Node root = load(text, "ruleset");
  if (!root.IsMap())
    throw std::invalid_argument("ruleset must be a mapping with version and rules");
  std::vector<RulesetRule> rules;
  bool has_version = false;
  for (const auto& item : root) {
    const std::string key = key_text(item.first, "ruleset");
    if (key == "version") {
      if (!item.second.IsScalar() || item.second.Scalar() != "1") {
        throw std::invalid_argument("unsupported ruleset version (only 1 is known)");
      }
      has_version = true;
    } else if (key == "rules") {
      if (item.second.IsNull()) continue;
      if (!item.second.IsSequence()) throw std::invalid_argument("rules must be a list");
      for (std::size_t i = 0; i < item.second.size(); ++i) {
        rules.push_back(read_rule(item.second[i], i));
      }
    } else {
      throw std::invalid_argument("unknown key '" + key + "'");
    }
  }
  if (!has_version) throw std::invalid_argument("ruleset has no version (expected version: 1)");
  return rules;
}

std::string kebab_case(std::string_view key) {
  std::string out;
  for (std::size_t i = 0; i < key.size(); ++i) {
    const char c = key[i];
    if (c >= 'A' && c <= 'Z') {
      if (i > 0 && out.back() != '-') out += '-';
      out += static_cast<char>(c - 'A' + 'a');
    } else {
      out += c == '_' ? '-' : c;
    }
  }
  return out;
}

std::vector<ConfigSetting> parse_config(std::string_view text) {
  const YAML::Node root = load(text, "config");
  if (root.IsNull()) return {};
  if (!root.IsMap())
    throw std::invalid_argument("config must be a mapping of flag names to values");
  std::vector<ConfigSetting> settings;
  for (const auto& item : root) {
    if (!item.first.IsScalar()) throw std::invalid_argument("config keys must be flag names");
    ConfigSetting setting{kebab_case(item.first.Scalar()), {}, ""};
    const YAML::Node& value = item.second;
    if (value.IsScalar()) {
      setting.values.push_back(value.Scalar());
    } else if (value.IsSequence()) {
      for (const auto& element : value) {
        if (!element.IsScalar()) {
          throw std::invalid_argument("config key '" + item.first.Scalar() +
                                      "': list elements must be strings, numbers or booleans");
        }
        setting.values.push_back(element.Scalar());
      }
    } else if (!value.IsNull()) {
      throw std::invalid_argument("config key '" + item.first.Scalar() +
                                  "' must be a string, number, boolean or list");
    }
    settings.push_back(std::move(setting));
  }
  return settings;
}

}  // namespace awf::cli
