#include "proxy/model_policy.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "proxy/api_usage.h"

namespace awf::proxy {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::size_t kMaxAliasDepth = 16;  // nested aliases followed at most this deep

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c | 0x20) : c;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return lower(x) == lower(y); });
}

std::vector<std::string> string_list(const Json& value, const std::string& key) {
  if (!value.is_array()) throw std::invalid_argument(key + " must be a list of model names");
  std::vector<std::string> out;
  for (const Json& item : value) {
    if (!item.is_string() || item.get_ref<const std::string&>().empty()) {
      throw std::invalid_argument(key + " must hold non-empty strings only (got " + item.dump() +
                                  ")");
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

// Numbers in a model name, for AWF's "highest version first" ("claude-sonnet-4.6" -> 4, 6).
std::vector<unsigned long> version_numbers(std::string_view name) {
  std::vector<unsigned long> numbers;
  for (std::size_t i = 0; i < name.size();) {
    if (name[i] < '0' || name[i] > '9') {
      ++i;
      continue;
    }
    unsigned long value = 0;
    for (; i < name.size() && name[i] >= '0' && name[i] <= '9'; ++i) {
      value = std::min(value * 10 + static_cast<unsigned long>(name[i] - '0'), 1'000'000'000UL);
    }
    numbers.push_back(value);
  }
  return numbers;
}

bool higher_version_first(const std::string& a, const std::string& b) {
  const auto av = version_numbers(a);
  const auto bv = version_numbers(b);
  for (std::size_t i = 0; i < std::max(av.size(), bv.size()); ++i) {
    const unsigned long x = i < av.size() ? av[i] : 0;
    const unsigned long y = i < bv.size() ? bv[i] : 0;
    if (x != y) return x > y;
  }
  return a < b;
}

const ModelAlias* find_alias(const ModelPolicy& policy, std::string_view name) {
  for (const ModelAlias& alias : policy.aliases) {
    if (equals_ignoring_case(alias.name, name)) return &alias;
  }
  return nullptr;
}

bool contains_ignoring_case(const std::vector<std::string>& names, std::string_view name) {
  return std::any_of(names.begin(), names.end(),
                     [&](const std::string& entry) { return equals_ignoring_case(entry, name); });
}

// The concrete names an alias offers on `provider`, nested aliases followed (a loop or an
// over-deep chain offers nothing more): with a catalog, its names that a pattern matches (AWF);
// without one, the patterns without '*'. `globbed` is set when a pattern for `provider` has one.
void collect_candidates(const ModelPolicy& policy, const ModelAlias& alias,
                        std::string_view provider, const std::vector<std::string>* catalog,
                        std::vector<const ModelAlias*>& chain, std::vector<std::string>& out,
                        bool& globbed) {
  if (chain.size() >= kMaxAliasDepth ||
      std::find(chain.begin(), chain.end(), &alias) != chain.end()) {
    return;
  }
  chain.push_back(&alias);
  for (const std::string& pattern : alias.patterns) {
    const auto slash = pattern.find('/');
    std::string_view name = pattern;
    if (slash != std::string::npos) {
      if (!equals_ignoring_case(std::string_view(pattern).substr(0, slash), provider)) continue;
      name.remove_prefix(slash + 1);
    } else if (const ModelAlias* nested = find_alias(policy, pattern)) {
      collect_candidates(policy, *nested, provider, catalog, chain, out, globbed);
      continue;
    }
    const bool glob = name.find('*') != std::string_view::npos;
    globbed = globbed || glob;
    if (name.empty()) continue;
    if (catalog != nullptr) {
      for (const std::string& entry : *catalog) {
        if (model_glob_match(name, entry)) out.push_back(entry);
      }
    } else if (!glob) {
      out.emplace_back(name);
    }
  }
  chain.pop_back();
}

bool matches_any(const std::vector<std::string>& patterns, std::string_view model) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const std::string& pattern) { return model_glob_match(pattern, model); });
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (lower(c) >= 'a' && lower(c) <= 'f') return lower(c) - 'a' + 10;
  return -1;
}

// Percent-decoded; a malformed escape is kept as it is.
std::string percent_decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && hex_value(text[i + 1]) >= 0 &&
        hex_value(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(text[i + 1]) * 16 + hex_value(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// The NAME of ".../models/NAME[:verb]" (the last such segment), as [begin, end) in `path`.
std::optional<std::pair<std::size_t, std::size_t>> path_model_span(std::string_view path) {
  path = path.substr(0, path.find('?'));
  const auto marker = path.rfind("/models/");
  if (marker == std::string_view::npos) return std::nullopt;
  const std::size_t begin = marker + 8;
  const std::size_t end = std::min(path.find_first_of(":/", begin), path.size());
  if (end == begin) return std::nullopt;
  return std::pair{begin, end};
}

std::optional<Json> json_object(std::string_view body) {
  Json parsed = Json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return std::nullopt;
  return parsed;
}

}  // namespace

ModelPolicy parse_model_policy(std::string_view api_proxy_json) {
  ModelPolicy policy;
  if (api_proxy_json.empty()) return policy;
  const Json section = Json::parse(api_proxy_json, nullptr, false);
  if (section.is_discarded() || !section.is_object()) {
    throw std::invalid_argument("config.apiProxy must be an object");
  }
  if (section.contains("models") && !section["models"].is_null()) {
    const Json& models = section["models"];
    if (!models.is_object()) {
      throw std::invalid_argument(
          "config.apiProxy.models must be an object of aliases (\"name\": [\"model\", ...])");
    }
    for (const auto& [name, value] : models.items()) {
      // AWF's schema: a list of names (its proxy's {"patterns": [...]} form is not a config
      // value).
      policy.aliases.push_back({name, string_list(value, "config.apiProxy.models." + name)});
    }
    policy.aliases_json = models.dump();
  }
  for (const auto& [key, out] : {std::pair{"allowedModels", &policy.allowed},
                                 std::pair{"disallowedModels", &policy.disallowed}}) {
    if (section.contains(key) && !section[key].is_null()) {
      *out = string_list(section[key], std::string("config.apiProxy.") + key);
    }
  }
  if (section.contains("requestedModel") && !section["requestedModel"].is_null()) {
    if (!section["requestedModel"].is_string()) {
      throw std::invalid_argument("config.apiProxy.requestedModel must be a model name (string)");
    }
    policy.requested_model = section["requestedModel"].get<std::string>();
  }
  return policy;
}

bool model_glob_match(std::string_view pattern, std::string_view name) {
  // Iterative wildcard match with one backtrack point: linear in practice, never exponential.
  std::size_t p = 0, n = 0, star = std::string_view::npos, resume = 0;
  while (n < name.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = n;
    } else if (p < pattern.size() && lower(pattern[p]) == lower(name[n])) {
      ++p;
      ++n;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

std::optional<std::string> resolve_model_alias(const ModelPolicy& policy, std::string_view provider,
                                               std::string_view model,
                                               const std::vector<std::string>* catalog) {
  const ModelAlias* alias = find_alias(policy, model);
  if (alias == nullptr) return std::nullopt;
  // AWF: a name the provider lists is used as it is, even when an alias has that name too.
  if (catalog != nullptr && contains_ignoring_case(*catalog, model)) return std::nullopt;
  std::vector<const ModelAlias*> chain;
  std::vector<std::string> candidates;
  bool globbed = false;
  collect_candidates(policy, *alias, provider, catalog, chain, candidates, globbed);
  std::erase_if(candidates, [&](const std::string& name) { return check_model(policy, name); });
  if (candidates.empty()) return std::nullopt;
  return *std::min_element(candidates.begin(), candidates.end(), higher_version_first);
}

bool alias_needs_catalog(const ModelPolicy& policy, std::string_view provider,
                         std::string_view model) {
  const ModelAlias* alias = find_alias(policy, model);
  if (alias == nullptr) return false;
  std::vector<const ModelAlias*> chain;
  std::vector<std::string> candidates;
  bool globbed = false;
  collect_candidates(policy, *alias, provider, nullptr, chain, candidates, globbed);
  return globbed;
}

std::vector<std::string> parse_model_list(std::string_view json) {
  std::vector<std::string> names;
  const std::optional<Json> parsed = json_object(json);
  if (!parsed) return names;
  for (const auto& [list, field] : {std::pair{"data", "id"}, std::pair{"models", "name"}}) {
    const auto entries = parsed->find(list);
    if (entries == parsed->end() || !entries->is_array()) continue;
    for (const Json& entry : *entries) {
      const auto value = entry.is_object() ? entry.find(field) : entry.end();
      if (!entry.is_object() || value == entry.end() || !value->is_string()) continue;
      std::string name = value->get<std::string>();
      if (name.starts_with("models/")) name.erase(0, 7);  // Gemini's resource names
      // A chosen name goes into the request's body or path: plain model names only.
      if (!name.empty() && name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQR"
                                                  "STUVWXYZ0123456789._@+-") == std::string::npos) {
        names.push_back(std::move(name));
      }
    }
  }
  return names;
}

std::optional<std::vector<std::string>> ModelCatalogs::get(std::size_t provider) const {
  const std::lock_guard lock(mutex_);
  return provider < lists_.size() ? lists_[provider] : std::nullopt;
}

void ModelCatalogs::put(std::size_t provider, std::vector<std::string> models) {
  const std::lock_guard lock(mutex_);
  if (provider < lists_.size()) lists_[provider] = std::move(models);
}

std::optional<ModelRefusal> check_model(const ModelPolicy& policy, std::string_view model) {
  if (model.empty() || (policy.allowed.empty() && policy.disallowed.empty())) return std::nullopt;
  const std::string name(model);
  if (equals_ignoring_case(model, "auto") && !policy.disallowed.empty() &&
      !matches_any(policy.allowed, model)) {
    return ModelRefusal{name, "dynamic_model_unverifiable"};
  }
  if (matches_any(policy.disallowed, model)) return ModelRefusal{name, "disallowed"};
  if (!policy.allowed.empty() && !matches_any(policy.allowed, model)) {
    return ModelRefusal{name, "not_allowed"};
  }
  return std::nullopt;
}

std::string model_refusal_json(const ModelRefusal& refusal) {
  const std::string quoted = "'" + refusal.model + "'";
  const std::string message =
      refusal.reason == "dynamic_model_unverifiable"
          ? "Model " + quoted +
                " selects a concrete model at runtime, so the configured denylist cannot be "
                "proven. Explicitly allow 'auto' to opt in."
      : refusal.reason == "disallowed"
          ? "Model " + quoted +
                " is not permitted: it is explicitly disallowed by the model policy."
          : "Model " + quoted + " is not permitted: it does not match the allowed models policy.";
  Json body;
  body["error"] = {{"type", "model_policy_violation"},
                   {"message", message},
                   {"model", refusal.model},
                   {"reason", refusal.reason}};
  return body.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::optional<RequestModel> request_model(std::string_view method, std::string_view path,
                                          std::string_view body) {
  if ((method == "POST" || method == "PUT" || method == "PATCH") && !body.empty()) {
    if (const std::optional<Json> parsed = json_object(body)) {
      const auto model = parsed->find("model");
      if (model != parsed->end() && model->is_string()) {
        return RequestModel{model->get<std::string>(), false};
      }
      if (model == parsed->end() && !path_model_span(path)) return RequestModel{"", false};
    }
  }
  if (const auto span = path_model_span(path)) {
    return RequestModel{percent_decoded(path.substr(span->first, span->second - span->first)),
                        true};
  }
  return std::nullopt;
}

void replace_request_model(const RequestModel& where, std::string_view model, std::string& path,
                           std::string& body) {
  if (where.in_path) {
    if (const auto span = path_model_span(path)) {
      path.replace(span->first, span->second - span->first, model);
    }
    return;
  }
  if (!json_nesting_within(body, kMaxRewriteDepth)) return;
  std::optional<Json> parsed = json_object(body);
  if (!parsed) return;
  (*parsed)["model"] = std::string(model);
  body = parsed->dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace awf::proxy
