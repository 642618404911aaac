#include "cli/api_proxy_setup.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "proxy/api_budget.h"
#include "proxy/api_reflect.h"

namespace awf::cli {
namespace {

extern "C" char** environ;

// The first non-empty of the variables, copied out; every one's value is then zeroed in
// place (awf never calls setenv, so the strings are still the ones the kernel shows).
SecretText take_variable(const std::vector<std::string_view>& names) {
  SecretText key;
  for (const std::string_view name : names) {
    for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
      char* text = *entry;
      if (std::strncmp(text, name.data(), name.size()) != 0 || text[name.size()] != '=') continue;
      char* value = text + name.size() + 1;
      const std::size_t length = std::strlen(value);
      if (key.empty() && length > 0) key = SecretText(std::string_view(value, length));
      explicit_bzero(value, length);
    }
  }
  return key;
}

// --rate-limit-*: opt-in as in AWF (off unless one is given; --no-rate-limit wins); a limit
// left out takes AWF's default. Null: no limits.
std::shared_ptr<proxy::RateLimiter> make_rate_limiter(const Options& options) {
  if (options.pending.no_rate_limit) return nullptr;
  const PendingApiOptions& pending = options.pending;
  if (!pending.rate_limit_rpm && !pending.rate_limit_rph && !pending.rate_limit_bytes_pm) {
    return nullptr;
  }
  proxy::RateLimits limits;
  limits.per_minute = options.pending.rate_limit_rpm.value_or(limits.per_minute);
  limits.per_hour = options.pending.rate_limit_rph.value_or(limits.per_hour);
  limits.bytes_per_minute = options.pending.rate_limit_bytes_pm.value_or(limits.bytes_per_minute);
  return std::make_shared<proxy::RateLimiter>(limits);
}

bool rate_flags_given(const Options& options) {
  const PendingApiOptions& pending = options.pending;
  return pending.no_rate_limit || pending.rate_limit_rpm || pending.rate_limit_rph ||
         pending.rate_limit_bytes_pm;
}

// The budgets: the config file's keys without a flag, then the flags (which the file's
// maxCacheMisses, maxPermissionDenied and maxModelMultiplierCap also set); the flag's
// multipliers win over the file's for the same model, as in AWF.
proxy::BudgetConfig budget_config(const Options& options) {
  const PendingApiOptions& pending = options.pending;
  proxy::BudgetConfig config;
  try {
    config = proxy::parse_budget_config(pending.api_proxy_config);
  } catch (const std::invalid_argument& error) {
    throw UsageError(error.what());
  }
  proxy::merge_multipliers(config.multipliers, pending.model_multipliers);
  config.max_cache_misses = pending.max_cache_misses;
  config.max_permission_denied = pending.max_permission_denied;
  config.max_multiplier_cap = pending.max_model_multiplier_cap;
  config.token_steering = pending.enable_token_steering;
  config.agent_timeout_minutes = options.agent_timeout_minutes;
  config.started_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  return config;
}

// The first budget setting given, for the message when the proxy is off ("" for none).
std::string budget_given(const proxy::BudgetConfig& config) {
  if (config.max_runs) return "apiProxy.maxTurns/maxRuns";
  if (config.max_ai_credits) return "apiProxy.maxAiCredits";
  if (config.max_effective_tokens) return "apiProxy.maxEffectiveTokens";
  if (config.max_cache_misses) return "--max-cache-misses (apiProxy.maxCacheMisses)";
  if (config.max_permission_denied) {
    return "--max-permission-denied (apiProxy.maxPermissionDenied)";
  }
  if (config.max_multiplier_cap) {
    return "--max-model-multiplier-cap (apiProxy.maxModelMultiplierCap)";
  }
  if (!config.multipliers.empty()) return "--max-model-multiplier (apiProxy.modelMultipliers)";
  if (config.default_multiplier) return "apiProxy.defaultModelMultiplier";
  if (config.token_steering) return "--enable-token-steering (apiProxy.enableTokenSteering)";
  return "";
}

// --openai-base-url-env NAME, else (AWF) awf's variable OPENAI_BASE_URL_ENV naming it; "": none.
std::string base_url_variable(const Options& options) {
  if (!options.openai_base_url_env.empty()) return options.openai_base_url_env;
  const char* named = std::getenv("OPENAI_BASE_URL_ENV");
  if (named == nullptr || *named == '\0') return "";
  if (!is_valid_env_name(named)) {
    throw UsageError(std::string("OPENAI_BASE_URL_ENV '") + named +
                     "' is not a variable name (letters, digits and '_', not starting with a "
                     "digit): set it to the name of the variable holding the URL");
  }
  return named;
}

// --openai-base-url-env NAME: NAME's value (https://host[:port][/path]) is a secret of the
// runner's; it leaves awf's environment like a key, and no message shows it.
std::optional<std::pair<proxy::ApiTarget, std::string>> take_openai_base_url(
    const Options& options) {
  const std::string name = base_url_variable(options);
  if (name.empty()) return std::nullopt;
  const std::vector<std::string_view> variable{name};
  SecretText url = take_variable(variable);
  const std::string_view text = url.view();
  const std::string fix = " (--openai-base-url-env or OPENAI_BASE_URL_ENV: " + name +
                          "; expected https://HOST[:PORT][/PATH]; the value is not shown)";
  if (text.empty()) throw UsageError(name + " is not set or empty" + fix);
  if (!text.starts_with("https://")) throw UsageError(name + " is not an https:// URL" + fix);
  const std::size_t slash = text.find('/', 8);
  try {
    proxy::ApiTarget target = proxy::parse_api_target(text.substr(0, slash));
    std::string path = slash == std::string_view::npos
                           ? std::string()
                           : proxy::normalize_base_path(text.substr(slash));
    return std::pair{std::move(target), path == "/" ? std::string() : path};
  } catch (const std::invalid_argument&) {
    throw UsageError(name + " holds an unusable URL" + fix);
  }
}

void warn_about_requested_model(const Options& options) {
  const proxy::ModelPolicy& policy = options.model_policy;
  if (policy.requested_model.empty()) return;
  if (const auto refusal = proxy::check_model(policy, policy.requested_model)) {
    std::fprintf(stderr,
                 "awf: warning: config.apiProxy.requestedModel '%s' is refused by the model "
                 "policy (%s): requests for it will be answered 403\n",
                 policy.requested_model.c_str(), refusal->reason.c_str());
  }
}

// Each provider's key (out of awf's environment), target, base path and key header.
void take_routes(const Options& options, ApiProxySetup& setup) {
  for (const proxy::ProviderInfo& provider : proxy::providers()) {
    const std::size_t index = static_cast<std::size_t>(provider.id);
    proxy::ApiRoute& route = setup.gateway.routes[index];
    route.key = take_variable(provider.key_variables);
    // A key becomes a header value: a line break in it would add headers of its own choosing.
    const std::string_view key = route.key.view();
    if (std::any_of(key.begin(), key.end(),
                    [](unsigned char c) { return c <= 0x20 || c >= 0x7f; })) {
      throw UsageError("the " + std::string(provider.name) + " key (" +
                       proxy::key_variable_names(provider) +
                       ") holds a space, a control character or a non-ASCII byte; it is not "
                       "used");
    }
    if (!route.key.empty()) setup.holds_keys = true;
    route.target = options.api_targets[index].value_or(
        proxy::ApiTarget{std::string(provider.default_target), 443});
    route.base_path = options.api_base_paths[index];
    route.auth_header = options.api_auth_headers[index];
  }
  // AWF: the tail TTL only counts with auto-cache on; 5m unless given.
  if (options.pending.anthropic_auto_cache) {
    const std::string& tail = options.pending.anthropic_cache_tail_ttl;
    setup.gateway.routes[static_cast<std::size_t>(proxy::Provider::Anthropic)].cache_tail_ttl =
        tail.empty() ? "5m" : tail;
  }
}

// The providers whose target the user chose (by flag or --openai-base-url-env); the others
// keep their default target and get its default base path.
std::array<bool, proxy::kProviderCount> choose_targets(const Options& options,
                                                       ApiProxySetup& setup) {
  std::array<bool, proxy::kProviderCount> targeted{};
  for (std::size_t i = 0; i < targeted.size(); ++i) {
    targeted[i] = options.api_targets[i].has_value();
  }
  // AWF: the variable's URL wins over --openai-api-target and --openai-api-base-path (its
  // base path too, even when it has none).
  if (auto secret = take_openai_base_url(options)) {
    const std::size_t openai = static_cast<std::size_t>(proxy::Provider::OpenAi);
    proxy::ApiRoute& route = setup.gateway.routes[openai];
    route.secret_target = true;
    route.target = std::move(secret->first);
    route.base_path = std::move(secret->second);
    targeted[openai] = true;
  }
  for (const proxy::ProviderInfo& provider : proxy::providers()) {
    const std::size_t index = static_cast<std::size_t>(provider.id);
    proxy::ApiRoute& route = setup.gateway.routes[index];
    if (!targeted[index] && route.base_path.empty()) {
      route.base_path = std::string(provider.default_base_path);
    }
  }
  return targeted;
}

std::string reflect_answer(const ApiProxySetup& setup, const Options& options,
                           const proxy::BudgetConfig& budget) {
  std::array<bool, proxy::kProviderCount> configured{};
  for (std::size_t i = 0; i < configured.size(); ++i) {
    configured[i] = !setup.gateway.routes[i].key.empty();
  }
  return proxy::reflect_json(configured, options.model_policy.aliases_json, budget);
}

}  // namespace

