#include "cli/parent_proxy.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/error.h"

namespace awf::cli {
namespace {

// A proxy URL that did not parse, for a message: whatever precedes the last '@' (user info,
// a password) is hidden, with or without a scheme.
std::string hide_userinfo(std::string_view url) {
  const auto at = url.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  const auto scheme = url.find("://");
  const std::string prefix =
      scheme != std::string_view::npos && scheme < at ? std::string(url.substr(0, scheme + 3)) : "";
  return prefix + "***" + std::string(url.substr(at));
}

std::optional<proxy::ProxyUrl> flag_proxy(const Options& options) {
  try {
    return proxy::parse_proxy_url(options.upstream_proxy);
  } catch (const std::invalid_argument& error) {
    throw UsageError("--upstream-proxy '" + hide_userinfo(options.upstream_proxy) +
                     "': " + error.what());
  }
}

// The first proxy variable set; an unusable one means no parent proxy, not the next one.
std::optional<proxy::ProxyUrl> environment_proxy(const Options& options) {
  for (const char* variable : proxy::kProxyVariables) {
    const char* value = std::getenv(variable);
    if (value == nullptr || *value == '\0') continue;
    try {
      proxy::ProxyUrl url = proxy::parse_proxy_url(value);
      if (options.log_level <= LogLevel::Info) {
        std::fprintf(stderr, "awf: using upstream proxy %s from %s\n", url.redacted().c_str(),
                     variable);
      }
      return url;
    } catch (const std::invalid_argument& error) {
      if (options.log_level <= LogLevel::Warn) {
        std::fprintf(stderr, "awf: warning: ignoring %s='%s' (%s): no upstream proxy is used\n",
                     variable, hide_userinfo(value).c_str(), error.what());
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

proxy::NoProxy environment_no_proxy(const Options& options) {
  for (const char* variable : proxy::kNoProxyVariables) {
    const char* value = std::getenv(variable);
    if (value == nullptr || *value == '\0') continue;
    if (options.log_level == LogLevel::Debug) {
      std::fprintf(stderr, "awf: %s=%s: these go direct, not via the upstream proxy\n", variable,
                   value);
    }
    return proxy::NoProxy::parse(value);
  }
  return {};
}

}  // namespace

ParentProxy parent_proxy(const Options& options) {
  ParentProxy parent;
  parent.url = options.upstream_proxy.empty() ? environment_proxy(options) : flag_proxy(options);
  if (parent.url) parent.no_proxy = environment_no_proxy(options);
  return parent;
}

}  // namespace awf::cli
