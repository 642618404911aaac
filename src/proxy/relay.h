// Byte relays between a client and its upstream: any protocol, copied as it is (spliced in
// the kernel), both directions until both ended or the tunnel sat idle too long.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "proxy/access_record.h"
#include "proxy/connection_scope.h"
#include "proxy/gateway_context.h"
#include "proxy/upstream_connect.h"

namespace awf::proxy {

// Copies bytes both ways until both directions ended (or the tunnel sat idle too long);
// `client_first` is sent upstream first.
boost::asio::awaitable<RelayCounts> relay(GatewayContext& context, tcp::socket& client,
                                          tcp::socket& upstream,
                                          std::span<const std::uint8_t> client_first,
                                          ClientProcess* process = nullptr);

// The end of every tunnel-like handler: relays an allowed connection to its connected
// `upstream` (any protocol, as it is; `client_first` goes first) and records the attempt.
boost::asio::awaitable<void> relay_and_record(GatewayContext& context, ConnectionScope& scope,
                                              tcp::socket& client, Upstream& upstream,
                                              std::span<const std::uint8_t> client_first,
                                              Attempt& attempt);

// CONNECT: after the 200, inspects the first client bytes (TLS SNI must equal `host`; TLS at
// all when `tls_only`) while the upstream's bytes already flow back. Returns "" or the reason
// the tunnel was closed.
boost::asio::awaitable<std::string> run_connect_tunnel(
    GatewayContext& context, TrackedSocket& tracked_client, tcp::socket& client,
    tcp::socket& upstream, const std::string& host, bool tls_only,
    std::vector<std::uint8_t> pending, RelayCounts& counts, ClientProcess* process = nullptr);

}  // namespace awf::proxy
