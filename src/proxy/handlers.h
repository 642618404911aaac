// The gateway's handlers, one per listener kind: each takes an accepted client connection
// and serves it to the end, writing one record per connection or HTTP request.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "peers/peer.h"
#include "proxy/gateway_context.h"

namespace awf::proxy {

// The explicit proxy (absolute-URI requests and CONNECT), http_forward.cpp.
boost::asio::awaitable<void> serve_explicit_proxy(GatewayContext& context, tcp::socket client);
// Transparent port 80, http_forward.cpp.
boost::asio::awaitable<void> serve_transparent_http(GatewayContext& context, tcp::socket client);
// Transparent port 443, transparent_tls.cpp.
boost::asio::awaitable<void> serve_transparent_tls(GatewayContext& context, tcp::socket client);
// A HostPort listener (172.17.0.1:<port>): relayed raw to the host's 127.0.0.1:<port>.
boost::asio::awaitable<void> serve_host_port(GatewayContext& context, tcp::socket client);
// A Peer listener, or a transparent one dialled at a peer's address (--topology-attach):
// relayed raw to where the container serves that port.
boost::asio::awaitable<void> serve_peer(GatewayContext& context, tcp::socket client);
// The peer whose address and port `client` dialled (nullptr: none).
const peers::Peer* dialled_peer(const GatewayContext& context, const tcp::socket& client);
// An ApiProxy listener (127.0.0.1:10000..10003): the provider is the one of the local port.
boost::asio::awaitable<void> serve_api_proxy(GatewayContext& context, tcp::socket client);

}  // namespace awf::proxy
