// The Docker Engine API's answer to `GET /containers/NAME/json`, the parts awf needs: the
// container's state, its addresses on its networks and its TCP ports. Pure logic: the bytes
// come from a daemon socket awf does not control, so everything is checked.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace awf::peers {

// A published port: HostIp ("" and "0.0.0.0" mean every IPv4 address, "::" every IPv6 one)
// and HostPort of one binding in NetworkSettings.Ports.
struct PortBinding {
  std::string host_ip;
  std::uint16_t host_port = 0;
};

struct ContainerInfo {
  std::string name;  // Name, without Docker's leading '/'
  std::string status;  // State.Status: "running", "exited", "paused", "created", ...
  bool running = false;  // State.Running and not State.Paused
  // IPv4 address per network (NetworkSettings.Networks.<net>.IPAddress), networks in name
  // order; networks without an address (a stopped container, --network none) are left out.
  std::vector<std::pair<std::string, std::string>> ipv4_addresses;
  // Every TCP port the container publishes (NetworkSettings.Ports) or exposes
  // (Config.ExposedPorts), with its bindings (empty: exposed or not published).
  std::map<std::uint16_t, std::vector<PortBinding>> tcp_ports;
};

class InspectError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses the inspect JSON. Throws InspectError saying what is wrong with it.
ContainerInfo parse_inspect(std::string_view json);

// A complete HTTP/1.x response (read until the daemon closed the connection).
struct HttpResponse {
  int status = 0;
  std::string body;  // decoded: Content-Length, chunked transfer coding, or up to the end
};

// nullopt when `raw` is not such a response, or is cut short.
std::optional<HttpResponse> parse_http_response(std::string_view raw);

// The daemon's error text from an error body ({"message": "..."}), else the body itself,
// shortened, printable characters only.
std::string docker_error_message(std::string_view body);

}  // namespace awf::peers
