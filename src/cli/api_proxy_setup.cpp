#include "cli/api_proxy_setup.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace awf::cli {
namespace {

extern "C" char** environ;

// The first non-empty key variable, copied out; every key variable's value is then zeroed in
// place (awf never calls setenv, so the strings are still the ones the kernel shows).
SecretText take_key(const proxy::ProviderInfo& provider) {
  SecretText key;
  for (const std::string_view name : provider.key_variables) {
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
  if (!options.pending.rate_limit_rpm && !options.pending.rate_limit_rph && !options.pending.rate_limit_bytes_pm) {
    return nullptr;
  }
  proxy::RateLimits limits;
  limits.per_minute = options.pending.rate_limit_rpm.value_or(limits.per_minute);
  limits.per_hour = options.pending.rate_limit_rph.value_or(limits.per_hour);
  limits.bytes_per_minute = options.pending.rate_limit_bytes_pm.value_or(limits.bytes_per_minute);
  return std::make_shared<proxy::RateLimiter>(limits);
}

bool rate_flags_given(const Options& options) {
  return options.pending.no_rate_limit || options.pending.rate_limit_rpm || options.pending.rate_limit_rph ||
         options.pending.rate_limit_bytes_pm;
}

}  // namespace

ApiProxySetup setup_api_proxy(const Options& options) {
  ApiProxySetup setup;
  for (const proxy::ProviderInfo& provider : proxy::providers()) {
    const std::size_t index = static_cast<std::size_t>(provider.id);
    proxy::ApiRoute& route = setup.gateway.routes[index];
    route.key = take_key(provider);
    // A key becomes a header value: a line break in it would add headers of its own choosing.
    const std::string_view key = route.key.view();
    if (std::any_of(key.begin(), key.end(),
                    [](unsigned char c) { return c <= 0x20 || c >= 0x7f; })) {
      throw UsageError("the " + std::string(provider.name) + " key (" +
                       std::string(provider.key_variables[0]) + " or " +
                       std::string(provider.key_variables[1]) +
                       ") holds a space, a control character or a non-ASCII byte; it is not "
                       "used");
    }
    if (!route.key.empty()) setup.holds_keys = true;
    route.target = options.api_targets[index].value_or(
        proxy::ApiTarget{std::string(provider.default_target), 443});
    route.base_path = options.api_base_paths[index];
  }
  setup.gateway.enabled = options.enable_api_proxy || setup.holds_keys;
  if (!setup.gateway.enabled) {
    if (rate_flags_given(options)) {
      throw UsageError(
          "--rate-limit-* and --no-rate-limit limit the API proxy, which is off: add "
          "--enable-api-proxy (or set a provider key)");
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
    setup.pricing = proxy::parse_pricing_config(options.pending.api_proxy_config);
  } catch (const std::invalid_argument& error) {
    throw UsageError(error.what());
  }
  for (const proxy::ProviderInfo& provider : proxy::providers()) {
    const std::size_t index = static_cast<std::size_t>(provider.id);
    const proxy::ApiRoute& route = setup.gateway.routes[index];
    setup.ports.push_back(provider.port);
    // AWF's rule: a target the user chose is allowed with it; the default ones follow the
    // allowlist like any other name.
    if (options.api_targets[index]) {
      setup.allow.push_back(route.target.host);
      if (options.log_level <= LogLevel::Info) {
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
