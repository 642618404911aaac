// --enable-host-access: the name by which the sandboxed command reaches the host, the ports
// it may use there, and the transparent listeners they need. Pure logic, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "policy/port_spec.h"

namespace awf::policy {

// The host as seen from the sandbox (Docker's name, kept for gh-aw's workflows).
inline constexpr std::string_view kHostAccessName = "host.docker.internal";
// What awf's DNS answers for it: Docker's default bridge gateway. Inside the sandbox every
// address is local, so the address only selects awf's listeners for the extra host ports.
inline constexpr std::string_view kHostGatewayAddress = "172.17.0.1";
inline constexpr std::uint8_t kHostGatewayBytes[4] = {172, 17, 0, 1};
// At most this many extra ports get a transparent listener; wider ranges are explicit-proxy
// only.
inline constexpr std::size_t kMaxHostListenerPorts = 64;

// Whether `host` names the host (any case, optional trailing dot).
bool is_host_access_name(std::string_view host);

class Policy;

// Whether a block rule of `policy` covers kHostAccessName: block beats allow, so host access is
// then off.
bool blocks_host_access(const Policy& policy);

// Ports of the host the command may use: 80, 443 and those of --allow-host-ports.
bool host_port_open(const std::vector<PortRange>& ranges, std::uint16_t port);

// The ports of `ranges` other than 80 and 443 (sorted, without duplicates), which need a
// listener of their own on kHostGatewayAddress; nullopt when there are more than
// kMaxHostListenerPorts of them.
std::optional<std::vector<std::uint16_t>> host_listener_ports(const std::vector<PortRange>& ranges);

}  // namespace awf::policy
