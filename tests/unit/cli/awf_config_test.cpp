#include "cli/awf_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli/awf_config_keys.h"
#include "cli/awf_config_schema.h"
#include "cli/options.h"

namespace awf::cli {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string error_of(std::string_view text, ConfigSyntax syntax = ConfigSyntax::Either) {
  try {
    load_awf_config(text, syntax);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<no error>";
}

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(AWF_FIXTURES_DIR) + "/gh-aw/" + name);
  std::ostringstream text;
  text << in.rdbuf();
  EXPECT_FALSE(text.str().empty()) << name;
  return text.str();
}

const ConfigSetting* setting(const AwfConfig& config, const std::string& flag) {
  for (const ConfigSetting& s : config.settings) {
    if (s.flag == flag) return &s;
  }
  return nullptr;
}

TEST(AwfConfig, GhAwDefaultProfile) {
  const AwfConfig config = load_awf_config(fixture("default-strict.json"), ConfigSyntax::Json);
  ASSERT_TRUE(setting(config, "allow-domains"));
  EXPECT_THAT(setting(config, "allow-domains")->values,
              ElementsAre("github.com", "*.githubusercontent.com", "api.githubcopilot.com"));
  EXPECT_EQ(setting(config, "allow-domains")->origin, "network.allowDomains");
  EXPECT_THAT(setting(config, "topology-attach")->values,
              ElementsAre("awmg-mcpg", "awmg-cli-proxy"));
  EXPECT_THAT(setting(config, "network-isolation")->values, ElementsAre("true"));
  EXPECT_THAT(setting(config, "enable-api-proxy")->values, ElementsAre("true"));
  EXPECT_THAT(setting(config, "max-cache-misses")->values, ElementsAre("5"));
  EXPECT_THAT(setting(config, "container-runtime")->values, ElementsAre("gvisor"));
  EXPECT_THAT(setting(config, "proxy-logs-dir")->values,
              ElementsAre("/tmp/gh-aw/sandbox/firewall/logs"));
  // Budgets without a flag: one notice each, naming the key (models: the model policy).
  EXPECT_THAT(config.notices,
              ElementsAre(StartsWith("awf: config.apiProxy.maxAiCredits is not yet built in awf: "),
                          StartsWith("awf: config.apiProxy.maxRuns is not yet built in awf: ")));
  EXPECT_THAT(config.api_proxy_json, HasSubstr("\"maxRuns\":500"));
}

TEST(AwfConfig, OtherGhAwProfiles) {
  AwfConfig config = load_awf_config(fixture("copilot-session-state.json"), ConfigSyntax::Json);
  EXPECT_THAT(setting(config, "session-state-dir")->values,
              ElementsAre("/tmp/gh-aw/sandbox/agent/session-state"));
  EXPECT_THAT(setting(config, "copilot-api-target")->values, ElementsAre("api.githubcopilot.com"));
  config = load_awf_config(fixture("legacy-host-access.json"), ConfigSyntax::Json);
  EXPECT_THAT(setting(config, "allow-host-ports")->values, ElementsAre("80,443,8080"));
  EXPECT_THAT(setting(config, "allow-host-service-ports")->values, ElementsAre("5432,6379"));
  EXPECT_TRUE(setting(config, "enable-host-access"));
  EXPECT_TRUE(setting(config, "legacy-security"));
  config = load_awf_config(fixture("cloud-hypervisor.json"), ConfigSyntax::Json);
  EXPECT_THAT(setting(config, "container-runtime")->values, ElementsAre("cloud-hypervisor"));
  EXPECT_THAT(config.notices, Contains(StartsWith("awf: config.cloudHypervisor has no effect")));
}

TEST(AwfConfig, UnknownKeysNameTheirPath) {
  EXPECT_THAT(error_of(R"({"network": {"foo": 1}})"),
              StartsWith("config.network.foo is not supported (network takes allowDomains"));
  EXPECT_THAT(error_of(R"({"network": {}, "colour": "blue"})"),
              StartsWith("config.colour is not supported"));
  EXPECT_THAT(error_of(R"({"apiProxy": {"targets": {"openai": {"port": 1}}}})"),
              StartsWith("config.apiProxy.targets.openai.port is not supported"));
  EXPECT_THAT(
      error_of("enclaves:\n  - script: {}\n    repos: [{repo: a/b, sensitivity: public, x: 1}]\n"),
      StartsWith("config.enclaves[0].repos[0].x is not supported"));
}

