// A topology peer (--topology-attach NAME, network.topologyAttach): a Docker container the
// command reaches by name, as gh-aw's MCP gateway (awmg-mcpg) and CLI proxy (awmg-cli-proxy).
// What the sandbox, the DNS listener and the gateway need to know of it, decided before the
// sandbox starts (peer_plan.h). Plain data.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace awf::peers {

// One port of the peer: the command dials <Peer::address>:<port>, awf connects to
// <target_ip>:<target_port> from the host's network namespace.
struct PeerRoute {
  std::uint16_t port = 0;
  std::string target_ip;
  std::uint16_t target_port = 0;
  bool published = false;  // a published host port (else the container's own address)
};

struct Peer {
  std::string name;     // as given (DNS and /etc/hosts match it case-insensitively)
  std::string address;  // the IPv4 address the name has inside the sandbox
  std::vector<PeerRoute> routes;  // ascending by port, one per port

  const PeerRoute* route(std::uint16_t port) const {
    for (const PeerRoute& r : routes) {
      if (r.port == port) return &r;
    }
    return nullptr;
  }
};

}  // namespace awf::peers
