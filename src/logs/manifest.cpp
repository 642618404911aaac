#include "logs/manifest.h"

#include <limits>
#include <nlohmann/json.hpp>

namespace awf::logs {
namespace {

using Json = nlohmann::json;

std::optional<ManifestRule> parse_rule(const Json& j) {
  if (!j.is_object()) return std::nullopt;
  const auto id = j.find("id");
  const auto action = j.find("action");
  const auto domain = j.find("domain");
  if (id == j.end() || !id->is_number_unsigned() || action == j.end() || !action->is_string() ||
      domain == j.end() || !domain->is_string()) {
    return std::nullopt;
  }
  const auto number = id->get<std::uint64_t>();
  if (number == 0 || number > std::numeric_limits<std::uint32_t>::max()) return std::nullopt;
  return ManifestRule{static_cast<std::uint32_t>(number), action->get<std::string>(),
                      domain->get<std::string>()};
}

}  // namespace

const ManifestRule* Manifest::find(std::uint32_t id) const {
  for (const ManifestRule& rule : rules) {
    if (rule.id == id) return &rule;
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
