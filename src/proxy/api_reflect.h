// The API proxy's self-description (AWF's GET /reflect, `awf --reflect`): which providers
// listen where, which have a key, where their model lists are, the model aliases, and what the
// run's budgets have counted. Never a key or a target's secret. Pure.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/api_budget.h"
#include "proxy/api_provider.h"

namespace awf::proxy {

// The providers' model lists awf has fetched (for an alias), indexed like providers().
using ModelLists = std::array<std::optional<std::vector<std::string>>, kProviderCount>;

// {"endpoints":[{"provider","port","base_url","configured","models","model_metadata",
// "models_url"}...],"models_fetch_complete":false,"model_aliases":{...}|null,
// "ai_credits":{"total","by_model"},"runs":{...},"cache_misses":{...},
// "permission_denied":{...}} with nothing counted yet. `configured` is indexed like
// providers(); `aliases_json` is apiProxy.models as given ("": none). awf fetches no model
// lists at start, so "models" is null and models_fetch_complete false (AWF's clients then skip
// their model-availability checks).
std::string reflect_json(const std::array<bool, kProviderCount>& configured,
                         const std::string& aliases_json, const BudgetConfig& budget);

// `base` (reflect_json's) as the run stands: each provider's "models" is the list awf has
// fetched (else null), and the budget sections hold `counts` (AWF's field names and shapes;
// ai_credits.by_model gives each model's total only).
std::string reflect_live(std::string_view base, const ModelLists& models,
                         const BudgetConfig& budget, const BudgetCounts& counts);

}  // namespace awf::proxy
