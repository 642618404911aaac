// Destination ports beyond the web's 80 and 443: the --allow-host-ports grammar and the fixed
// list of ports that no rule may open. Pure logic, no I/O.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace awf::policy {

struct PortRange {
  std::uint16_t first = 0;
  std::uint16_t last = 0;  // inclusive
  bool contains(std::uint16_t port) const { return port >= first && port <= last; }
};

// Services that must never be reachable through a wildcard or a range (remote shells, mail,
// file sharing, databases, search and cache engines): SSH, Telnet, SMTP, POP3, IMAP, SMB,
// MSSQL, Oracle, MySQL, RDP, PostgreSQL, CouchDB, Redis, InfluxDB, Elasticsearch, MongoDB.
const std::vector<std::uint16_t>& dangerous_ports();
bool is_dangerous_port(std::uint16_t port);

enum class DangerousPorts { Refused, Allowed };

// "N" or "N-M" items separated by commas: decimal 1..65535 without leading zeros or spaces,
// N <= M. A range or a single port that covers a dangerous port is refused unless the caller
// allows them (AWF's --allow-host-service-ports names the job's own service containers, a
// database among them, on purpose). Throws std::invalid_argument quoting the bad item.
std::vector<PortRange> parse_port_spec(std::string_view text,
                                       DangerousPorts dangerous = DangerousPorts::Refused);

}  // namespace awf::policy
