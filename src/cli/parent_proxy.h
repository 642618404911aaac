// The proxy awf itself goes through (--upstream-proxy, or the host's proxy variables), and
// the names that bypass it.
#pragma once

#include <optional>

#include "cli/options.h"
#include "proxy/upstream_proxy.h"

namespace awf::cli {

struct ParentProxy {
  std::optional<proxy::ProxyUrl> url;
  proxy::NoProxy no_proxy;
};

// --upstream-proxy, else the first of https_proxy, HTTPS_PROXY, http_proxy, HTTP_PROXY in
// awf's own environment (an unusable value is ignored with a warning); names in the host's
// no_proxy/NO_PROXY go direct. The password is never printed. Throws UsageError for an
// unusable --upstream-proxy.
ParentProxy parent_proxy(const Options& options);

}  // namespace awf::cli
