#include "dns/wire.h"

namespace awf::dns::wire {

std::optional<std::vector<std::uint8_t>> read_name(std::span<const std::uint8_t> m, std::size_t pos,
                                                   std::size_t& next) {
  std::vector<std::uint8_t> wire;
  bool jumped = false;
  int hops = 0;
  for (;;) {
    if (pos >= m.size()) return std::nullopt;
    const std::uint8_t length = m[pos];
    if ((length & 0xc0) == 0xc0) {
      if (pos + 1 >= m.size() || ++hops > kMaxPointerHops) return std::nullopt;
      if (!jumped) next = pos + 2;
      jumped = true;
      pos = read16(m, pos) & 0x3fff;
      continue;
    }
    if ((length & 0xc0) != 0) return std::nullopt;
    if (wire.size() + 1 + length > kMaxNameWireBytes) return std::nullopt;
    if (length == 0) {
      wire.push_back(0);
      if (!jumped) next = pos + 1;
      return wire;
    }
    if (pos + 1 + length > m.size()) return std::nullopt;
    wire.insert(wire.end(), m.begin() + static_cast<std::ptrdiff_t>(pos),
                m.begin() + static_cast<std::ptrdiff_t>(pos + 1 + length));
    pos += 1 + length;
  }
}

}  // namespace awf::dns::wire
