// DNS wire-format constants and readers shared by the pure DNS code (message, answer filter).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace awf::dns::wire {

inline constexpr std::size_t kHeaderBytes = 12;
inline constexpr std::size_t kMaxNameWireBytes = 255;
// Compression pointers followed per name before the name is declared malformed (a loop).
inline constexpr int kMaxPointerHops = 32;

// Big-endian 16-bit value at `at`; the caller has checked that two bytes are there.
inline std::uint16_t read16(std::span<const std::uint8_t> message, std::size_t at) {
  return static_cast<std::uint16_t>((message[at] << 8) | message[at + 1]);
}

}  // namespace awf::dns::wire
