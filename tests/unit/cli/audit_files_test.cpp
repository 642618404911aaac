#include "cli/audit_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "policy/policy.h"

namespace awf::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string config_for(std::vector<std::string> argv) {
  Options options;
  options.argv = std::move(argv);
  return resolved_config_json(options);
}

// Every spelling CLI11 accepts for -e: separate word, --env=, and the fused short form.
TEST(ResolvedConfig, RedactsEveryEnvSpelling) {
  const std::string json = config_for({"-e", "MY_API_KEY=s1", "--env=GITHUB_TOKEN=s2",
                                       "-eDB_PASSWORD=s3", "--env", "PLAIN=visible"});
  for (const char* secret : {"s1", "s2", "s3"}) {
    EXPECT_THAT(json, Not(HasSubstr(std::string("=") + secret))) << json;
  }
  EXPECT_THAT(json, HasSubstr("\"MY_API_KEY=***\""));
  EXPECT_THAT(json, HasSubstr("\"--env=GITHUB_TOKEN=***\""));
  EXPECT_THAT(json, HasSubstr("\"-eDB_PASSWORD=***\""));
  EXPECT_THAT(json, HasSubstr("\"PLAIN=visible\""));
}

TEST(ResolvedConfig, OtherWordsStayAsGiven) {
  const std::string json = config_for({"-e", "-d", "allowed.test", "--log-level=debug"});
  EXPECT_THAT(json, HasSubstr("\"-e\""));
  EXPECT_THAT(json, HasSubstr("\"--log-level=debug\""));
}

// AWF's policy manifest v1, in evaluation order, with awf's rule numbers.
TEST(PolicyManifest, AwfV1FormInEvaluationOrder) {
  const auto policy = policy::Policy::build({"GitHub.com", "https://*.example.com"},
                                            {"gist.github.com"}, {"exact.test"});
  ManifestFacts facts;
  facts.generated_ms = 1795887202123;
  facts.dns_servers = {"203.0.113.53"};
  facts.dlp = true;
  facts.host_ports = {{3000, 3000}, {8080, 8090}};
  const auto j = nlohmann::json::parse(policy_manifest_json(policy, facts));
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["generatedAt"], "2026-11-28T17:33:22.123Z");
  EXPECT_EQ(j["dnsServers"], nlohmann::json({"203.0.113.53"}));
  EXPECT_EQ(j["sslBumpEnabled"], false);
  EXPECT_EQ(j["dlpEnabled"], true);
  EXPECT_EQ(j["hostAccessEnabled"], false);
  EXPECT_EQ(j["allowHostPorts"], "3000,8080-8090");
  EXPECT_EQ(j["topologyPeers"], nlohmann::json::array());
  EXPECT_NE(std::find(j["dangerousPorts"].begin(), j["dangerousPorts"].end(), 22),
            j["dangerousPorts"].end());
  std::vector<std::string> ids;
  for (const auto& rule : j["rules"]) {
    EXPECT_EQ(rule["order"], ids.size() + 1) << rule;
    for (const char* key : {"id", "action", "aclName", "protocol", "description"}) {
      EXPECT_TRUE(rule[key].is_string()) << key << rule;
    }
    EXPECT_TRUE(rule["domains"].is_array()) << rule;
    ids.push_back(rule["id"]);
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"deny-unsafe-ports", "deny-dlp", "deny-blocked-4",
                                           "allow-1", "allow-2", "allow-3", "deny-raw-ipv4",
                                           "deny-raw-ipv6", "deny-default"}));
  const auto& rules = j["rules"];
  EXPECT_EQ(rules[2]["rule"], 4);
  EXPECT_EQ(rules[2]["entry"], "gist.github.com");
  EXPECT_EQ(rules[2]["domains"], nlohmann::json({".gist.github.com"}));
  EXPECT_EQ(rules[2]["aclName"], "blocked_domains");
  EXPECT_EQ(rules[3]["domains"], nlohmann::json({".github.com"}));  // Squid form, lower case
  EXPECT_EQ(rules[3]["protocol"], "both");
  EXPECT_EQ(rules[4]["protocol"], "https");
  EXPECT_EQ(rules[4]["aclName"], "allowed_https_only_regex");
  EXPECT_EQ(rules[4]["domains"], nlohmann::json({"^[a-zA-Z0-9.-]*\\.example\\.com$"}));
  EXPECT_EQ(rules[5]["domains"], nlohmann::json({"exact.test"}));  // the name only
  EXPECT_EQ(rules[8]["aclName"], "all");
  EXPECT_FALSE(rules[8].contains("rule"));
}

TEST(PolicyManifest, PeersHostAccessAndNoHostPorts) {
  ManifestFacts facts;
  facts.topology_peers = {"awmg-mcpg"};
  facts.host_access = true;
  const auto j =
      nlohmann::json::parse(policy_manifest_json(policy::Policy::build({"a.test"}, {}), facts));
  EXPECT_EQ(j["rules"][0]["id"], "allow-topology-peer-awmg-mcpg");
  EXPECT_EQ(j["rules"][0]["aclName"], "topology_peer_awmg_mcpg");
  EXPECT_EQ(j["rules"][0]["domains"], nlohmann::json({".awmg-mcpg"}));
  EXPECT_EQ(j["topologyPeers"], nlohmann::json({"awmg-mcpg"}));
  EXPECT_EQ(j["rules"][2]["id"], "allow-host-access");
  EXPECT_EQ(j["rules"][2]["domains"], nlohmann::json({"host.docker.internal"}));
  EXPECT_TRUE(j["allowHostPorts"].is_null());
  EXPECT_EQ(j["hostAccessEnabled"], true);
}

TEST(PolicyManifest, DnsServerList) {
  EXPECT_EQ(
      dns_server_list("203.0.113.53:53, [2001:db8::53]:53, 10.0.0.1:5353, [::1]:5353"),
      (std::vector<std::string>{"203.0.113.53", "2001:db8::53", "10.0.0.1:5353", "[::1]:5353"}));
  EXPECT_TRUE(dns_server_list("").empty());
}

}  // namespace
}  // namespace awf::cli
