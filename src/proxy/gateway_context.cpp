#include "proxy/gateway_context.h"

namespace awf::proxy {

VerdictOptions verdict_options(const GatewayContext& context) {
  const GatewayOptions& options = context.options;
  VerdictOptions result;
  result.dlp = options.dlp;
  result.host_access = options.host_access;
  result.host_ports = &options.host_ports;
  if (options.bump.enabled) result.url_patterns = &options.bump.url_patterns;
  return result;
}

Verdict decide(const GatewayContext& context, VerdictRequest request) {
  return decide_request(context.policy, verdict_options(context), std::move(request));
}

}  // namespace awf::proxy
