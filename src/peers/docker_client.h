// A minimal client of the Docker Engine API on its unix socket, for awf's start-up only
// (--topology-attach): one GET per container, blocking, bounded by a deadline so that a hung
// daemon cannot hang awf.
#pragma once

#include <chrono>
#include <string>

#include "peers/docker_inspect.h"
#include "peers/peer.h"

namespace awf::peers {

inline constexpr std::chrono::seconds kDockerTimeout{5};

// GET `target` over HTTP/1.1 (Connection: close) from the daemon at the unix socket
// `socket_path`. Throws PeerError saying whether the daemon could not be reached, did not
// answer in time or answered something that is not HTTP.
HttpResponse docker_get(const std::string& socket_path, const std::string& target,
                        std::chrono::milliseconds timeout = kDockerTimeout);

// Looks up each container of `names` at `docker_host` (unix:///PATH; `host_origin` says where
// it came from: "--docker-host", "DOCKER_HOST" or "the default") and plans its peer. Throws
// PeerError with a message that starts "--topology-attach NAME: ".
std::vector<Peer> look_up_peers(const std::vector<std::string>& names,
                                const std::string& docker_host, const std::string& host_origin);

}  // namespace awf::peers
