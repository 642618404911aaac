// The rules of AWF's config schema that tie keys together (if/then, oneOf, not-both), checked
// after every key has its type. Pure.
#pragma once

#include <nlohmann/json.hpp>

namespace awf::cli {

using Json = nlohmann::ordered_json;

// Throws std::invalid_argument naming the keys involved and what to change.
void check_config_rules(const Json& root);

}  // namespace awf::cli
