// The query awf sends upstream for an allowed name, rebuilt from the parsed question: the
// client's message never leaves the host as it was sent. Data hidden in an additional record,
// an EDNS option, the answer or authority sections, trailing bytes or the letter case of the
// name would otherwise reach the network under an allowed name (a covert channel). Pure logic.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace awf::dns {

// The EDNS facts of a query's OPT record that are passed on.
struct EdnsRequest {
  std::uint16_t udp_size = 512;
  bool dnssec_ok = false;
};

// Largest UDP payload awf asks upstream for (DNS flag day 2020): larger answers come back
// truncated and the client retries over TCP.
inline constexpr std::uint16_t kMaxUpstreamUdpSize = 1232;

// The OPT record of `query`'s additional section, if it has one. nullopt also when the
// sections do not parse (the query is then forwarded without EDNS).
std::optional<EdnsRequest> find_edns(std::span<const std::uint8_t> query);

// The query to send upstream for `query` (which must parse with parse_query() with a plain
// name): the client's ID, opcode QUERY, the RD, AD and CD flags, one question (name in lower
// case, type, class) and, when the client sent EDNS, an OPT record with only the UDP size
// (clamped to 512..kMaxUpstreamUdpSize) and the DO bit. Empty when the query does not parse.
std::vector<std::uint8_t> make_upstream_query(std::span<const std::uint8_t> query);

// Gives the question of an upstream `response` the letter case of the client's `query` (its
// name went upstream in lower case; resolvers that randomize case check the echo). A no-op
// unless both questions are the same name, uncompressed in the response.
void restore_question_case(std::span<std::uint8_t> response, std::span<const std::uint8_t> query);

}  // namespace awf::dns