TEST(AwfConfig, OpenMapsTakeAnyKey) {
  const AwfConfig config = load_awf_config(
      R"({"apiProxy": {"providers": {"x": {"y": [1, {"z": null}]}},
          "models": {"any-name": ["a", "b"]}, "modelMultipliers": {"m": 2.5},
          "targets": {"copilot": {"extraHeaders": {"X-A": "1"}}}}})",
      ConfigSyntax::Json);
  // modelMultipliers, extraHeaders; providers (usage accounting) and models (the model
  // policy) are built, so they give none.
  EXPECT_EQ(config.notices.size(), 2u);
  EXPECT_THAT(error_of(R"({"apiProxy": {"modelMultipliers": {"m": 0}}})"),
              HasSubstr("config.apiProxy.modelMultipliers.m must be greater than 0"));
  EXPECT_THAT(error_of(R"({"apiProxy": {"models": {"m": "a"}}})"),
              HasSubstr("config.apiProxy.models.m must be a list"));
}

TEST(AwfConfig, TypesEnumsAndBounds) {
  EXPECT_THAT(error_of(R"({"network": {"allowDomains": "github.com"}})"),
              HasSubstr("config.network.allowDomains must be a list (got the string"));
  EXPECT_THAT(error_of(R"({"network": {"allowDomains": [1]}})"),
              HasSubstr("config.network.allowDomains[0] must be a string (got 1)"));
  EXPECT_THAT(error_of(R"({"container": {"containerRuntime": "runc"}})"),
              HasSubstr("must be docker, gvisor, sbx, cloud-hypervisor or nvx (got the string"));
  EXPECT_THAT(error_of(R"({"container": {"pidsLimit": 0}})"),
              HasSubstr("config.container.pidsLimit must be at least 1 (got 0)"));
  EXPECT_THAT(error_of(R"({"container": {"pidsLimit": 1.5}})"), HasSubstr("a whole number"));
  EXPECT_THAT(error_of(R"({"logging": {"logLevel": "loud"}})"),
              HasSubstr("must be debug, info, warn or error"));
  EXPECT_THAT(error_of(R"({"security": {"enableDlp": "yes"}})"), HasSubstr("true or false"));
  EXPECT_THAT(error_of(R"({"container": {"mounts": ["relative:/x"]}})"),
              HasSubstr("must be /host_path:/container_path[:ro|rw]"));
  EXPECT_THAT(error_of(R"({"network": {"subnet": "10.0.0.0/8"}})"), HasSubstr("/16 to /26"));
  EXPECT_THAT(error_of(R"({"network": []})"), HasSubstr("config.network must be a mapping"));
  EXPECT_THAT(error_of(R"({"enclaves": []})"), HasSubstr("needs at least 1 entries"));
  // A YAML scalar is typed as YAML 1.2 says: quoted "5" is a string.
  EXPECT_THAT(error_of("container:\n  pidsLimit: \"5\"\n"), HasSubstr("a whole number"));
  EXPECT_EQ(error_of("container:\n  pidsLimit: 5\n  tty: true\n"), "<no error>");
}

TEST(AwfConfig, CrossKeyRules) {
  EXPECT_THAT(error_of(R"({"network": {"topologyAttach": ["x"]}})"),
              HasSubstr("config.network.topologyAttach needs config.network.isolation: true"));
  EXPECT_THAT(error_of(R"({"container": {"images": {}, "imageTag": "1"}})"),
              HasSubstr("cannot be combined with config.container.imageTag"));
  EXPECT_THAT(error_of(R"({"apiProxy": {"auth": {"type": "github-oidc", "provider": "aws"}}})"),
              HasSubstr("config.apiProxy.auth.awsRoleArn is required"));
  EXPECT_THAT(error_of(R"({"apiProxy": {"auth": {"provider": "gcp"}}})"),
              HasSubstr("config.apiProxy.auth.type is required"));
  EXPECT_THAT(error_of(R"({"apiProxy": {"routing": {"objective": {"goal": "cost", "mode": "auto"},
              "task": {"conversationFile": "f"}}}})"),
              HasSubstr("needs config.experimental.modelRouting: true"));
  EXPECT_THAT(error_of(R"({"apiProxy": {"hostedWeb": {"claude": {"enabled": true}}}})"),
              HasSubstr("needs allowedDomains or blockedDomains"));
  EXPECT_THAT(error_of(R"({"enclaves": [{"script": {}, "agent": {"model": "m"},
                                          "repos": [{"repo": "a/b", "sensitivity": "sealed"}]}]})"),
              HasSubstr("exactly one of script and agent"));
  EXPECT_THAT(error_of(R"({"rateLimiting": {"maxGithubApiPointsRest": 5}})"),
              HasSubstr("needs config.security.difcProxy.host"));
}

TEST(AwfConfig, EmptyListsUnsetAndFalseSetsNothing) {
  const AwfConfig config = load_awf_config(
      R"({"network": {"allowDomains": [], "isolation": false}, "container": {"tty": false},
          "rateLimiting": {"enabled": false}, "environment": {"excludeEnv": []}})",
      ConfigSyntax::Json);
  ASSERT_EQ(config.settings.size(), 2u);
  EXPECT_EQ(config.settings[0].flag, "no-network-isolation");
  EXPECT_EQ(config.settings[1].flag, "no-rate-limit");
}

