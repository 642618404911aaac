// The gateway: awf's only egress for the sandbox. Serves the listeners the sandbox created
// (explicit proxy, transparent HTTP and TLS, DNS) from awf, in the host's network namespace,
// where its outbound sockets live. Proxy connections run on one event loop per worker thread;
// DNS and the resolver run on the caller's loop.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>
#include <vector>

#include "audit/log_writer.h"
#include "dns/resolver.h"
#include "policy/policy.h"
#include "policy/port_spec.h"
#include "proxy/upstream_proxy.h"
#include "sandbox/listeners.h"

namespace awf::proxy {

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
