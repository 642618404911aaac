// --enable-api-proxy, the I/O half: takes the provider keys out of awf's environment into
// protected memory, and works out what the run needs for them (listeners, the command's
// placeholder variables, the targets to allow).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/environment.h"
#include "cli/options.h"
#include "proxy/gateway.h"
#include "proxy/usage_record.h"

namespace awf::cli {

struct ApiProxySetup {
  proxy::ApiProxyOptions gateway;    // gateway.enabled is false when the proxy is off
  std::vector<std::string> allow;    // non-default targets, added to the allowlist
  std::vector<EnvEntry> env;         // base URLs and placeholders for the command
  std::vector<std::uint16_t> ports;  // listeners in the sandbox
  bool holds_keys = false;
  proxy::PricingConfig pricing;  // apiProxy.defaultAiCreditsPricing and .providers
};

// On with --enable-api-proxy or when a provider key is set in awf's environment. Each key is
// copied into a SecretText and its value is zeroed in awf's environment block (what
// /proc/<awf>/environ shows and what the sandbox's init would inherit). Prints the notices for
// non-default targets. Throws UsageError for an unusable --api-proxy-ca-file, pricing key or
// --openai-base-url-env variable. Makes the /reflect answer even when the proxy is off.
ApiProxySetup setup_api_proxy(const Options& options);

}  // namespace awf::cli