TEST(AwfConfig, SyntaxFollowsTheFileName) {
  EXPECT_EQ(config_syntax("a/awf-config.json"), ConfigSyntax::Json);
  EXPECT_EQ(config_syntax("x.yml"), ConfigSyntax::Yaml);
  EXPECT_EQ(config_syntax("x.yaml"), ConfigSyntax::Yaml);
  EXPECT_EQ(config_syntax("-"), ConfigSyntax::Either);
  EXPECT_THAT(error_of("network:\n  isolation: true\n", ConfigSyntax::Json),
              HasSubstr("not valid JSON"));
  EXPECT_THAT(error_of("{\"network\": ", ConfigSyntax::Either), HasSubstr("not valid JSON"));
  EXPECT_THAT(error_of("network: [\n", ConfigSyntax::Yaml), HasSubstr("not valid YAML"));
  EXPECT_EQ(load_awf_config("network:\n  allowDomains: [a.test]\n", ConfigSyntax::Either)
                .settings.front()
                .values,
            std::vector<std::string>{"a.test"});
}

TEST(AwfConfig, FlatAndStructuredFormsAreTold) {
  // awf's flat form: flag names, scalar or list values.
  AwfConfig config = load_config("allowDomains: a.test\nlog-level: debug\n", ConfigSyntax::Either);
  ASSERT_EQ(config.settings.size(), 2u);
  EXPECT_EQ(config.settings[0].flag, "allow-domains");
  EXPECT_TRUE(config.settings[0].origin.empty());
  // A section name, $schema or a mapping value: the structured form, checked as such.
  config = load_config(R"({"$schema": "x", "logging": {"logLevel": "debug"}})", ConfigSyntax::Json);
  EXPECT_EQ(config.settings.front().origin, "logging.logLevel");
  EXPECT_THAT(
      [] {
        try {
          load_config(R"({"netwrk": {"allowDomains": ["a"]}})", ConfigSyntax::Json);
        } catch (const std::invalid_argument& e) {
          return std::string(e.what());
        }
        return std::string();
      }(),
      StartsWith("config.netwrk is not supported"));
}

TEST(AwfConfig, DeepNestingIsRefused) {
  EXPECT_THAT(error_of(std::string(200, '[') + std::string(200, ']')), HasSubstr("too deeply"));
  EXPECT_THAT(error_of("{\"apiProxy\": {\"providers\": " + std::string(100, '[') +
                           std::string(100, ']') + "}}",
                       ConfigSyntax::Json),
              HasSubstr("too deeply"));
}

// Every key of the schema is either taken by a flag of awf or named in a notice, and every
// flag named exists.
void expect_covered(const schema::Node& node, const std::string& path, const CLI::App& app) {
  for (const schema::Field& field : node.fields) {
    const std::string key = path.empty() ? field.key : path + "." + field.key;
    const KeyUse* use = find_key_use(key);
    if (!use) {
      EXPECT_EQ(field.node->kind, schema::Kind::Object) << key << " has no use";
      expect_covered(*field.node, key, app);
      continue;
    }
    for (std::string_view flag :
         {use->kind == KeyUse::Kind::NoEffect || use->kind == KeyUse::Kind::NotYet ||
                  use->kind == KeyUse::Kind::Accept
              ? std::string_view()
              : use->text,
          use->false_flag}) {
      if (flag.empty()) continue;
      EXPECT_NO_THROW(app.get_option("--" + std::string(flag))) << key << " -> " << flag;
    }
  }
}

TEST(AwfConfig, EveryKeyHasAUse) {
  const auto app = describe_options();
  expect_covered(schema::config_schema(), "", *app);
  for (const KeyUse& use : key_uses()) {
    // No row for a key the schema does not know.
    const schema::Node* node = &schema::config_schema();
    std::string_view rest = use.path;
    while (!rest.empty()) {
      const std::size_t dot = rest.find('.');
      const schema::Field* field = node->field(rest.substr(0, dot));
      ASSERT_TRUE(field) << use.path;
      node = field->node.get();
      rest = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    }
  }
}

// Upstream's schema (a copy under tests/fixtures/awf-schema): every key it has is in awf's
// table, with a fitting type and every enum value it allows.
schema::Kind kind_for(const nlohmann::json& up) {
  const nlohmann::json type = up.value("type", nlohmann::json());
  if (type.is_array()) return schema::Kind::NumberOrNull;  // ["number", "null"]
  if (type == "object") {
    if (up.contains("properties")) return schema::Kind::Object;
    return up.value("additionalProperties", nlohmann::json()).is_object()
               ? schema::Kind::Map
               : schema::Kind::OpenObject;
  }
  if (type == "array") return schema::Kind::Array;
  if (type == "integer") return schema::Kind::Integer;
  if (type == "number") return schema::Kind::Number;
  if (type == "boolean") return schema::Kind::Boolean;
  if (type == "string") return schema::Kind::String;
  // oneOf: string | list of strings, or boolean | enum
  return up["oneOf"][0]["type"] == "boolean" ? schema::Kind::BoolOrChoice
                                             : schema::Kind::StringOrList;
}

