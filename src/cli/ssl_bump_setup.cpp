#include "cli/ssl_bump_setup.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "proxy/bump_ca.h"

namespace awf::cli {
namespace {

// Where distributions keep the system CA bundle (Debian/Ubuntu/Alpine, Fedora/RHEL, RHEL 7+,
// openSUSE, Alpine/BSD-style, older ones).
constexpr const char* kSystemBundles[] = {
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
    "/etc/pki/tls/cacert.pem",
};

std::string system_bundle() {
  for (const char* path : kSystemBundles) {
    std::ifstream in(path, std::ios::binary);
    if (!in) continue;
    std::ostringstream contents;
    contents << in.rdbuf();
    if (!contents.str().empty()) return contents.str();
  }
  return "";
}

}  // namespace

SslBumpSetup setup_ssl_bump(const Options& options, const policy::Policy& policy) {
  SslBumpSetup setup;
  if (!options.ssl_bump) return setup;
  proxy::BumpOptions& bump = setup.gateway;
  try {
    bump.authority = std::make_shared<proxy::BumpAuthority>();
    bump.server = proxy::make_server_tls(*bump.authority);
    bump.client = proxy::make_client_tls(options.ssl_bump_ca_file, "--ssl-bump-ca-file");
  } catch (const std::runtime_error& error) {
    throw UsageError(error.what());
  }
  bump.url_patterns = options.allow_urls;
  bump.enabled = true;

  const std::string system = system_bundle();
  std::string bundle = system;
  if (!bundle.empty() && bundle.back() != '\n') bundle += '\n';
  bundle += bump.authority->ca_pem();
  std::vector<std::string> overlays(std::begin(kSystemBundles), std::end(kSystemBundles));
  setup.files.push_back({kBundlePath, bundle, overlays});
  setup.files.push_back({kCaPath, bump.authority->ca_pem(), {}});
  setup.files.push_back({kTrustStorePath, bump.authority->trust_store_p12(system), {}});
  for (const char* name :
       {"SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO"}) {
    setup.env.emplace_back(name, kBundlePath);
  }
  // Node adds these to its own built-in roots.
  setup.env.emplace_back("NODE_EXTRA_CA_CERTS", kCaPath);
  setup.java_options =
      std::string(" -Djavax.net.ssl.trustStore=") + kTrustStorePath +
      " -Djavax.net.ssl.trustStoreType=PKCS12 -Djavax.net.ssl.trustStorePassword=" +
      proxy::kTrustStorePassword;

  if (options.log_level <= LogLevel::Warn) {
    for (const policy::UrlPattern& pattern : bump.url_patterns) {
      if (pattern.host.find('*') != std::string::npos) continue;
      if (!policy.decide(pattern.host, policy::Protocol::Https).allowed) {
        std::fprintf(stderr,
                     "awf: warning: --allow-urls %s: %s is not allowed by the domain rules, so "
                     "it is refused before TLS (add it to --allow-domains)\n",
                     pattern.text.c_str(), pattern.host.c_str());
      }
    }
  }
  if (options.allow_urls.empty() && options.log_level <= LogLevel::Info) {
    std::fprintf(stderr,
                 "awf: --ssl-bump without --allow-urls: the sandbox trusts this run's CA, but "
                 "no name is intercepted\n");
  }
  return setup;
}

}  // namespace awf::cli
