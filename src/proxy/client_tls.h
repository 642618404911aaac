// TLS from awf to an origin, for the two places where awf itself speaks TLS upstream: the API
// proxy and --ssl-bump interception. Full verification: the certificate must chain to the
// system's trust store (or an extra CA file) and name the host; TLS 1.2 or later; ALPN
// http/1.1. Asio SSL is heavy: include this in those translation units only.
#pragma once

#include <boost/asio/ssl.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <optional>
#include <string>

#include "proxy/gateway.h"
#include "proxy/gateway_context.h"
#include "proxy/socket_registry.h"
#include "proxy/upstream_connect.h"

namespace awf::proxy {

class ClientTls {
 public:
  mutable boost::asio::ssl::context context{boost::asio::ssl::context::tls_client};
};

// A verified TLS connection to an origin, kept alive across requests.
struct TlsUpstream {
  std::optional<boost::asio::ssl::stream<tcp::socket>> stream;
  std::optional<TrackedSocket> tracked;
  boost::beast::flat_buffer buffer;
  tcp::endpoint endpoint;
  bool via_parent = false;

  bool open() const { return stream && stream->next_layer().is_open(); }
  void reset();
};

// Connects to `host`:`port` through connect_upstream (policy-independent: the caller decided;
// awf's resolver, the internal-address refusal and any upstream proxy apply) and completes a
// verified handshake with SNI `host`. On failure the result says why (Upstream::failure: an
// internal address is a denial, the rest answer 502 or 504) with the reason, e.g. "TLS to x
// failed: certificate verification failed (unable to get local issuer certificate)".
boost::asio::awaitable<Upstream> connect_tls(GatewayContext& context, const ClientTls& tls,
                                             const std::string& host, std::uint16_t port,
                                             TlsUpstream& connection);

}  // namespace awf::proxy
