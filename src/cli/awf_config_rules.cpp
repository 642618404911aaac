#include "cli/awf_config_rules.h"

#include <initializer_list>
#include <stdexcept>
#include <string>

namespace awf::cli {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::invalid_argument(what);
}

// The value at a dotted path, or nullptr.
const Json* at(const Json& root, std::initializer_list<const char*> keys) {
  const Json* node = &root;
  for (const char* key : keys) {
    if (!node->is_object() || !node->contains(key)) return nullptr;
    node = &(*node)[key];
  }
  return node;
}

bool has(const Json& object, const char* key) {
  return object.contains(key);
}

void check_topology(const Json& root) {
  if (!at(root, {"network", "topologyAttach"})) return;
  const Json* isolation = at(root, {"network", "isolation"});
  if (!isolation || *isolation != true) {
    fail("config.network.topologyAttach needs config.network.isolation: true");
  }
}

void require_all(const Json& auth, std::initializer_list<const char*> keys, const char* provider) {
  for (const char* key : keys) {
    if (!has(auth, key)) {
      fail(std::string("config.apiProxy.auth.") + key + " is required when the provider is " +
           provider);
    }
  }
}

void check_auth(const Json& root) {
  const Json* auth = at(root, {"apiProxy", "auth"});
  if (!auth) return;
  const std::string provider = auth->value("provider", std::string("azure"));
  if (provider == "aws") {
    require_all(*auth, {"awsRoleArn", "awsRegion"}, "aws");
  } else if (provider == "gcp") {
    require_all(*auth, {"gcpWorkloadIdentityProvider"}, "gcp");
  } else if (provider == "anthropic") {
    require_all(
        *auth,
        {"anthropicFederationRuleId", "anthropicOrganizationId", "anthropicServiceAccountId"},
        "anthropic");
  } else {
    require_all(*auth, {"azureTenantId", "azureClientId"}, "azure (the default)");
  }
}

void check_routing(const Json& root) {
  if (!at(root, {"apiProxy", "routing"})) return;
  const Json* opt_in = at(root, {"experimental", "modelRouting"});
  if (!opt_in || *opt_in != true) {
    fail("config.apiProxy.routing needs config.experimental.modelRouting: true");
  }
}

void check_images(const Json& root) {
  if (!at(root, {"container", "images"})) return;
  // AWF: a closed image manifest cannot be combined with anything that picks another image.
  const std::pair<const char*, const char*> conflicts[] = {
      {"container", "imageRegistry"}, {"container", "imageTag"}, {"container", "agentImage"},
      {"container", "buildLocal"},    {"security", "sslBump"},   {"runner", "sysrootImage"},
      {"dind", "stagingImage"},
  };
  for (const auto& [section, key] : conflicts) {
    if (at(root, {section, key})) {
      fail(std::string("config.container.images cannot be combined with config.") + section +
           "." + key);
    }
  }
}

void check_hosted_web(const Json& root) {
  for (const char* engine : {"claude", "codex"}) {
    const Json* policy = at(root, {"apiProxy", "hostedWeb", engine});
    if (!policy) continue;
    const std::string path = std::string("config.apiProxy.hostedWeb.") + engine;
    const bool allowed = has(*policy, "allowedDomains");
    const bool blocked = has(*policy, "blockedDomains");
    if (allowed && blocked) fail(path + " takes allowedDomains or blockedDomains, not both");
    if ((*policy)["enabled"] == true && !allowed && !blocked) {
      fail(path + " with enabled: true needs allowedDomains or blockedDomains");
    }
    if ((*policy)["enabled"] == false && (allowed || blocked || has(*policy, "maxUses"))) {
      fail(path + " with enabled: false takes no allowedDomains, blockedDomains or maxUses");
    }
  }
}

void check_enclave(const Json& entry, const std::string& path, int& scripts, int& agents) {
  const bool script = has(entry, "script");
  const bool agent = has(entry, "agent");
  if (script == agent) fail(path + " needs exactly one of script and agent");
  scripts += script ? 1 : 0;
  agents += agent ? 1 : 0;
  const bool repos = has(entry, "repos");
  const bool dynamic = has(entry, "dynamic");
  if (repos == dynamic) fail(path + " needs exactly one of repos and dynamic");
  if (dynamic && !agent) fail(path + ".dynamic is for agent entries only");
  if (agent && has(entry["agent"], "github") && has(entry["agent"], "tools")) {
    fail(path + ".agent takes github or tools, not both");
  }
}

void check_enclaves(const Json& root) {
  const Json* enclaves = at(root, {"enclaves"});
  if (!enclaves) return;
  int scripts = 0;
  int agents = 0;
  for (std::size_t i = 0; i < enclaves->size(); ++i) {
    check_enclave((*enclaves)[i], "config.enclaves[" + std::to_string(i) + "]", scripts, agents);
  }
  if (scripts > 1 || agents > 1) {
    fail("config.enclaves takes at most one script entry and one agent entry");
  }
}

void check_github_points(const Json& root) {
  for (const char* key : {"maxGithubApiPointsRest", "maxGithubApiPointsGraphql"}) {
    if (at(root, {"rateLimiting", key}) && !at(root, {"security", "difcProxy", "host"})) {
      fail(std::string("config.rateLimiting.") + key + " needs config.security.difcProxy.host");
    }
  }
}

}  // namespace

void check_config_rules(const Json& root) {
  check_topology(root);
  check_auth(root);
  check_routing(root);
  check_images(root);
  check_hosted_web(root);
  check_enclaves(root);
  check_github_points(root);
}

}  // namespace awf::cli
