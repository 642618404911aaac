// awf's own address lookups when they go over a message transport (DNS over HTTPS) instead
// of c-ares: the A or AAAA query for a name, and the addresses its answer gives. Pure logic;
// the answer comes from the network.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace awf::dns {

inline constexpr std::uint16_t kTypeA = 1;
inline constexpr std::uint16_t kTypeAaaa = 28;

// The query for `name` (dotted, one trailing dot allowed): ID `id`, RD set, one question of
// class IN. Empty when the name cannot be written (an empty label, a label over 63 bytes or
// a name over 255 bytes on the wire).
std::vector<std::uint8_t> make_lookup_query(std::string_view name, std::uint16_t qtype,
                                            std::uint16_t id);

struct LookupAnswer {
  bool parsed = false;  // false: `error` says why the answer was unusable
  std::uint8_t rcode = 0;
  std::vector<std::array<std::uint8_t, 4>> v4;
  std::vector<std::array<std::uint8_t, 16>> v6;
  std::uint32_t ttl = 0;  // the smallest TTL of the records used (0 when none)
  std::string error;
};

// Reads the A or AAAA records (`qtype`) of the answer section that answer `name`: owned by
// `name` or by a name a CNAME chain from `name` leads to (names compared case-insensitively;
// records for other names are ignored, so an answer cannot slip in addresses for a name that
// was not asked).
LookupAnswer read_lookup_answer(std::span<const std::uint8_t> response, std::string_view name,
                                std::uint16_t qtype);

}  // namespace awf::dns
