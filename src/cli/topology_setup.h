// --topology-attach, the I/O half: the named containers looked up through the Docker Engine
// API, and what the sandbox needs of them.
#pragma once

#include <optional>
#include <vector>

#include "cli/options.h"
#include "peers/peer_plan.h"
#include "sandbox/sandbox.h"

namespace awf::cli {

// Each container looked up through the Docker Engine API (--docker-host, else DOCKER_HOST,
// else the default socket) before anything is created. nullopt after a "Fatal error:" line
// (gh-aw's start-up retry looks for it): the command must not run.
std::optional<std::vector<peers::Peer>> look_up_topology_peers(const Options& options);

// What the sandbox needs of the peers: their names in /etc/hosts, a listener per port.
void add_peers_to_spec(const std::vector<peers::Peer>& peers, sandbox::SandboxSpec& spec);

}  // namespace awf::cli