ApiProxySetup setup_api_proxy(const Options& options) {
  ApiProxySetup setup;
  take_routes(options, setup);
  const std::array<bool, proxy::kProviderCount> targeted = choose_targets(options, setup);
  warn_about_requested_model(options);
  setup.gateway.models = options.model_policy;
  proxy::BudgetConfig budget = budget_config(options);
  // Also when the proxy is off: `awf --reflect` prints it (AWF's proxy is always on).
  setup.gateway.reflect = reflect_answer(setup, options, budget);
  setup.gateway.enabled = options.enable_api_proxy || setup.holds_keys;
  if (!setup.gateway.enabled) {
    if (rate_flags_given(options)) {
      throw UsageError(
          "--rate-limit-* and --no-rate-limit limit the API proxy, which is off: add "
          "--enable-api-proxy (or set a provider key)");
    }
    if (const std::string given = budget_given(budget); !given.empty()) {
      throw UsageError(given +
                       " is a budget of the API proxy, which is off: add --enable-api-proxy "
                       "(or set a provider key)");
    }
    return setup;
  }
  setup.gateway.rate_limiter = make_rate_limiter(options);
  try {
    setup.gateway.tls = proxy::make_client_tls(options.api_proxy_ca_file, "--api-proxy-ca-file");
  } catch (const std::runtime_error& error) {
    throw UsageError(error.what());
  }
  try {
    setup.gateway.budget = std::make_shared<proxy::ApiBudget>(
        std::move(budget), proxy::parse_pricing_config(options.pending.api_proxy_config));
  } catch (const std::invalid_argument& error) {
    throw UsageError(error.what());
  }
  for (const proxy::ProviderInfo& provider : proxy::providers()) {
    const std::size_t index = static_cast<std::size_t>(provider.id);
    const proxy::ApiRoute& route = setup.gateway.routes[index];
    setup.ports.push_back(provider.port);
    // AWF's rule: a target the user chose is allowed with it; the default ones follow the
    // allowlist like any other name. A secret host is allowed by its route instead, as the
    // policy manifest shows every allowlist entry.
    if (targeted[index] && !route.secret_target) {
      setup.allow.push_back(route.target.host);
      if (options.api_targets[index] && options.log_level <= LogLevel::Info) {
        std::fprintf(stderr, "awf: --%s-api-target %s: added to the allowed domains\n",
                     std::string(provider.name).c_str(), route.target.authority().c_str());
      }
    }
    if (route.key.empty()) continue;
    for (auto& [name, value] : proxy::sandbox_variables(provider)) {
      setup.env.emplace_back(std::move(name), std::move(value));
    }
  }
  return setup;
}

}  // namespace awf::cli
