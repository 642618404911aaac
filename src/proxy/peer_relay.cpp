// Topology peers (--topology-attach): the command's connections to a peer's address and port,
// relayed byte for byte to where the Docker container serves that port.
#include <boost/asio/ip/address.hpp>

#include "proxy/gateway_internal.h"

namespace asio = boost::asio;

namespace awf::proxy {
namespace {

std::string route_reason(const peers::PeerRoute& route) {
  return std::string("topology peer (--topology-attach): ") +
         (route.published ? "its published port" : "the container's address");
}

}  // namespace

const peers::Peer* dialled_peer(const GatewayContext& context, const tcp::socket& client) {
  if (context.options.peers.empty()) return nullptr;
  const Peer local = local_peer(client);
  for (const peers::Peer& peer : context.options.peers) {
    if (peer.address == local.ip && peer.route(local.port) != nullptr) return &peer;
  }
  return nullptr;
}

asio::awaitable<void> serve_peer(GatewayContext& context, tcp::socket client) {
  RegisteredSocket registered(context, &client);
  Outcome outcome;
  outcome.kind = "peer";
  outcome.transport = "transparent";
  outcome.client = remote_peer(client);
  ClientProcess process(context);
  co_await process.find(client);
  outcome.process = process.get();
  const Peer dialled = local_peer(client);
  const peers::Peer* peer = dialled_peer(context, client);
  outcome.name = peer != nullptr ? peer->name : dialled.ip;
  outcome.host_field = outcome.name + ":" + std::to_string(dialled.port);
  outcome.url = outcome.host_field;
  const ConnectionSlot slot(context.budget);
  if (!slot.admitted()) {
    outcome.status = 503;
    outcome.reason = "too many open connections (limit " +
                     std::to_string(context.budget.limit) + ")";
    record_outcome(context, outcome);
    co_return;
  }
  // A Peer listener exists only for a peer's port; checked again all the same.
  if (peer == nullptr) {
    outcome.status = 403;
    outcome.reason = "no topology peer serves " + dialled.text();
    record_outcome(context, outcome);
    co_return;
  }
  const peers::PeerRoute& route = *peer->route(dialled.port);
  outcome.reason = route_reason(route);
  // Exactly the target planned before the run from the Docker daemon's answer, and nothing
  // the command sent: internal addresses (loopback for a published port, the container's
  // bridge address) are reached on purpose, because the user attached this container.
  boost::system::error_code invalid;
  std::vector<asio::ip::address> target{asio::ip::make_address(route.target_ip, invalid)};
  Upstream upstream =
      co_await connect_first(context, std::move(target), route.target_port, Upstream());
  if (!upstream.socket) {
    outcome.allowed = true;  // allowed, but the container did not answer there
    outcome.status = upstream.status;
    outcome.reason += "; " + upstream.reason;
    record_outcome(context, outcome);
    co_return;
  }
  RegisteredSocket registered_upstream(context, &*upstream.socket);
  outcome.allowed = true;
  outcome.status = 200;
  outcome.destination = upstream.endpoint;
  // Any protocol: the bytes are relayed as they are, like a CONNECT tunnel.
  outcome.counts = co_await relay(context, client, *upstream.socket, {}, &process);
  if (outcome.counts.idle_timeout) outcome.reason += "; closed after the idle timeout";
  record_outcome(context, outcome);
}

}  // namespace awf::proxy
