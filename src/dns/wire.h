// DNS wire-format constants and readers shared by the pure DNS code (message, answer filter,
// lookup).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace awf::dns::wire {

inline constexpr std::size_t kHeaderBytes = 12;
inline constexpr std::size_t kMaxNameWireBytes = 255;
// Compression pointers followed per name before the name is declared malformed (a loop).
inline constexpr int kMaxPointerHops = 32;

// Big-endian 16-bit value at `at`; the caller has checked that two bytes are there.
inline std::uint16_t read16(std::span<const std::uint8_t> message, std::size_t at) {
  return static_cast<std::uint16_t>((message[at] << 8) | message[at + 1]);
}

// Appends a big-endian 16-bit value.
inline void put16(std::vector<std::uint8_t>& out, std::uint16_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value & 0xff));
}

// Reads the (possibly compressed) name at `pos`; returns it uncompressed in wire form and sets
// `next` to the first byte after the name's bytes at `pos`. nullopt when malformed.
std::optional<std::vector<std::uint8_t>> read_name(std::span<const std::uint8_t> message,
                                                   std::size_t pos, std::size_t& next);

}  // namespace awf::dns::wire
