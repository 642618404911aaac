// How awf takes each key of AWF's config file: the flag that does what the key says, or the
// reason it is accepted without effect. One row per key (a row for a section covers all of it).
#include "cli/awf_config_keys.h"

#include <array>

namespace awf::cli {
namespace {

constexpr std::string_view kDocker = kWhyDocker;
constexpr std::string_view kMicroVm = kWhyMicroVm;
constexpr std::string_view kChroot =
    "it sets up AWF's chroot inside its agent container; awf's sandbox builds its own view";
constexpr std::string_view kDind =
    "it stages files for a Docker-in-Docker daemon; awf uses no Docker";
constexpr std::string_view kBudget = kWhyBudget;
constexpr std::string_view kProvider = kWhyProvider;
constexpr std::string_view kGithubPoints = kWhyGithubPoints;
// AWF's schema accepts the key for every target, but its api-proxy reads it for OpenAI and
// Anthropic only; a Google key header of awf's choosing would break a config that works in AWF.
constexpr std::string_view kGoogleKeyHeader =
    "AWF ignores it too: Gemini and Vertex AI always get the key in x-goog-api-key";

using U = KeyUse::Kind;

constexpr std::array kKeyUses{
    KeyUse{"$schema", U::Accept, ""},
    KeyUse{"experimental.modelRouting", U::NotYet, kBudget},
    KeyUse{"network.allowDomains", U::Flag, "allow-domains"},
    KeyUse{"network.blockDomains", U::Flag, "block-domains"},
    KeyUse{"network.dnsServers", U::Flag, "dns-servers"},
    KeyUse{"network.subnet", U::NoEffect,
           "it is the subnet of AWF's Docker network; awf's sandbox has no such network"},
    KeyUse{"network.upstreamProxy", U::Flag, "upstream-proxy"},
    KeyUse{"network.isolation", U::Flag, "network-isolation", "no-network-isolation"},
    KeyUse{"network.topologyAttach", U::Flag, "topology-attach"},
    KeyUse{"network.verifySbxEgress", U::NoEffect,
           "it checks Docker sbx's egress; awf runs no sbx"},
    KeyUse{"filesystem.allowWrite", U::NoEffect,
           "mounts keep the mode --mount gives them (rw unless :ro)"},
    KeyUse{"apiProxy.enabled", U::Flag, "enable-api-proxy"},
    KeyUse{"apiProxy.caCert", U::Flag, "api-proxy-ca-cert"},
    KeyUse{"apiProxy.enableTokenSteering", U::Flag, "enable-token-steering"},
    KeyUse{"apiProxy.anthropicAutoCache", U::Flag, "anthropic-auto-cache"},
    KeyUse{"apiProxy.anthropicCacheTailTtl", U::Flag, "anthropic-cache-tail-ttl"},
    KeyUse{"apiProxy.hostedWeb", U::NotYet, kBudget},
    KeyUse{"apiProxy.maxEffectiveTokens", U::Accept, ""},  // api_budget.h
    KeyUse{"apiProxy.maxAiCredits", U::Accept, ""},  // api_budget.h
    // Read from the apiProxy section by the usage accounting (cli/api_proxy_setup.cpp).
    KeyUse{"apiProxy.defaultAiCreditsPricing", U::Accept, ""},
    KeyUse{"apiProxy.providers", U::Accept, ""},
    KeyUse{"apiProxy.modelMultipliers", U::Accept, ""},  // api_budget.h
    KeyUse{"apiProxy.defaultModelMultiplier", U::Accept, ""},  // api_budget.h
    KeyUse{"apiProxy.maxModelMultiplierCap", U::Flag, "max-model-multiplier-cap"},
    KeyUse{"apiProxy.maxTurns", U::Accept, ""},  // api_budget.h
    KeyUse{"apiProxy.maxRuns", U::Accept, ""},  // api_budget.h
    KeyUse{"apiProxy.maxPermissionDenied", U::Flag, "max-permission-denied"},
    KeyUse{"apiProxy.maxCacheMisses", U::Flag, "max-cache-misses"},
    KeyUse{"apiProxy.requestedModel", U::Accept, ""},  // model_policy.h
    KeyUse{"apiProxy.modelFallback", U::NotYet, kBudget},
    KeyUse{"apiProxy.modelRouter", U::NotYet, kProvider},
    KeyUse{"apiProxy.routing", U::NotYet, kBudget},
    KeyUse{"apiProxy.targets.openai.host", U::Flag, "openai-api-target"},
    KeyUse{"apiProxy.targets.openai.basePath", U::Flag, "openai-api-base-path"},
    KeyUse{"apiProxy.targets.openai.authHeader", U::Flag, "openai-api-auth-header"},
    KeyUse{"apiProxy.targets.openai.baseUrlEnv", U::Flag, "openai-base-url-env"},
    KeyUse{"apiProxy.targets.anthropic.host", U::Flag, "anthropic-api-target"},
    KeyUse{"apiProxy.targets.anthropic.basePath", U::Flag, "anthropic-api-base-path"},
    KeyUse{"apiProxy.targets.anthropic.authHeader", U::Flag, "anthropic-api-auth-header"},
    KeyUse{"apiProxy.targets.copilot.host", U::Flag, "copilot-api-target"},
    KeyUse{"apiProxy.targets.copilot.extraHeaders", U::NotYet, kProvider},
    KeyUse{"apiProxy.targets.copilot.extraBodyFields", U::NotYet, kProvider},
    KeyUse{"apiProxy.targets.copilot.sessionId", U::NotYet, kProvider},
    KeyUse{"apiProxy.targets.gemini.host", U::Flag, "gemini-api-target"},
    KeyUse{"apiProxy.targets.gemini.basePath", U::Flag, "gemini-api-base-path"},
    KeyUse{"apiProxy.targets.gemini.authHeader", U::NoEffect, kGoogleKeyHeader},
    KeyUse{"apiProxy.targets.vertex.host", U::Flag, "vertex-api-target"},
    KeyUse{"apiProxy.targets.vertex.basePath", U::Flag, "vertex-api-base-path"},
    KeyUse{"apiProxy.targets.vertex.authHeader", U::NoEffect, kGoogleKeyHeader},
    // AWF: Antigravity is Gemini's runtime under another name, and wins over targets.gemini.
    KeyUse{"apiProxy.targets.antigravity.host", U::Flag, "gemini-api-target"},
    KeyUse{"apiProxy.targets.antigravity.basePath", U::Flag, "gemini-api-base-path"},
    KeyUse{"apiProxy.targets.antigravity.authHeader", U::NoEffect, kGoogleKeyHeader},
    KeyUse{"apiProxy.models", U::Accept, ""},  // model_policy.h
    KeyUse{"apiProxy.allowedModels", U::Accept, ""},  // model_policy.h
    KeyUse{"apiProxy.disallowedModels", U::Accept, ""},  // model_policy.h
    KeyUse{"apiProxy.auth", U::NotYet,
           "the API proxy has no OIDC credential exchange yet; the value is ignored"},
    KeyUse{"apiProxy.logging", U::NotYet, kBudget},
    KeyUse{"apiProxy.diagnostics", U::NotYet, kBudget},
    KeyUse{"security.legacySecurity", U::Flag, "legacy-security"},
    KeyUse{"security.securityMode", U::Flag, "security-mode"},
    KeyUse{"security.sslBump", U::Flag, "ssl-bump"},
    KeyUse{"security.enableDlp", U::Flag, "enable-dlp"},
    KeyUse{"security.enableHostAccess", U::Flag, "enable-host-access"},
    KeyUse{"security.allowHostPorts", U::JoinedFlag, "allow-host-ports"},
    KeyUse{"security.allowHostServicePorts", U::JoinedFlag, "allow-host-service-ports"},
    KeyUse{"security.difcProxy.host", U::Flag, "difc-proxy-host"},
    KeyUse{"security.difcProxy.caCert", U::Flag, "difc-proxy-ca-cert"},
    KeyUse{"container.containerRuntime", U::Flag, "container-runtime"},
    KeyUse{"container.memoryLimit", U::Flag, "memory-limit"},
    KeyUse{"container.pidsLimit", U::Flag, "pids-limit"},
    KeyUse{"container.agentTimeout", U::Flag, "agent-timeout"},
    KeyUse{"container.enableDind", U::Flag, "enable-dind"},
    KeyUse{"container.workDir", U::Flag, "work-dir"},
    KeyUse{"container.containerWorkDir", U::Flag, "container-workdir"},
    KeyUse{"container.images", U::NoEffect, kDocker},
    KeyUse{"container.imageRegistry", U::Flag, "image-registry"},
    KeyUse{"container.imageTag", U::Flag, "image-tag"},
    KeyUse{"container.skipPull", U::Flag, "skip-pull"},
    KeyUse{"container.buildLocal", U::Flag, "build-local"},
    KeyUse{"container.agentImage", U::Flag, "agent-image"},
    KeyUse{"container.tty", U::Flag, "tty"},
    KeyUse{"container.dockerHost", U::Flag, "docker-host"},
    KeyUse{"container.dockerHostPathPrefix", U::Flag, "docker-host-path-prefix"},
    KeyUse{"container.runnerToolCachePath", U::NoEffect,
           "it mounts the tool cache into AWF's chroot; awf shows host directories as they are "
           "(use --mount for others)"},
    KeyUse{"container.mounts", U::Flag, "mount"},
    KeyUse{"cloudHypervisor", U::NoEffect, kMicroVm},
    KeyUse{"chroot", U::NoEffect, kChroot},
    KeyUse{"dind", U::NoEffect, kDind},
    KeyUse{"environment.envFile", U::Flag, "env-file"},
    KeyUse{"environment.envAll", U::Flag, "env-all"},
    KeyUse{"environment.excludeEnv", U::Flag, "exclude-env"},
    KeyUse{"logging.logLevel", U::Flag, "log-level"},
    KeyUse{"logging.diagnosticLogs", U::Flag, "diagnostic-logs"},
    KeyUse{"logging.auditDir", U::Flag, "audit-dir"},
    KeyUse{"logging.proxyLogsDir", U::Flag, "proxy-logs-dir"},
    KeyUse{"logging.sessionStateDir", U::Flag, "session-state-dir"},
    // AWF: only an explicit `enabled: false` means --no-rate-limit.
    KeyUse{"rateLimiting.enabled", U::Flag, "", "no-rate-limit"},
    KeyUse{"rateLimiting.requestsPerMinute", U::Flag, "rate-limit-rpm"},
    KeyUse{"rateLimiting.requestsPerHour", U::Flag, "rate-limit-rph"},
    KeyUse{"rateLimiting.bytesPerMinute", U::Flag, "rate-limit-bytes-pm"},
    KeyUse{"rateLimiting.maxGithubApiPointsRest", U::NotYet, kGithubPoints},
    KeyUse{"rateLimiting.maxGithubApiPointsGraphql", U::NotYet, kGithubPoints},
    KeyUse{"platform.type", U::NoEffect,
           "awf sets GH_HOST from the host's GITHUB_SERVER_URL, whatever the deployment type"},
    KeyUse{"runner", U::NoEffect,
           "it selects AWF's Docker layout for ARC runners; awf uses no Docker"},
    KeyUse{"enclaves", U::NoEffect, "awf has no private-repository enclaves"},
};

}  // namespace

const KeyUse* find_key_use(std::string_view path) {
  for (const KeyUse& use : kKeyUses) {
    if (use.path == path) return &use;
  }
  return nullptr;
}

std::span<const KeyUse> key_uses() {
  return kKeyUses;
}

}  // namespace awf::cli
