// --ssl-bump, the I/O half: the run's CA, the TLS settings of both sides, and what the sandbox
// needs to trust the CA (a combined bundle over the distribution's bundle paths, variables for
// the tools that read their own, a PKCS#12 trust store for JVMs).
#pragma once

#include <string>
#include <vector>

#include "cli/environment.h"
#include "cli/options.h"
#include "policy/policy.h"
#include "proxy/gateway.h"
#include "sandbox/mounts.h"

namespace awf::cli {

inline constexpr char kBundlePath[] = "/run/awf/ca-bundle.pem";
inline constexpr char kCaPath[] = "/run/awf/ca.pem";
inline constexpr char kTrustStorePath[] = "/run/awf/truststore.p12";

struct SslBumpSetup {
  proxy::BumpOptions gateway;                // gateway.enabled false without --ssl-bump
  std::vector<sandbox::ProvidedFile> files;  // the bundle, the CA, the trust store
  std::vector<EnvEntry> env;                 // SSL_CERT_FILE, NODE_EXTRA_CA_CERTS, ...
  std::string java_options;                  // for JAVA_TOOL_OPTIONS
};

// Throws UsageError for an unusable --ssl-bump-ca-file. Warns about patterns whose host the
// domain policy does not allow (those are refused before TLS, so the pattern never applies).
SslBumpSetup setup_ssl_bump(const Options& options, const policy::Policy& policy);

}  // namespace awf::cli
