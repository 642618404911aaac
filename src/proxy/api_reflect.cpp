#include "proxy/api_reflect.h"

#include <nlohmann/json.hpp>

namespace awf::proxy {

std::string reflect_json(const std::array<bool, kProviderCount>& configured,
                         const std::string& aliases_json) {
  using Json = nlohmann::ordered_json;
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
  return out.dump();
}

}  // namespace awf::proxy
