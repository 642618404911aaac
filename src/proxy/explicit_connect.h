// CONNECT on the explicit proxy: decided by its host:port, then a tunnel (spliced, its TLS
// name checked) or, for names --allow-urls patterns mention, --ssl-bump interception.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <string>

#include "proxy/access_record.h"
#include "proxy/connection_scope.h"
#include "proxy/gateway_context.h"

namespace awf::proxy {

// Serves `CONNECT target` to its end (the connection is the tunnel's from here on) and
// records it. `buffer`: what the client sent after the request head; `attempt`: the request
// head's fields.
boost::asio::awaitable<void> serve_connect(GatewayContext& context, ConnectionScope& scope,
                                           tcp::socket& client, boost::beast::flat_buffer& buffer,
                                           const std::string& target, Attempt& attempt);

}  // namespace awf::proxy