void expect_fits(const nlohmann::json& defs, nlohmann::json up, const schema::Node& mine,
                 const std::string& path) {
  if (up.contains("$ref")) {
    const std::string ref = up["$ref"];
    up = defs[ref.substr(ref.rfind('/') + 1)];
  }
  ASSERT_EQ(mine.kind, kind_for(up)) << path;
  const nlohmann::json properties = up.value("properties", nlohmann::json::object());
  for (const auto& [key, sub] : properties.items()) {
    const schema::Field* field = mine.field(key);
    EXPECT_TRUE(field) << path << "." << key << " is missing";
    if (field) expect_fits(defs, sub, *field->node, path + "." + key);
  }
  const nlohmann::json choices = up.value("enum", nlohmann::json::array());
  for (const auto& value : choices) {
    EXPECT_THAT(mine.choices, Contains(value.get<std::string>())) << path;
  }
  if (mine.kind == schema::Kind::Array && up["items"].contains("type")) {
    expect_fits(defs, up["items"], *mine.element, path + "[]");
  }
  if (mine.kind == schema::Kind::Map) {
    expect_fits(defs, up["additionalProperties"], *mine.element, path + ".*");
  }
}

TEST(AwfConfig, KnowsEveryKeyOfUpstreamsSchema) {
  std::ifstream in(std::string(AWF_FIXTURES_DIR) + "/awf-schema/awf-config.schema.json");
  const nlohmann::json upstream = nlohmann::json::parse(in);
  expect_fits(upstream["$defs"], upstream, schema::config_schema(), "config");
}

TEST(AwfConfigPatterns, Shapes) {
  using namespace schema;
  const std::string digest(64, 'a');
  EXPECT_TRUE(
      is_digest_pinned_image("ghcr.io/github/gh-aw-firewall/agent:0.28.20@sha256:" + digest));
  EXPECT_TRUE(is_digest_pinned_image("localhost:5000/a__b/c-d:v1@sha256:" + digest));
  EXPECT_FALSE(is_digest_pinned_image("agent:1@sha256:" + digest));  // no registry
  EXPECT_FALSE(is_digest_pinned_image("ghcr.io/Agent:1@sha256:" + digest));
  EXPECT_FALSE(is_digest_pinned_image("ghcr.io/a:1@sha256:" + std::string(64, 'A')));
  EXPECT_FALSE(is_digest_pinned_image("ghcr.io/a-.b:1@sha256:" + digest));
  EXPECT_TRUE(is_mount_shape("/a:/b") && is_mount_shape("/a:/b:ro"));
  EXPECT_FALSE(is_mount_shape("/a:/b:rx") || is_mount_shape("a:/b") || is_mount_shape("/a"));
  EXPECT_TRUE(is_allow_write_path("/work/a..b"));
  EXPECT_FALSE(is_allow_write_path("/work/../etc") || is_allow_write_path("/w/*"));
  EXPECT_TRUE(is_subnet_cidr("172.30.0.0/24"));
  EXPECT_FALSE(is_subnet_cidr("172.30.0.0/27") || is_subnet_cidr("172.030.0.0/24") ||
               is_subnet_cidr("1.2.3/24") || is_subnet_cidr("256.1.1.1/16"));
  EXPECT_TRUE(is_release_tag("v0.28.31") && is_release_tag("v1.2.3-rc.1"));
  EXPECT_FALSE(is_release_tag("0.28.31") || is_release_tag("v1.2"));
  EXPECT_TRUE(is_repo_slug("github/gh-aw") && !is_repo_slug("a/..") && !is_repo_slug("a/."));
  EXPECT_TRUE(is_timestamp("2026-01-02T03:04:05Z") && is_timestamp("2026-01-02T03:04:05.5+01:00"));
  EXPECT_FALSE(is_timestamp("2026-01-02 03:04:05Z"));
  EXPECT_TRUE(is_hosted_web_domain("docs.example.com") && !is_hosted_web_domain("Example.com"));
  EXPECT_TRUE(is_size_limit("512m") && !is_size_limit("0m") && is_cpu_limit("0.5") &&
              !is_cpu_limit("100"));
  EXPECT_TRUE(is_token_log_dir("/var/log/api-proxy/x") && !is_token_log_dir("/var/log/api-proxyx"));
}

}  // namespace
}  // namespace awf::cli
