// The gateway: awf's only egress for the sandbox. Serves the listeners the sandbox created
// (explicit proxy, transparent HTTP and TLS, DNS) from awf, in the host's network namespace,
// where its outbound sockets live. Proxy connections run on one event loop per worker thread;
// DNS and the resolver run on the caller's loop.
#pragma once

#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "audit/log_writer.h"
#include "common/secret_text.h"
#include "dns/resolver.h"
#include "peers/peer.h"
#include "policy/host_addresses.h"
#include "policy/policy.h"
#include "policy/port_spec.h"
#include "policy/url_pattern.h"
#include "proxy/api_provider.h"
#include "proxy/rate_limit.h"
#include "proxy/model_policy.h"
#include "proxy/upstream_proxy.h"
#include "sandbox/listeners.h"

namespace awf::proxy {

// One provider of the API proxy: where its requests go and the key they get.
struct ApiRoute {
  SecretText key;  // empty: not configured (the listener answers 503)
  ApiTarget target;
  std::string base_path;  // normalized ("" or "/a/b")
  // --openai-api-auth-header, --anthropic-api-auth-header: the key goes bare in this header
  // instead of the provider's own. "": the provider's (ProviderInfo::key_header).
  std::string auth_header;
  // --anthropic-auto-cache (the Anthropic route only): the rolling tail's TTL, "5m" or "1h";
  // "": off. Its /v1/messages bodies get AWF's cache breakpoints (anthropic_cache.h).
  std::string cache_tail_ttl;
  // --openai-base-url-env gave (part of) this endpoint: a secret of the runner's (a private
  // deployment's host and path). As in AWF, no record shows it (api_request.h's logged_*),
  // and its host is allowed by this route rather than by an allowlist entry the policy
  // manifest would show.
  bool secret_target = false;
};

// awf's TLS client settings (OpenSSL) for origins it speaks TLS to itself (the API proxy,
// --ssl-bump): the system's trust store plus `ca_file` (PEM, optional). Made before the
// sandbox starts, so a bad file is refused up front: throws std::runtime_error naming `flag`.
class ClientTls;
std::shared_ptr<const ClientTls> make_client_tls(const std::string& ca_file,
                                                 const std::string& flag);

class UsageLog;   // usage_log.h
class ApiBudget;  // api_budget.h

// --enable-api-proxy: a listener per provider (127.0.0.1:10000.. in the sandbox, named
// api-proxy there) forwards to the provider's target over verified TLS with the key injected;
// the command never holds it.
struct ApiProxyOptions {
  bool enabled = false;
  std::array<ApiRoute, kProviderCount> routes;  // indexed like providers()
  std::shared_ptr<const ClientTls> tls;         // system trust store plus --api-proxy-ca-file
  ModelPolicy models;                           // apiProxy.models, allowedModels, disallowedModels
  std::string reflect;                          // the answer to GET /reflect (api_reflect.h)
  // The providers' model lists, fetched when an alias needs one (shared, internally locked).
  std::shared_ptr<ModelCatalogs> catalogs = std::make_shared<ModelCatalogs>();
  std::shared_ptr<UsageLog> usage;  // token-usage.jsonl (null: no accounting)
  // --rate-limit-*: shared by every worker; null without a limit (AWF's are opt-in).
  std::shared_ptr<RateLimiter> rate_limiter;
  // The run's budgets (api_budget.h), shared by every worker and the usage log; also without
  // a configured budget (AWF's hard cap on AI credits always applies).
  std::shared_ptr<ApiBudget> budget;
};

// --ssl-bump: the run's CA and the TLS settings of both sides of an intercepted session.
class BumpAuthority;
class ServerTls;
std::shared_ptr<const ServerTls> make_server_tls(BumpAuthority& authority);

struct BumpOptions {
  bool enabled = false;
  std::shared_ptr<BumpAuthority> authority;
  std::shared_ptr<const ServerTls> server;  // the client's side: leaves minted per name
  std::shared_ptr<const ClientTls> client;  // the origin's side: system trust + --ssl-bump-ca-file
  // Allowed names that a pattern mentions are intercepted; their requests must match one.
  std::vector<policy::UrlPattern> url_patterns;
};

struct GatewayOptions {
  // --enable-dlp: plain-HTTP URLs, CONNECT targets, TLS SNI names and DNS names that carry a
  // credential-shaped string are refused (and logged redacted).
  bool dlp = false;
  // --enable-host-access: host.docker.internal reaches the host's 127.0.0.1 on ports 80, 443
  // and `host_ports`; the DNS listener answers the name itself.
  bool host_access = false;
  std::vector<policy::PortRange> host_ports;
  // --upstream-proxy (or the host's https_proxy/http_proxy): origins are reached through this
  // parent with CONNECT, except the names and addresses of `no_proxy`, which go direct.
  std::optional<ProxyUrl> parent;
  NoProxy no_proxy;
  ApiProxyOptions api_proxy;
  BumpOptions bump;
  // --topology-attach: Docker containers the command reaches by name (the DNS listener
  // answers their names); each of their ports is relayed byte for byte to the container.
  std::vector<peers::Peer> peers;
  // The host's own addresses (sandbox/host_address_watch.h): a name that resolves to one is
  // refused like an internal address, unless host access opens that port; the DNS listener
  // removes them from answers. Null: not checked.
  std::function<std::shared_ptr<const policy::HostAddresses>()> host_addresses;
};

class Gateway {
 public:
  // A block rule that covers host.docker.internal turns host access off (block beats allow).
  Gateway(boost::asio::io_context& io, const policy::Policy& policy, dns::Resolver& resolver,
          audit::LogWriter& log, unsigned threads, GatewayOptions options = {});
  ~Gateway();

  // Starts accepting on every listener (and the worker threads).
  void serve(std::vector<sandbox::Listener> listeners);

  // Closes the listeners and every open connection; each connection then writes its record.
  // The caller keeps running its own loop (the resolver's) until finished().
  void stop();
  bool finished() const;
  // Stops what is left and joins the worker threads.
  void join();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace awf::proxy
