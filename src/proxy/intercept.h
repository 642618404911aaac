// --ssl-bump: TLS interception of the allowed names --allow-urls patterns mention.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "proxy/access_record.h"
#include "proxy/gateway_context.h"
#include "proxy/socket_registry.h"

namespace awf::proxy {

// Terminates the client's TLS with a leaf for `host` (`pending`: bytes already read from the
// client, replayed first), then decides and relays each request (one record each, kind
// "intercept", built from `base`). Adds the relayed bytes to `counts`. Returns "" or the
// reason the session was refused (a rejected certificate, an SNI that is not `host`).
boost::asio::awaitable<std::string> serve_intercepted(GatewayContext& context,
                                                      TrackedSocket& tracked, tcp::socket& client,
                                                      std::vector<std::uint8_t> pending,
                                                      const std::string& host, std::uint16_t port,
                                                      const Attempt& base, RelayCounts& counts);

}  // namespace awf::proxy
