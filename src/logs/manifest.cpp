#include "logs/manifest.h"

#include <limits>
#include <nlohmann/json.hpp>

namespace awf::logs {
namespace {

using Json = nlohmann::json;

// A positive 32-bit number, as audit records' "rule" is.
std::optional<std::uint32_t> rule_number(const Json& value) {
  if (!value.is_number_unsigned()) return std::nullopt;
  const auto number = value.get<std::uint64_t>();
  if (number == 0 || number > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
  return static_cast<std::uint32_t>(number);
}

// An optional string key: absent leaves `out` alone; any other type is an error.
bool get_string(const Json& j, const char* key, std::string& out) {
  const auto it = j.find(key);
  if (it == j.end()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

bool get_domains(const Json& j, std::vector<std::string>& out) {
  const auto it = j.find("domains");
  if (it == j.end()) return true;
  if (!it->is_array()) return false;
  for (const Json& domain : *it) {
    if (!domain.is_string()) return false;
    out.push_back(domain.get<std::string>());
  }
  return true;
}

// An earlier awf's rule: {"id":1,"action":"allow","domain":"github.com"}.
std::optional<ManifestRule> parse_numbered_rule(const Json& j, const Json& id) {
  const auto number = rule_number(id);
  const auto domain = j.find("domain");
  if (!number || domain == j.end() || !domain->is_string()) return std::nullopt;
  ManifestRule rule;
  rule.id = std::to_string(*number);
  rule.rule = *number;
  rule.entry = domain->get<std::string>();
  rule.domains.push_back(rule.entry);
  return rule;
}

std::optional<ManifestRule> parse_rule(const Json& j) {
  if (!j.is_object()) return std::nullopt;
  const auto id = j.find("id");
  const auto action = j.find("action");
  if (id == j.end() || action == j.end() || !action->is_string()) return std::nullopt;
  std::optional<ManifestRule> rule;
  if (id->is_string()) {
    rule.emplace();
    rule->id = id->get<std::string>();
    if (const auto number = j.find("rule"); number != j.end()) {
      const auto value = rule_number(*number);
      if (!value) return std::nullopt;
      rule->rule = *value;
    }
    if (const auto order = j.find("order"); order != j.end()) {
      const auto value = rule_number(*order);
      if (!value) return std::nullopt;
      rule->order = *value;
    }
    if (!get_domains(j, rule->domains) || !get_string(j, "protocol", rule->protocol) ||
        !get_string(j, "description", rule->description) || !get_string(j, "entry", rule->entry)) {
      return std::nullopt;
    }
  } else {
    rule = parse_numbered_rule(j, *id);
    if (!rule) return std::nullopt;
  }
  rule->action = action->get<std::string>();
  return rule;
}

}  // namespace

const ManifestRule* Manifest::find(std::uint32_t rule) const {
  if (rule == 0) return nullptr;
  for (const ManifestRule& candidate : rules) {
    if (candidate.rule == rule) return &candidate;
  }
  return nullptr;
}

std::optional<Manifest> parse_manifest(std::string_view text) {
  const Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  Manifest manifest;
  if (const auto fallback = j.find("default"); fallback != j.end()) {
    if (!fallback->is_string()) return std::nullopt;
    manifest.default_action = fallback->get<std::string>();
  }
  const auto rules = j.find("rules");
  if (rules == j.end() || !rules->is_array()) return std::nullopt;
  for (const Json& item : *rules) {
    auto rule = parse_rule(item);
    if (!rule) return std::nullopt;
    manifest.rules.push_back(std::move(*rule));
  }
  return manifest;
}

}  // namespace awf::logs
