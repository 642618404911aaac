// The API proxy's self-description (AWF's GET /reflect, `awf --reflect`): which providers
// listen where, which have a key, where their model lists are, the model aliases. Never a key
// or a target's secret. Pure.
#pragma once

#include <array>
#include <string>

#include "proxy/api_provider.h"

namespace awf::proxy {

// {"endpoints":[{"provider","port","base_url","configured","models","model_metadata",
// "models_url"}...],"models_fetch_complete":false,"model_aliases":{...}|null}
// `configured` is indexed like providers(); `aliases_json` is apiProxy.models as given ("":
// none). awf fetches no model lists at start, so "models" is null and models_fetch_complete
// false (AWF's clients then skip their model-availability checks).
std::string reflect_json(const std::array<bool, kProviderCount>& configured,
                         const std::string& aliases_json);

}  // namespace awf::proxy
