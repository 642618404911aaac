#include "proxy/gateway_context.h"

namespace awf::proxy {

Verdict decide(const GatewayContext& context, const VerdictRequest& request) {
  const GatewayOptions& options = context.options;
  VerdictOptions verdict_options;
  verdict_options.dlp = options.dlp;
  verdict_options.host_access = options.host_access;
  verdict_options.host_ports = &options.host_ports;
  if (options.bump.enabled) verdict_options.url_patterns = &options.bump.url_patterns;
  return decide_request(context.policy, verdict_options, request);
}

}  // namespace awf::proxy
