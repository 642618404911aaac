#include "cli/topology_setup.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "peers/docker_client.h"

namespace awf::cli {
namespace {

void report_peers(const Options& options, const std::vector<peers::Peer>& found) {
  for (const peers::Peer& peer : found) {
    if (peer.routes.empty() && options.log_level <= LogLevel::Warn) {
      std::fprintf(stderr,
                   "awf: warning: --topology-attach %s: the container publishes and exposes "
                   "no TCP port, so only its name resolves (docker run --expose PORT)\n",
                   peer.name.c_str());
    }
    if (options.log_level == LogLevel::Debug) {
      for (const peers::PeerRoute& route : peer.routes) {
        std::fprintf(stderr, "awf: peer %s: %s:%u -> %s:%u\n", peer.name.c_str(),
                     peer.address.c_str(), route.port, route.target_ip.c_str(), route.target_port);
      }
    }
  }
}

}  // namespace

std::optional<std::vector<peers::Peer>> look_up_topology_peers(const Options& options) {
  if (options.topology_attach.empty()) return std::vector<peers::Peer>{};
  std::string host = options.docker_host;
  std::string origin = "--docker-host";
  if (host.empty()) {
    const char* env = std::getenv("DOCKER_HOST");
    host = env != nullptr && *env != '\0' ? env : std::string(peers::kDefaultDockerHost);
    origin = env != nullptr && *env != '\0' ? "DOCKER_HOST" : "the default";
  }
  std::vector<std::string> names;
  for (const std::string& name : options.topology_attach) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  try {
    std::vector<peers::Peer> found = peers::look_up_peers(names, host, origin);
    report_peers(options, found);
    return found;
  } catch (const peers::PeerError& error) {
    std::fprintf(stderr, "Fatal error: %s\n", error.what());
    return std::nullopt;
  }
}

void add_peers_to_spec(const std::vector<peers::Peer>& peers, sandbox::SandboxSpec& spec) {
  for (const peers::Peer& peer : peers) {
    spec.mounts.hosts_entries += peer.address + " " + peer.name + "\n";
    for (const peers::PeerRoute& route : peer.routes) {
      spec.peer_ports.push_back({peer.address, route.port});
    }
  }
}

}  // namespace awf::cli
