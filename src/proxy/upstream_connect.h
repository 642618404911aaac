// Connections from awf to where an allowed request goes. The name is resolved by awf's own
// resolver and connected to by awf: the address the client dialled is never used.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "proxy/access_record.h"
#include "proxy/gateway_context.h"

namespace awf::proxy {

// Why no upstream connection was made.
enum class ConnectFailure {
  None,
  InternalAddress,  // the name resolves to internal addresses only: a denial, not an outage
  Unreachable,      // answered 502
  TimedOut,         // answered 504
};

struct Upstream {
  std::optional<tcp::socket> socket;
  tcp::endpoint endpoint;
  ConnectFailure failure = ConnectFailure::None;
  std::string reason;       // why it failed
  bool via_parent = false;  // a tunnel through the upstream proxy (`endpoint` is the parent's)

  bool failed() const { return failure != ConnectFailure::None; }
  bool denied() const { return failure == ConnectFailure::InternalAddress; }
  int status() const;  // the HTTP status a failure is answered with
};

// Connects to the first of `candidates` that answers within the connect timeout; `upstream`
// carries what is known already (failure and reason are set on failure).
boost::asio::awaitable<Upstream> connect_first(GatewayContext& context,
                                               std::vector<boost::asio::ip::address> candidates,
                                               std::uint16_t port, Upstream upstream);

// Resolves `name` with awf's own resolver (or takes the allowed IP literal as is), refuses
// internal addresses, and connects. Never uses an address the client chose. With an upstream
// proxy (and `name` not in no_proxy), connects to the parent instead (its own address is not
// refused: it is usually a private one) and asks it for `CONNECT name:port`: on a 2xx answer
// the socket is a tunnel to the origin; the parent resolves `name`, awf does not.
boost::asio::awaitable<Upstream> connect_upstream(GatewayContext& context, const std::string& name,
                                                  std::uint16_t port);

// Connects to the Docker host's own 127.0.0.1:`port` (awf runs in the host's network
// namespace): what host.docker.internal stands for. Only for Route::DockerHost.
boost::asio::awaitable<Upstream> connect_docker_host(GatewayContext& context, std::uint16_t port);

// Connects where an allowed verdict routes: the Docker host's loopback, or the origin named
// by verdict.name (connect_upstream).
boost::asio::awaitable<Upstream> connect_routed(GatewayContext& context, const Verdict& verdict,
                                                std::uint16_t port);

// Takes a failed connect into the attempt: a denial for an internal address, else an allowed
// request whose origin did not answer.
void take_connect_failure(Attempt& attempt, const Upstream& upstream);

}  // namespace awf::proxy
