// Usage accounting of the API proxy, the record half: the AI credits a response cost and its
// line of token-usage.jsonl in AWF's format (gh-aw-firewall schemas/token-usage.schema.json;
// gh-aw sums these files for cost accounting). Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/api_usage.h"

namespace awf::proxy {

// "_schema" of every record: AWF's token-usage schema at the AWF version awf follows.
inline constexpr std::string_view kTokenUsageSchema = "token-usage/v0.28.0";

// Dollars per million tokens (AWF's pricing entries). No cache-write price: those tokens
// cost nothing extra.
struct AiPrice {
  double input = 0;
  double cached_input = 0;
  std::optional<double> cache_write;
  double output = 0;
};

// A price the configuration gives for a model of a provider (apiProxy.providers).
struct ModelPrice {
  std::string provider;  // as the configuration names it ("copilot", "github", "google"...)
  std::string model;
  AiPrice price;
};

struct PricingConfig {
  std::optional<AiPrice> default_price;  // apiProxy.defaultAiCreditsPricing
  std::vector<ModelPrice> models;        // apiProxy.providers.<p>.models.<m>.cost
};

// Reads the pricing keys of the config file's apiProxy section (JSON text, "" for none).
// Throws std::invalid_argument naming the key and what it must be.
PricingConfig parse_pricing_config(std::string_view api_proxy_json);

// The price a response's model is charged at, and where it came from (AWF's fields).
struct PriceChoice {
  AiPrice price;
  std::string_view source;  // "operator", "curated", "dynamic_selector_fallback",
                            // "configured_default", "builtin_fallback"
  std::string_view policy;  // "concrete_model", "dynamic_selector_fallback", ...
  bool fallback = false;
  std::string_view dynamic_selector;  // "copilot:auto" or ""
};

// AWF's order: the configured provider price, the built-in table (exact, then the name
// canonicalized, then its longest prefix), Copilot's "auto" selector at the table's ceiling,
// the configured default, and for the "unknown" model a conservative built-in price.
// Nothing when none applies (the record then has no credit fields).
std::optional<PriceChoice> choose_price(const PricingConfig& config, std::string_view provider,
                                        std::string_view model);

// Credits (1 credit = $0.01) for `usage` at `price`. Anthropic counts cached tokens apart from
// input, the OpenAI shape inside it (then they are taken out of the input before pricing).
double ai_credits(const TokenUsage& usage, std::string_view provider, const AiPrice& price);

// AWF rounds credits to 6 decimals.
double round_credits(double credits);

// A client's X-Request-Id is kept when AWF would keep it (1..128 of [A-Za-z0-9_.-]).
bool valid_request_id(std::string_view id);

struct UsageRecord {
  std::int64_t timestamp_ms = 0;  // when the response ended (Unix ms)
  std::string request_id;
  std::string provider;
  std::string model;  // the response's model, else the provider's name (AWF)
  std::string path;   // the client's path, without its query
  int status = 0;
  bool streaming = false;
  TokenUsage usage;
  std::int64_t duration_ms = 0;
  std::uint64_t response_bytes = 0;
  // Present when a price applied.
  std::optional<PriceChoice> price;
  double credits = 0;        // this response, rounded
  double credits_total = 0;  // the run so far, rounded
};

// One line of token-usage.jsonl, with its newline.
std::string format_usage_record(const UsageRecord& record);

}  // namespace awf::proxy
