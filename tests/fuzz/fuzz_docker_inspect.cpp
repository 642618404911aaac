// libFuzzer target: the Docker Engine API's answers (--topology-attach). The first byte picks
// what the rest is: 'J' the inspect JSON, 'H' a whole HTTP response (then its body as inspect
// JSON), anything else a name, a Docker host and an error body.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "peers/docker_inspect.h"
#include "peers/peer_plan.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void plan(const std::string_view json) {
  awf::peers::ContainerInfo info;
  try {
    info = awf::peers::parse_inspect(json);
  } catch (const awf::peers::InspectError&) {
    return;
  }
  try {
    const awf::peers::Peer peer = awf::peers::plan_peer("peer", info);
    check(info.running && !peer.address.empty());
    check(peer.routes.size() == info.tcp_ports.size());
    for (std::size_t i = 0; i < peer.routes.size(); ++i) {
      const awf::peers::PeerRoute& route = peer.routes[i];
      check(route.port != 0 && route.target_port != 0 && !route.target_ip.empty());
      check(i == 0 || peer.routes[i - 1].port < route.port);
      check(peer.route(route.port) == &route);
      check(route.published || (route.target_ip == peer.address && route.target_port == route.port));
    }
  } catch (const awf::peers::PeerError&) {
    check(!info.running || info.ipv4_addresses.empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] == 'J') {
    plan(text);
  } else if (data[0] == 'H') {
    if (const auto response = awf::peers::parse_http_response(text)) {
      check(response->status >= 100 && response->status <= 599);
      check(response->body.size() <= text.size());
      plan(response->body);
    }
  } else {
    const std::string problem = awf::peers::name_problem(text);
    if (problem.empty()) check(!text.empty() && text.size() <= 253);
    try {
      const std::string path = awf::peers::docker_socket_path(text);
      check(path.starts_with('/'));
    } catch (const awf::peers::PeerError&) {
    }
    const std::string message = awf::peers::docker_error_message(text);
    check(message.size() <= 200);
  }
  return 0;
}
