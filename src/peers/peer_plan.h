// From what the Docker Engine API says about a container to the peer awf serves: its name,
// the address the command sees, and where each of its ports is relayed. Pure logic.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "peers/docker_inspect.h"
#include "peers/peer.h"

namespace awf::peers {

// Every port of every peer is a listener inside the sandbox, and all listeners reach awf in
// one SCM_RIGHTS message (sandbox/listeners.h): this many peer ports per run at most.
inline constexpr std::size_t kMaxPeerPorts = 64;

inline constexpr std::string_view kDefaultDockerHost = "unix:///var/run/docker.sock";

// A peer that cannot be served; the message says why and how to fix it.
class PeerError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "" when `name` is a Docker container name ([a-zA-Z0-9][a-zA-Z0-9_.-]*) that also works as a
// host name (labels of 1 to 63 bytes, 253 bytes in all); else what is wrong with it.
std::string name_problem(std::string_view name);

// --docker-host / DOCKER_HOST "unix:///PATH" -> "/PATH". Throws PeerError for anything else
// (tcp:// included: awf speaks to the Docker Engine API over a unix socket only).
std::string docker_socket_path(std::string_view host);

// The peer `name` (as given) for the inspected container. Throws PeerError when the container
// is not running or has no IPv4 address on a Docker network.
Peer plan_peer(const std::string& name, const ContainerInfo& info);

// Checks the peers of one run together: distinct addresses, kMaxPeerPorts. Throws PeerError.
void check_peers(const std::vector<Peer>& peers);

}  // namespace awf::peers
