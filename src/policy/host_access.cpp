#include "policy/host_access.h"

#include <algorithm>
#include <string>

#include "policy/domain_list.h"
#include "policy/policy.h"

namespace awf::policy {

bool is_host_access_name(std::string_view host) {
  // Cheap first: most requests name something else entirely.
  if (host.size() < kHostAccessName.size() || host.size() > kHostAccessName.size() + 1) {
    return false;
  }
  return normalize_host(host) == kHostAccessName;
}

bool host_port_open(const std::vector<PortRange>& ranges, std::uint16_t port) {
  if (port == 80 || port == 443) return true;
  return std::any_of(ranges.begin(), ranges.end(),
                     [port](const PortRange& range) { return range.contains(port); });
}

std::optional<std::vector<std::uint16_t>> host_listener_ports(
    const std::vector<PortRange>& ranges) {
  std::vector<std::uint16_t> ports;
  for (const PortRange& range : ranges) {
    if (range.first > range.last) continue;
    if (static_cast<std::size_t>(range.last - range.first) + 1 > kMaxHostListenerPorts + 2) {
      return std::nullopt;
    }
    for (std::uint32_t port = range.first; port <= range.last; ++port) {
      if (port != 80 && port != 443) ports.push_back(static_cast<std::uint16_t>(port));
    }
  }
  std::sort(ports.begin(), ports.end());
  ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
  if (ports.size() > kMaxHostListenerPorts) return std::nullopt;
  return ports;
}

bool blocks_host_access(const Policy& policy) {
  const Decision decision = policy.decide(kHostAccessName, Protocol::Https);
  if (decision.allowed || decision.rule_id == 0) return false;
  const auto& rules = policy.rules();
  return std::any_of(rules.begin(), rules.end(), [&](const RuleInfo& rule) {
    return rule.id == decision.rule_id && rule.block;
  });
}

}  // namespace awf::policy
