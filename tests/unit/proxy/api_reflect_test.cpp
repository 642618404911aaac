#include "proxy/api_reflect.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace awf::proxy {
namespace {

TEST(ApiReflect, AwfShapeWithoutKeys) {
  std::array<bool, kProviderCount> configured{};
  configured[static_cast<std::size_t>(Provider::Copilot)] = true;
  const auto reflect = nlohmann::json::parse(reflect_json(configured, R"({"agent":["gpt-5"]})"));
  ASSERT_EQ(reflect["endpoints"].size(), kProviderCount);
  const auto& copilot = reflect["endpoints"][2];
  EXPECT_EQ(copilot["provider"], "copilot");
  EXPECT_EQ(copilot["port"], 10002);
  EXPECT_EQ(copilot["base_url"], "http://api-proxy:10002");
  EXPECT_EQ(copilot["configured"], true);
  EXPECT_TRUE(copilot["models"].is_null());
  EXPECT_EQ(copilot["models_url"], "http://api-proxy:10002/models");
  EXPECT_EQ(reflect["endpoints"][0]["models_url"], "http://api-proxy:10000/v1/models");
  EXPECT_EQ(reflect["endpoints"][0]["configured"], false);
  EXPECT_TRUE(reflect["endpoints"][4]["models_url"].is_null());  // Vertex: no list
  EXPECT_EQ(reflect["endpoints"][4]["provider"], "vertex");
  EXPECT_EQ(reflect["models_fetch_complete"], false);
  EXPECT_EQ(reflect["model_aliases"]["agent"][0], "gpt-5");
  EXPECT_TRUE(nlohmann::json::parse(reflect_json(configured, ""))["model_aliases"].is_null());
}

}  // namespace
}  // namespace awf::proxy
