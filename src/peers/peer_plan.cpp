#include "peers/peer_plan.h"

#include <cctype>
#include <optional>

namespace awf::peers {
namespace {

constexpr std::size_t kMaxName = 253;
constexpr std::size_t kMaxLabel = 63;

bool is_ipv6(const std::string& address) {
  return address.find(':') != std::string::npos;
}

// A published port is reached where Docker publishes it, in the host's network namespace
// (where awf's outbound sockets live): its host address, or loopback for a wildcard binding.
// IPv4 first: docker-proxy listens there in every setup.
std::optional<PeerRoute> published_route(std::uint16_t port,
                                         const std::vector<PortBinding>& bindings) {
  for (const bool v6 : {false, true}) {
    for (const PortBinding& binding : bindings) {
      if (is_ipv6(binding.host_ip) != v6) continue;
      PeerRoute route;
      route.port = port;
      route.target_port = binding.host_port;
      route.published = true;
      if (binding.host_ip.empty() || binding.host_ip == "0.0.0.0") {
        route.target_ip = "127.0.0.1";
      } else if (binding.host_ip == "::") {
        route.target_ip = "::1";
      } else {
        route.target_ip = binding.host_ip;
      }
      return route;
    }
  }
  return std::nullopt;
}

}  // namespace

std::string name_problem(std::string_view name) {
  if (name.empty()) return "empty name";
  if (name.size() > kMaxName) return "longer than 253 characters";
  if (!std::isalnum(static_cast<unsigned char>(name.front()))) {
    return "must start with a letter or digit";
  }
  std::size_t label = 0;
  for (const char c : name) {
    if (c == '.') {
      if (label == 0) return "empty label between dots";
      label = 0;
      continue;
    }
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
      return std::string("character '") + c + "' is not allowed (letters, digits, '_', '.', '-')";
    }
    if (++label > kMaxLabel) return "a label is longer than 63 characters";
  }
  if (label == 0) return "must not end with a dot";
  return "";
}

std::string docker_socket_path(std::string_view host) {
  constexpr std::string_view kUnix = "unix://";
  if (host.starts_with(kUnix) && host.size() > kUnix.size() && host[kUnix.size()] == '/') {
    return std::string(host.substr(kUnix.size()));
  }
  if (host.find("://") != std::string_view::npos) {
    throw PeerError("'" + std::string(host) +
                    "': awf reaches the Docker Engine API over a unix socket only; give "
                    "unix:///PATH (for a remote daemon, forward its socket: ssh -L)");
  }
  throw PeerError("'" + std::string(host) + "' is not unix:///PATH");
}

Peer plan_peer(const std::string& name, const ContainerInfo& info) {
  if (!info.running) {
    throw PeerError("the container is not running (status: " + info.status +
                    "); start it before awf (docker start " + name + ")");
  }
  if (info.ipv4_addresses.empty()) {
    throw PeerError("the container has no IPv4 address on a Docker network (network mode host "
                    "or none?); run it on a bridge network, as `docker run --network bridge`");
  }
  Peer peer;
  peer.name = name;
  // The command sees the container's own address (of its first network, in name order): it
  // matches what `docker inspect` and the container itself say, and it is no address the
  // sandbox uses otherwise. Inside the sandbox every address is local (the local default
  // route), so awf's listeners can be bound to it.
  peer.address = info.ipv4_addresses.front().second;
  for (const auto& [port, bindings] : info.tcp_ports) {
    if (std::optional<PeerRoute> route = published_route(port, bindings)) {
      peer.routes.push_back(std::move(*route));
    } else {
      peer.routes.push_back({port, peer.address, port, false});
    }
  }
  return peer;
}

void check_peers(const std::vector<Peer>& peers) {
  std::size_t ports = 0;
  for (std::size_t i = 0; i < peers.size(); ++i) {
    ports += peers[i].routes.size();
    for (std::size_t j = 0; j < i; ++j) {
      if (peers[i].address == peers[j].address) {
        throw PeerError("containers " + peers[j].name + " and " + peers[i].name +
                        " have the same address " + peers[i].address +
                        " (on different Docker networks); awf tells peers apart by address");
      }
    }
  }
  if (ports > kMaxPeerPorts) {
    throw PeerError("the containers publish or expose " + std::to_string(ports) +
                    " TCP ports in all; awf relays at most " + std::to_string(kMaxPeerPorts) +
                    " (publish only the ports the command needs)");
  }
}

}  // namespace awf::peers
