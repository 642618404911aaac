#include "policy/port_spec.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace awf::policy {
namespace {

std::uint16_t parse_port(std::string_view text, std::string_view item) {
  const auto fail = [&](const char* why) {
    return std::invalid_argument("invalid port '" + std::string(item) + "': " + why);
  };
  if (text.empty()) throw fail("empty");
  if (text.size() > 5) throw fail("out of range 1-65535");
  unsigned value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') throw fail("ports are decimal numbers (no spaces or signs)");
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (text.size() > 1 && text.front() == '0') throw fail("leading zeros are not allowed");
  if (value < 1 || value > 65535) throw fail("out of range 1-65535");
  return static_cast<std::uint16_t>(value);
}

}  // namespace

const std::vector<std::uint16_t>& dangerous_ports() {
  static const std::vector<std::uint16_t> ports = {22,   23,   25,   110,  143,   445,   1433,
                                                   1521, 3306, 3389, 5432, 5984,  6379,  6984,
                                                   8086, 8088, 9200, 9300, 27017, 27018, 28017};
  return ports;
}

bool is_dangerous_port(std::uint16_t port) {
  const auto& ports = dangerous_ports();
  return std::find(ports.begin(), ports.end(), port) != ports.end();
}

std::vector<PortRange> parse_port_spec(std::string_view text, DangerousPorts dangerous) {
  if (text.empty()) throw std::invalid_argument("empty port list");
  std::vector<PortRange> ranges;
  std::size_t at = 0;
  while (true) {
    const auto comma = text.find(',', at);
    const std::string_view item =
        text.substr(at, comma == std::string_view::npos ? comma : comma - at);
    const auto dash = item.find('-');
    PortRange range;
    range.first = parse_port(item.substr(0, dash), item);
    range.last =
        dash == std::string_view::npos ? range.first : parse_port(item.substr(dash + 1), item);
    if (range.last < range.first) {
      throw std::invalid_argument("invalid port range '" + std::string(item) +
                                  "': the first port is larger than the last");
    }
    for (const std::uint16_t port : dangerous_ports()) {
      if (dangerous == DangerousPorts::Refused && range.contains(port)) {
        throw std::invalid_argument("port " + std::to_string(port) + " (in '" + std::string(item) +
                                    "') is on the dangerous-ports list and can never be allowed");
      }
    }
    ranges.push_back(range);
    if (comma == std::string_view::npos) break;
    at = comma + 1;
  }
  return ranges;
}

}  // namespace awf::policy
