#include "proxy/usage_record.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "audit/audit_record.h"

namespace awf::proxy {
namespace {

using Json = nlohmann::json;

struct TablePrice {
  std::string_view model;
  AiPrice price;
};

constexpr std::optional<double> kNoWrite = std::nullopt;

// AWF's curated pricing (containers/api-proxy/ai-credits-pricing.js), dollars per 1M tokens.
const std::array kTable{
    TablePrice{"gpt-5-mini", {0.25, 0.025, kNoWrite, 2.00}},
    TablePrice{"gpt-5-codex-mini", {0.25, 0.025, kNoWrite, 2.00}},
    TablePrice{"gpt-5.2", {1.75, 0.175, kNoWrite, 14.00}},
    TablePrice{"gpt-5.2-codex", {1.75, 0.175, kNoWrite, 14.00}},
    TablePrice{"gpt-5.3-codex", {1.75, 0.175, kNoWrite, 14.00}},
    TablePrice{"gpt-5.4", {2.50, 0.25, kNoWrite, 15.00}},
    TablePrice{"gpt-5.4-mini", {0.75, 0.075, kNoWrite, 4.50}},
    TablePrice{"gpt-5.4-nano", {0.20, 0.02, kNoWrite, 1.25}},
    TablePrice{"gpt-5.5", {5.00, 0.50, kNoWrite, 30.00}},
    TablePrice{"gpt-5.6-luna", {1.00, 0.10, kNoWrite, 6.00}},
    TablePrice{"gpt-5.6-sol", {5.00, 0.50, kNoWrite, 30.00}},
    TablePrice{"gpt-5.6-terra", {2.50, 0.25, kNoWrite, 15.00}},
    TablePrice{"claude-haiku-4-5", {1.00, 0.10, 1.25, 5.00}},
    TablePrice{"claude-sonnet-4", {3.00, 0.30, 3.75, 15.00}},
    TablePrice{"claude-sonnet-4-5", {3.00, 0.30, 3.75, 15.00}},
    TablePrice{"claude-sonnet-4-6", {3.00, 0.30, 3.75, 15.00}},
    TablePrice{"claude-sonnet-5", {3.00, 0.30, 3.75, 15.00}},
    TablePrice{"claude-opus-4-5", {5.00, 0.50, 6.25, 25.00}},
    TablePrice{"claude-opus-4-6", {5.00, 0.50, 6.25, 25.00}},
    TablePrice{"claude-opus-4-7", {5.00, 0.50, 6.25, 25.00}},
    TablePrice{"claude-opus-4-8", {5.00, 0.50, 6.25, 25.00}},
    TablePrice{"claude-opus-5", {5.00, 0.50, 6.25, 25.00}},
    TablePrice{"claude-fable-5", {10.00, 1.00, 12.50, 50.00}},
    TablePrice{"claude-mythos-5", {10.00, 1.00, 12.50, 50.00}},
    TablePrice{"gemini-2.5-pro", {1.25, 0.125, kNoWrite, 10.00}},
    TablePrice{"gemini-3-flash", {0.50, 0.05, kNoWrite, 3.00}},
    TablePrice{"gemini-3.1-flash", {0.75, 0.075, kNoWrite, 4.50}},
    TablePrice{"gemini-3.1-pro", {2.00, 0.20, kNoWrite, 12.00}},
    TablePrice{"gemini-3.5-flash", {1.50, 0.15, kNoWrite, 9.00}},
    TablePrice{"mai-code-1-flash", {0.75, 0.075, kNoWrite, 4.50}},
    TablePrice{"raptor-mini", {0.25, 0.025, kNoWrite, 2.00}},
    TablePrice{"text-embedding-3-small", {0.02, 0, kNoWrite, 0.00}},
    TablePrice{"text-embedding-ada-002", {0.10, 0, kNoWrite, 0.00}},
};

// AWF's price for a model named by neither response nor request (claude-sonnet-4's).
constexpr AiPrice kUnknownModelPrice{3.00, 0.30, 3.75, 15.00};
// Copilot's "auto" picks the model at run time: the highest price of the table, at least this.
constexpr AiPrice kSelectorCeiling{10.00, 1.00, 12.50, 50.00};

bool is_digits(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// AWF's canonical name: no provider prefix ("copilot/"), no date suffix ("-2025-11-07",
// "-20251107", with an optional "-alpha" before it), '.' and '_' as '-'.
std::string canonical_model(std::string_view model) {
  if (const auto slash = model.find('/'); slash != std::string_view::npos) {
    model.remove_prefix(slash + 1);
  }
  const auto strip = [&](std::size_t length, bool dashed) {
    if (model.size() < length + 1 || model[model.size() - length - 1] != '-') return false;
    const std::string_view date = model.substr(model.size() - length);
    const bool ok = dashed ? is_digits(date.substr(0, 4)) && date[4] == '-' &&
                                 is_digits(date.substr(5, 2)) && date[7] == '-' &&
                                 is_digits(date.substr(8, 2))
                           : is_digits(date);
    if (!ok) return false;
    model.remove_suffix(length + 1);
    if (model.ends_with("-alpha")) model.remove_suffix(6);
    return true;
  };
  if (!strip(10, true)) strip(8, false);
  std::string out(model);
  std::replace(out.begin(), out.end(), '.', '-');
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

// The configured prices' matching (provider-pricing-overlays.js): prefix dropped, '.' and
// '_' as '-', case folded, no date stripping.
std::string overlay_name(std::string_view model) {
  if (const auto slash = model.find('/'); slash != std::string_view::npos) {
    model.remove_prefix(slash + 1);
  }
  std::string out(model);
  for (char& c : out) {
    if (c == '.' || c == '_') c = '-';
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// The configured price of the first alias (in AWF's order) that lists models.
const AiPrice* configured_price(const PricingConfig& config, std::string_view provider,
                                std::string_view model) {
  static constexpr std::array<std::string_view, 3> kCopilot{"copilot", "github-copilot", "github"};
  static constexpr std::array<std::string_view, 2> kGemini{"gemini", "google"};
  std::vector<std::string_view> aliases{provider};
  if (provider == "copilot") aliases.assign(kCopilot.begin(), kCopilot.end());
  if (provider == "gemini") aliases.assign(kGemini.begin(), kGemini.end());
  const std::string wanted = overlay_name(model);
  for (std::string_view alias : aliases) {
    const AiPrice* best = nullptr;
    std::size_t best_length = 0;
    bool listed = false;
    for (const ModelPrice& entry : config.models) {
      if (entry.provider != alias) continue;
      listed = true;
      const std::string name = overlay_name(entry.model);
      if (name == wanted) return &entry.price;
      if (wanted.starts_with(name + "-") && name.size() > best_length) {
        best = &entry.price;
        best_length = name.size();
      }
    }
    if (listed) return best;
  }
  return nullptr;
}

const AiPrice* table_price(std::string_view model) {
  for (const TablePrice& entry : kTable) {
    if (entry.model == model) return &entry.price;
  }
  const std::string wanted = canonical_model(model);
  for (const TablePrice& entry : kTable) {
    if (canonical_model(entry.model) == wanted) return &entry.price;
  }
  const AiPrice* best = nullptr;
  std::size_t best_length = 0;
  for (const TablePrice& entry : kTable) {
    const std::string key = canonical_model(entry.model);
    if (wanted.starts_with(key + "-") && key.size() > best_length) {
      best = &entry.price;
      best_length = key.size();
    }
  }
  return best;
}

AiPrice selector_ceiling() {
  AiPrice out = kSelectorCeiling;
  for (const TablePrice& entry : kTable) {
    out.input = std::max(out.input, entry.price.input);
    out.cached_input = std::max(out.cached_input, entry.price.cached_input);
    if (entry.price.cache_write)
      out.cache_write = std::max(*out.cache_write, *entry.price.cache_write);
    out.output = std::max(out.output, entry.price.output);
  }
  return out;
}

bool lower_equals(std::string_view text, std::string_view lower) {
  return std::equal(text.begin(), text.end(), lower.begin(), lower.end(), [](char a, char b) {
    return (a >= 'A' && a <= 'Z' ? static_cast<char>(a - 'A' + 'a') : a) == b;
  });
}

// Reading the configuration.

[[noreturn]] void refuse(const std::string& key, const std::string& what) {
  throw std::invalid_argument("config.apiProxy." + key + " " + what);
}

// AWF's Number(value): a number, or a string holding one.
std::optional<double> number_value(const Json& value) {
  if (value.is_number()) return value.get<double>();
  if (!value.is_string()) return std::nullopt;
  const std::string& text = value.get_ref<const std::string&>();
  try {
    std::size_t used = 0;
    const double number = std::stod(text, &used);
    if (used == text.size()) return number;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

double cost_field(const Json& cost, const char* field, const std::string& key) {
  const std::optional<double> value = number_value(cost[field]);
  if (!value || !std::isfinite(*value) || *value < 0) {
    refuse(key + "." + field,
           "must be a price in dollars per token, a number >= 0 (got " + cost[field].dump() + ")");
  }
  return *value * 1'000'000;
}

// providers.<name>.models.<model>.cost: {input, output, cache_read?, cache_write?} in
// dollars per token.
AiPrice model_cost(const Json& cost, const std::string& key) {
  if (!cost.is_object() || !cost.contains("input") || !cost.contains("output")) {
    refuse(key,
           "must be an object with input and output prices in dollars per token, e.g. "
           "{\"input\": 0.000003, \"output\": 0.000015}");
  }
  AiPrice price;
  price.input = cost_field(cost, "input", key);
  price.output = cost_field(cost, "output", key);
  price.cached_input =
      cost.contains("cache_read") ? cost_field(cost, "cache_read", key) : price.input * 0.1;
  if (cost.contains("cache_write")) price.cache_write = cost_field(cost, "cache_write", key);
  return price;
}

void read_provider_prices(const Json& providers, PricingConfig& out) {
  if (!providers.is_object()) refuse("providers", "must be an object of providers");
  for (const auto& [name, provider] : providers.items()) {
    const Json* models =
        provider.is_object() && provider.contains("models") ? &provider["models"] : nullptr;
    if (!models) continue;
    const std::string key = "providers." + name + ".models";
    if (!models->is_object()) refuse(key, "must be an object of model names");
    for (const auto& [model, entry] : models->items()) {
      if (!entry.is_object() || !entry.contains("cost")) continue;
      out.models.push_back({name, model, model_cost(entry["cost"], key + "." + model + ".cost")});
    }
  }
}

void read_default_price(const Json& pricing, PricingConfig& out) {
  const std::string key = "defaultAiCreditsPricing";
  const auto price_of = [&](const char* field) {
    const Json* value = pricing.contains(field) ? &pricing[field] : nullptr;
    if (!value || !value->is_number() || !std::isfinite(value->get<double>()) ||
        value->get<double>() < 0) {
      refuse(key + "." + field, "must be a price in dollars per million tokens, a number >= 0");
    }
    return value->get<double>();
  };
  if (!pricing.is_object()) refuse(key, "must be an object, e.g. {\"input\": 3, \"output\": 15}");
  AiPrice price;
  price.input = price_of("input");
  price.output = price_of("output");
  price.cached_input = pricing.contains("cachedInput") && !pricing["cachedInput"].is_null()
                           ? price_of("cachedInput")
                           : price.input * 0.1;
  if (pricing.contains("cacheWrite") && !pricing["cacheWrite"].is_null()) {
    price.cache_write = price_of("cacheWrite");
  }
  out.default_price = price;
}

void put_number(Json& out, const char* key, double value) {
  // Whole numbers as integers, as JavaScript prints them.
  if (std::floor(value) == value && std::fabs(value) < 9e15) {
    out[key] = static_cast<std::int64_t>(value);
  } else {
    out[key] = value;
  }
}

}  // namespace

PricingConfig parse_pricing_config(std::string_view api_proxy_json) {
  PricingConfig out;
  if (api_proxy_json.empty()) return out;
  const Json section = Json::parse(api_proxy_json, nullptr, false);
  if (!section.is_object()) return out;
  if (section.contains("defaultAiCreditsPricing")) {
    read_default_price(section["defaultAiCreditsPricing"], out);
  }
  if (section.contains("providers")) read_provider_prices(section["providers"], out);
  return out;
}

std::optional<PriceChoice> choose_price(const PricingConfig& config, std::string_view provider,
                                        std::string_view model) {
  if (const AiPrice* price = configured_price(config, provider, model)) {
    return PriceChoice{*price, "operator", "concrete_model", false, ""};
  }
  if (const AiPrice* price = table_price(model)) {
    return PriceChoice{*price, "curated", "concrete_model", false, ""};
  }
  if (provider == "copilot" && lower_equals(model, "auto")) {
    return PriceChoice{selector_ceiling(), "dynamic_selector_fallback", "dynamic_selector_fallback",
                       true, "copilot:auto"};
  }
  const std::string_view policy = model == "unknown" ? "unknown_model_fallback" : "concrete_model";
  if (config.default_price) {
    return PriceChoice{*config.default_price, "configured_default", policy, true, ""};
  }
  if (model == "unknown") {
    return PriceChoice{kUnknownModelPrice, "builtin_fallback", policy, true, ""};
  }
  return std::nullopt;
}

double ai_credits(const TokenUsage& usage, std::string_view provider, const AiPrice& price) {
  constexpr double kTokensPerCreditDollar = 1'000'000 * 0.01;
  const bool additive =
      provider == "anthropic" || (provider == "copilot" && !usage.input_includes_cache);
  const double input = static_cast<double>(usage.input);
  const double cache_read = static_cast<double>(usage.cache_read);
  const double cache_write = static_cast<double>(usage.cache_write);
  const double fresh_input = additive ? input : std::max(0.0, input - cache_read - cache_write);
  double credits = fresh_input * price.input + cache_read * price.cached_input +
                   static_cast<double>(usage.output) * price.output;
  if (price.cache_write && *price.cache_write != 0) credits += cache_write * *price.cache_write;
  return credits / kTokensPerCreditDollar;
}

double round_credits(double credits) {
  return std::round((credits + 2.220446049250313e-16) * 1'000'000) / 1'000'000;
}

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  return std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

std::string format_usage_record(const UsageRecord& r) {
  nlohmann::ordered_json out;
  out["_schema"] = kTokenUsageSchema;
  out["timestamp"] = audit::format_timestamp(r.timestamp_ms);
  out["event"] = "token_usage";
  out["request_id"] = r.request_id;
  out["provider"] = r.provider;
  out["model"] = r.model.empty() ? std::string("unknown") : r.model;
  out["path"] = r.path;
  out["status"] = r.status;
  out["streaming"] = r.streaming;
  out["input_tokens"] = r.usage.input;
  out["output_tokens"] = r.usage.output;
  out["cache_read_tokens"] = r.usage.cache_read;
  out["cache_write_tokens"] = r.usage.cache_write;
  out["duration_ms"] = r.duration_ms;
  out["response_bytes"] = r.response_bytes;
  out["reasoning_tokens"] = r.usage.reasoning;
  if (r.price) {
    Json credits;
    put_number(credits, "this", r.credits);
    put_number(credits, "total", r.credits_total);
    out["ai_credits_this_response"] = credits["this"];
    out["ai_credits_total"] = credits["total"];
    out["ai_credits_pricing_source"] = r.price->source;
    out["ai_credits_pricing_tier"] = "default";
    out["ai_credits_accounting_policy"] = r.price->policy;
    out["ai_credits_fallback_pricing_used"] = r.price->fallback;
    if (!r.price->dynamic_selector.empty()) {
      out["ai_credits_dynamic_selector"] = r.price->dynamic_selector;
    }
  }
  // A provider's model name is not trusted to be UTF-8: replaced, never a broken line.
  return out.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace awf::proxy
