#include "proxy/api_reflect.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "proxy/usage_record.h"

namespace awf::proxy {
namespace {

using Json = nlohmann::ordered_json;

Json limit_or_null(const std::optional<std::uint64_t>& limit) {
  return limit ? Json(*limit) : Json(nullptr);
}

Json remaining(const std::optional<std::uint64_t>& limit, std::uint64_t count) {
  return limit ? Json(*limit - std::min(*limit, count)) : Json(nullptr);
}

// AWF's guards' reflect states (guards/*-guard.js): a budget that is off counts nothing.
void put_budgets(Json& out, const BudgetConfig& budget, const BudgetCounts& counts) {
  Json by_model = Json::object();
  for (const auto& [model, credits] : counts.credits_by_model) {
    by_model[model] = {{"total", round_credits(credits)}};
  }
  out["ai_credits"] = {{"total", round_credits(counts.ai_credits)},
                       {"by_model", std::move(by_model)}};
  const bool runs = budget.max_runs.has_value();
  out["runs"] = {{"enabled", runs},
                 {"max_runs", limit_or_null(budget.max_runs)},
                 {"invocation_count", runs ? counts.runs : 0},
                 {"remaining_runs", remaining(budget.max_runs, counts.runs)}};
  const bool misses = budget.max_cache_misses.has_value();
  out["cache_misses"] = {
      {"enabled", misses},
      {"max_cache_misses", limit_or_null(budget.max_cache_misses)},
      {"consecutive_cache_misses", misses ? counts.cache_misses : 0},
      {"remaining_cache_misses", remaining(budget.max_cache_misses, counts.cache_misses)}};
  const bool denied = budget.max_permission_denied.has_value();
  out["permission_denied"] = {
      {"enabled", denied},
      {"max_permission_denied", limit_or_null(budget.max_permission_denied)},
      {"denied_count", denied ? counts.permission_denied : 0}};
}

}  // namespace

std::string reflect_json(const std::array<bool, kProviderCount>& configured,
                         const std::string& aliases_json, const BudgetConfig& budget) {
  Json endpoints = Json::array();
  for (const ProviderInfo& provider : providers()) {
    // AWF's names: the sandbox reaches every listener as api-proxy.
    const std::string base = "http://api-proxy:" + std::to_string(provider.port);
    endpoints.push_back({
        {"provider", provider.name},
        {"port", provider.port},
        {"base_url", base},
        {"configured", configured[static_cast<std::size_t>(provider.id)]},
        {"models", nullptr},
        {"model_metadata", nullptr},
        {"models_url", provider.models_path.empty()
                           ? Json(nullptr)
                           : Json(base + std::string(provider.models_path))},
    });
  }
  Json out;
  out["endpoints"] = std::move(endpoints);
  out["models_fetch_complete"] = false;
  out["model_aliases"] = aliases_json.empty() ? Json(nullptr) : Json::parse(aliases_json);
  put_budgets(out, budget, BudgetCounts{});
  return out.dump();
}

std::string reflect_live(std::string_view base, const ModelLists& models,
                         const BudgetConfig& budget, const BudgetCounts& counts) {
  Json out = Json::parse(base);
  Json& endpoints = out["endpoints"];
  for (std::size_t i = 0; i < models.size() && i < endpoints.size(); ++i) {
    // A failed fetch is kept as an empty list: still nothing discovered.
    if (models[i] && !models[i]->empty()) endpoints[i]["models"] = *models[i];
  }
  put_budgets(out, budget, counts);
  return out.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace awf::proxy
