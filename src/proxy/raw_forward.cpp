// Listeners whose connections go to one fixed place, relayed byte for byte (any protocol,
// like a CONNECT tunnel): the Docker host's extra ports (--enable-host-access with
// --allow-host-ports) and topology peers (--topology-attach).
#include <boost/asio/ip/address.hpp>

#include "policy/host_access.h"
#include "proxy/connection_scope.h"
#include "proxy/handlers.h"
#include "proxy/relay.h"
#include "proxy/upstream_connect.h"

namespace asio = boost::asio;

namespace awf::proxy {
namespace {

std::string route_reason(const peers::PeerRoute& route) {
  return std::string("topology peer (--topology-attach): ") +
         (route.published ? "its published port" : "the container's address");
}

// The start both handlers share: a record named `name`:`port` of the dialled port.
Attempt raw_attempt(const char* kind, const std::string& name, std::uint16_t port) {
  Attempt attempt;
  attempt.kind = kind;
  attempt.transport = "transparent";
  attempt.name = name;
  attempt.host_field = attempt.url = name + ":" + std::to_string(port);
  return attempt;
}

// A refusal of a connection that cannot be answered in any protocol: recorded, then closed.
void refuse(GatewayContext& context, Attempt& attempt, std::string reason) {
  attempt.status = 403;
  attempt.reason = std::move(reason);
  record(context, attempt);
}

// The target did not answer: allowed all the same (the record says why nothing moved).
void record_unanswered(GatewayContext& context, Attempt& attempt, const Upstream& upstream) {
  attempt.allowed = true;
  attempt.status = upstream.status();
  attempt.reason =
      attempt.reason.empty() ? upstream.reason : attempt.reason + "; " + upstream.reason;
  record(context, attempt);
}

}  // namespace

asio::awaitable<void> serve_host_port(GatewayContext& context, tcp::socket client) {
  ConnectionScope scope(context, client);
  const std::uint16_t port = local_endpoint(client).port;
  Attempt attempt = raw_attempt("host", std::string(policy::kHostAccessName), port);
  if (!co_await scope.open(attempt)) co_return;
  // The listener exists only for an allowed port; checked again all the same.
  if (!context.options.host_access || !policy::host_port_open(context.options.host_ports, port)) {
    refuse(context, attempt, host_port_refusal(port));
    co_return;
  }
  Upstream upstream = co_await connect_docker_host(context, port);
  if (!upstream.socket) {
    record_unanswered(context, attempt, upstream);
    co_return;
  }
  attempt.reason = kHostAccessReason;
  co_await relay_and_record(context, scope, client, upstream, {}, attempt);
}

const peers::Peer* dialled_peer(const GatewayContext& context, const tcp::socket& client) {
  if (context.options.peers.empty()) return nullptr;
  const Endpoint local = local_endpoint(client);
  for (const peers::Peer& peer : context.options.peers) {
    if (peer.address == local.ip && peer.route(local.port) != nullptr) return &peer;
  }
  return nullptr;
}

asio::awaitable<void> serve_peer(GatewayContext& context, tcp::socket client) {
  ConnectionScope scope(context, client);
  const Endpoint dialled = local_endpoint(client);
  const peers::Peer* peer = dialled_peer(context, client);
  Attempt attempt = raw_attempt("peer", peer != nullptr ? peer->name : dialled.ip, dialled.port);
  if (!co_await scope.open(attempt)) co_return;
  // A Peer listener exists only for a peer's port; checked again all the same.
  if (peer == nullptr) {
    refuse(context, attempt, "no topology peer serves " + dialled.text());
    co_return;
  }
  const peers::PeerRoute& route = *peer->route(dialled.port);
  attempt.reason = route_reason(route);
  // Exactly the target planned before the run from the Docker daemon's answer, and nothing
  // the command sent: internal addresses (loopback for a published port, the container's
  // bridge address) are reached on purpose, because the user attached this container.
  boost::system::error_code invalid;
  std::vector<asio::ip::address> target{asio::ip::make_address(route.target_ip, invalid)};
  Upstream upstream =
      co_await connect_first(context, std::move(target), route.target_port, Upstream());
  if (!upstream.socket) {
    record_unanswered(context, attempt, upstream);
    co_return;
  }
  co_await relay_and_record(context, scope, client, upstream, {}, attempt);
}

}  // namespace awf::proxy
