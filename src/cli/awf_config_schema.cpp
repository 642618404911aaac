#include "cli/awf_config_schema.h"

#include <initializer_list>
#include <utility>

namespace awf::cli::schema {
namespace {

using Fields = std::initializer_list<std::pair<const char*, NodePtr>>;
using Names = std::initializer_list<const char*>;

NodePtr make(Node node) {
  return std::make_shared<const Node>(std::move(node));
}

NodePtr str() {
  return make({});
}
NodePtr boolean() {
  return make({.kind = Kind::Boolean});
}

NodePtr choice(Names choices) {
  Node node;
  for (const char* c : choices) node.choices.emplace_back(c);
  return make(std::move(node));
}

NodePtr patterned(bool (*pattern)(std::string_view), const char* shape,
                  std::size_t max_length = std::numeric_limits<std::size_t>::max()) {
  return make({.max_length = max_length, .pattern = pattern, .shape = shape});
}

NodePtr integer(double minimum = 1, std::optional<double> maximum = std::nullopt) {
  return make({.kind = Kind::Integer, .minimum = minimum, .maximum = maximum});
}

NodePtr positive_number() {
  return make({.kind = Kind::Number, .minimum = 0.0, .exclusive_minimum = true});
}

NodePtr price() {
  return make({.kind = Kind::Number, .minimum = 0.0});
}

NodePtr list(NodePtr element, std::size_t min_items = 0,
             std::size_t max_items = std::numeric_limits<std::size_t>::max(), bool unique = false) {
  return make({.kind = Kind::Array,
               .min_items = min_items,
               .max_items = max_items,
               .unique_items = unique,
               .element = std::move(element)});
}

NodePtr strings() {
  return list(str());
}

NodePtr object(Fields fields, Names required = {}) {
  Node node{.kind = Kind::Object};
  for (const auto& [key, value] : fields) node.fields.push_back({key, value});
  for (const char* key : required) node.required.emplace_back(key);
  return make(std::move(node));
}

NodePtr map_of(NodePtr value) {
  return make({.kind = Kind::Map, .element = std::move(value)});
}

NodePtr network() {
  return object({{"allowDomains", strings()},
                 {"blockDomains", strings()},
                 {"dnsServers", strings()},
                 {"subnet", patterned(is_subnet_cidr, "an IPv4 CIDR with a /16 to /26 prefix")},
                 {"upstreamProxy", str()},
                 {"isolation", boolean()},
                 {"topologyAttach", strings()},
                 {"verifySbxEgress", boolean()}});
}

NodePtr provider_target() {
  return object({{"host", str()}, {"basePath", str()}, {"authHeader", str()}});
}

NodePtr targets() {
  return object(
      {{"openai", object({{"host", str()},
                          {"basePath", str()},
                          {"authHeader", str()},
                          {"baseUrlEnv", patterned(is_env_name_shape, "a variable name")}})},
       {"anthropic", provider_target()},
       {"copilot", object({{"host", str()},
                           {"extraHeaders", map_of(str())},
                           {"extraBodyFields", map_of(str())},
                           {"sessionId", str()}})},
       {"gemini", provider_target()},
       {"vertex", provider_target()},
       {"antigravity", provider_target()}});
}

NodePtr auth() {
  return object({{"type", choice({"github-oidc"})},
                 {"provider", choice({"azure", "aws", "gcp", "anthropic"})},
                 {"oidcAudience", str()},
                 {"azureTenantId", str()},
                 {"azureClientId", str()},
                 {"azureScope", str()},
                 {"azureCloud", choice({"public", "usgovernment", "china"})},
                 {"awsRoleArn", str()},
                 {"awsRegion", str()},
                 {"awsRoleSessionName", str()},
                 {"gcpWorkloadIdentityProvider", str()},
                 {"gcpServiceAccount", str()},
                 {"gcpScope", str()},
                 {"anthropicFederationRuleId", str()},
                 {"anthropicOrganizationId", str()},
                 {"anthropicServiceAccountId", str()},
                 {"anthropicWorkspaceId", str()},
                 {"anthropicTokenUrl", str()}},
                {"type"});
}

NodePtr hosted_web_policy() {
  const NodePtr domains = list(patterned(is_hosted_web_domain, "a lower-case domain name", 253), 1,
                               std::numeric_limits<std::size_t>::max(), true);
  return object({{"enabled", boolean()},
                 {"allowedDomains", domains},
                 {"blockedDomains", domains},
                 {"maxUses", integer()}},
                {"enabled"});
}

NodePtr routing() {
  return object(
      {{"candidateModels", list(str(), 1)},
       {"objective", object({{"goal", choice({"cost", "cost-speed"})},
                             {"mode", choice({"economy", "balanced", "robust", "auto"})}},
                            {"goal", "mode"})},
       {"task", object({{"conversationFile", make({.min_length = 1})}}, {"conversationFile"})}},
      {"objective", "task"});
}

NodePtr api_proxy_budgets_and_policy(Node node) {
  for (auto& field : std::initializer_list<std::pair<const char*, NodePtr>>{
           {"maxEffectiveTokens", integer()},
           {"maxAiCredits", positive_number()},
           {"defaultAiCreditsPricing",
            object({{"input", price()},
                    {"output", price()},
                    {"cachedInput", price()},
                    {"cacheWrite", make({.kind = Kind::NumberOrNull, .minimum = 0.0})}},
                   {"input", "output"})},
           {"providers", make({.kind = Kind::OpenObject})},
           {"modelMultipliers", map_of(positive_number())},
           {"defaultModelMultiplier", positive_number()},
           {"maxModelMultiplierCap", positive_number()},
           {"maxTurns", integer()},
           {"maxRuns", integer()},
           {"maxPermissionDenied", integer()},
           {"maxCacheMisses", integer()},
           {"requestedModel", str()},
           {"modelFallback", object({{"enabled", boolean()},
                                     {"strategy", choice({"middle_power"})},
                                     {"excludeEngines", strings()}})},
           {"modelRouter", object({{"providerType", str()}, {"baseUrl", str()}})},
           {"routing", routing()},
           {"targets", targets()},
           {"models", map_of(strings())},
           {"allowedModels", strings()},
           {"disallowedModels", strings()},
           {"auth", auth()},
           {"logging",
            object({{"debugTokens", boolean()},
                    {"tokenLogDir", patterned(is_token_log_dir, "/var/log/api-proxy[/...]")}})},
           {"diagnostics",
            object({{"captureBlockedRequests", make({.kind = Kind::BoolOrChoice,
                                               .choices = {"summary", "redacted", "full"}})},
                    {"maxCapturedBytes", integer()}})}}) {
    node.fields.push_back({field.first, field.second});
  }
  return make(std::move(node));
}

NodePtr api_proxy() {
  Node node = *object(
      {{"enabled", boolean()},
       {"caCert", str()},
       {"enableTokenSteering", boolean()},
       {"anthropicAutoCache", boolean()},
       {"anthropicCacheTailTtl", choice({"5m", "1h"})},
       {"hostedWeb", object({{"claude", hosted_web_policy()}, {"codex", hosted_web_policy()}})}});
  return api_proxy_budgets_and_policy(std::move(node));
}

NodePtr security() {
  const NodePtr ports = make({.kind = Kind::StringOrList});
  return object({{"legacySecurity", boolean()},
                 {"securityMode", choice({"strict", "compat"})},
                 {"sslBump", boolean()},
                 {"enableDlp", boolean()},
                 {"enableHostAccess", boolean()},
                 {"allowHostPorts", ports},
                 {"allowHostServicePorts", ports},
                 {"difcProxy", object({{"host", str()}, {"caCert", str()}})}});
}

NodePtr images() {
  const NodePtr image =
      patterned(is_digest_pinned_image, "registry/name:tag@sha256:<64 hex digits>", 1000);
  Node node{.kind = Kind::Object};
  for (const char* key :
       {"squid", "agent", "apiProxy", "router", "cliProxy", "buildTools", "dohProxy",
        "enclaveScript", "enclaveAgent", "enclaveMcpServer", "dindStaging"}) {
    node.fields.push_back({key, image});
  }
  return make(std::move(node));
}

NodePtr container() {
  return object(
      {{"containerRuntime", choice({"docker", "gvisor", "sbx", "cloud-hypervisor", "nvx"})},
       {"memoryLimit", str()},
       {"pidsLimit", integer(1, 9007199254740991.0)},
       {"agentTimeout", integer()},
       {"enableDind", boolean()},
       {"workDir", str()},
       {"containerWorkDir", str()},
       {"images", images()},
       {"imageRegistry", str()},
       {"imageTag", str()},
       {"skipPull", boolean()},
       {"buildLocal", boolean()},
       {"agentImage", str()},
       {"tty", boolean()},
       {"dockerHost", str()},
       {"dockerHostPathPrefix", str()},
       {"runnerToolCachePath", str()},
       {"mounts", list(patterned(is_mount_shape, "/host_path:/container_path[:ro|rw]"))}});
}

NodePtr cloud_hypervisor() {
  const NodePtr digest = patterned(is_sha256_hex, "64 hexadecimal digits");
  return object({{"previewEnabled", boolean()},
                 {"mountPolicy", choice({"workspace-only", "workspace-and-tool-cache"})},
                 {"cloudHypervisorBinary", str()},
                 {"kernelPath", str()},
                 {"rootfsPath", str()},
                 {"supervisorPath", str()},
                 {"artifactManifestPath", str()},
                 {"artifactManifestBundlePath", str()},
                 {"artifactReleaseTag", patterned(is_release_tag, "vMAJOR.MINOR.PATCH")},
                 {"developmentAllowUnattestedArtifacts", boolean()},
                 {"vcpuCount", integer()},
                 {"memoryMib", integer()},
                 {"apiTimeoutMs", integer()},
                 {"sha256", object({{"cloudHypervisor", digest},
                                    {"virtiofsd", digest},
                                    {"kernel", digest},
                                    {"rootfs", digest},
                                    {"supervisor", digest}})}});
}

NodePtr chroot_and_dind(bool chroot) {
  if (chroot) {
    return object(
        {{"binariesSourcePath", str()},
         {"identity",
          object({{"home", str()}, {"user", str()}, {"uid", integer()}, {"gid", integer()}})}});
  }
  return object({{"preStageDirs", boolean()},
                 {"workDir", str()},
                 {"stagingImage", str()},
                 {"stageEngineBinary", object({{"path", str()}, {"targetPath", str()}})}});
}

NodePtr repo_list() {
  return list(
      object({{"repo", patterned(is_repo_slug, "owner/repository", 140)},
              {"sensitivity", choice({"trusted", "public", "internal", "confidential", "sealed"})}},
             {"repo", "sensitivity"}),
      1);
}

NodePtr enclave_agent() {
  const NodePtr tools_github =
      object({{"allowed", list(choice({"list_issues", "issue_read"}), 1,
                               std::numeric_limits<std::size_t>::max(), true)},
              {"allowedRepos", list(patterned(is_repo_slug, "owner/repository", 140), 1)},
              {"minIntegrity", choice({"none", "unapproved", "approved", "merged"})}},
             {"allowed", "allowedRepos"});
  return object({{"engine", choice({"copilot", "claude", "codex", "gemini"})},
                 {"profile", choice({"openai", "anthropic"})},
                 {"model", patterned(is_enclave_model, "a model name", 200)},
                 {"maxTaskBytes", integer(1, 65536)},
                 {"maxModelRequests", integer(1, 10000)},
                 {"maxModelTokens", integer(1, 10000000)},
                 {"github", object({{"cli", choice({"issues-read-v1"})}}, {"cli"})},
                 {"tools", object({{"github", tools_github}})}},
                {"model"});
}

NodePtr enclave_dynamic() {
  const NodePtr size = patterned(is_size_limit, "N followed by b, k, m or g");
  const NodePtr limits =
      object({{"timeoutSeconds", integer(1, 4740)},
              {"memoryLimit", size},
              {"cpuLimit", patterned(is_cpu_limit, "a number like 1 or 0.5")},
              {"pidsLimit", integer(1, 4096)},
              {"tmpfsLimit", size},
              {"maxOutputBytes", integer(1, 8192)},
              {"maxTaskBytes", integer(1, 65536)},
              {"maxModelRequests", integer(1, 64)},
              {"maxModelTokens", integer(1, 32768)}},
             {"timeoutSeconds", "memoryLimit", "cpuLimit", "pidsLimit", "tmpfsLimit",
              "maxOutputBytes", "maxTaskBytes", "maxModelRequests", "maxModelTokens"});
  const NodePtr quotas = object({{"maxInvocations", integer(1, 10000)},
                                 {"maxOutputBytes", integer(1, 1048576)},
                                 {"maxExecutionSeconds", integer(1, 86400)}},
                                {"maxInvocations", "maxOutputBytes", "maxExecutionSeconds"});
  const NodePtr policy =
      object({{"version", choice({"github-repository-read-v1"})},
              {"tools", list(choice({"list_issues", "issue_read"}), 2, 2, true)}},
             {"version", "tools"});
  return object(
      {{"allowedOwners", list(patterned(is_lower_owner, "a lower-case owner", 39), 0, 256)},
       {"allowedRepositories",
        list(patterned(is_lower_repo_slug, "a lower-case owner/repository"), 0, 256)},
       {"sensitivity", choice({"trusted", "public", "internal", "confidential", "sealed"})},
       {"executor", choice({"agent"})},
       {"githubPolicy", policy},
       {"maxRepositories", integer(1, 1000)},
       {"limits", limits},
       {"quotas", quotas},
       {"auditLabels",
        list(patterned(is_audit_label, "a label of letters, digits and _.:-", 128), 1, 32, true)},
       {"expiresAt", patterned(is_timestamp, "an ISO-8601 date and time with a zone")}},
      {"allowedOwners", "allowedRepositories", "sensitivity", "executor", "githubPolicy",
       "maxRepositories", "limits", "quotas", "auditLabels", "expiresAt"});
}

NodePtr enclaves() {
  const NodePtr size = patterned(is_size_limit, "N followed by b, k, m or g");
  const NodePtr entry =
      object({{"script", object({{"maxScriptBytes", integer(1, 65536)}})},
              {"agent", enclave_agent()},
              {"repos", repo_list()},
              {"dynamic", enclave_dynamic()},
              {"timeout", integer(1, 4740)},
              // v0.28.4 allows gvisor and sbx, later v0.28 releases cloud-hypervisor: all accepted.
              {"runtime", choice({"docker", "gvisor", "sbx", "cloud-hypervisor"})},
              {"image", make({.min_length = 1, .max_length = 500})},
              {"memoryLimit", size},
              {"cpuLimit", patterned(is_cpu_limit, "a number like 1 or 0.5")},
              {"pidsLimit", integer(1, 4096)},
              {"tmpfsLimit", size},
              {"maxOutputBytes", integer(1, 8192)},
              {"maxInvocations", integer(1, 10000)}});
  return list(entry, 1, 2);
}

NodePtr root() {
  const NodePtr rate_limiting = object({{"enabled", boolean()},
                                        {"requestsPerMinute", integer()},
                                        {"requestsPerHour", integer()},
                                        {"bytesPerMinute", integer()},
                                        {"maxGithubApiPointsRest", integer()},
                                        {"maxGithubApiPointsGraphql", integer()}});
  return object(
      {{"$schema", str()},
       {"experimental", object({{"modelRouting", boolean()}})},
       {"network", network()},
       {"filesystem",
        object({{"allowWrite",
                 list(patterned(is_allow_write_path, "an absolute path without globs or '..'"))}})},
       {"apiProxy", api_proxy()},
       {"security", security()},
       {"container", container()},
       {"cloudHypervisor", cloud_hypervisor()},
       {"chroot", chroot_and_dind(true)},
       {"dind", chroot_and_dind(false)},
       {"environment",
        object({{"envFile", str()}, {"envAll", boolean()}, {"excludeEnv", strings()}})},
       {"logging", object({{"logLevel", choice({"debug", "info", "warn", "error"})},
                           {"diagnosticLogs", boolean()},
                           {"auditDir", str()},
                           {"proxyLogsDir", str()},
                           {"sessionStateDir", str()}})},
       {"rateLimiting", rate_limiting},
       {"platform", object({{"type", choice({"github.com", "ghes", "ghec", "ghec-self-hosted"})}})},
       {"runner",
        object({{"topology", choice({"standard", "arc-dind"})}, {"sysrootImage", str()}})},
       {"enclaves", enclaves()}});
}

}  // namespace

const Field* Node::field(std::string_view key) const {
  for (const Field& f : fields) {
    if (f.key == key) return &f;
  }
  return nullptr;
}

const Node& config_schema() {
  static const NodePtr schema = root();
  return *schema;
}

}  // namespace awf::cli::schema
