#include "policy/host_addresses.h"

#include <algorithm>
#include <cstring>

namespace awf::policy {
namespace {

// Whether the first `length` bits of `a` and `b` agree.
bool same_prefix(const std::uint8_t* a, const std::uint8_t* b, unsigned length) {
  const unsigned whole = length / 8;
  if (std::memcmp(a, b, whole) != 0) return false;
  const unsigned rest = length % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (a[whole] & mask) == (b[whole] & mask);
}

}  // namespace

void HostAddresses::add_v4(const in_addr& prefix, unsigned length) {
  Prefix p;
  std::memcpy(p.bytes.data(), &prefix, 4);
  p.length = std::min(length, 32u);
  v4_.push_back(p);
}

void HostAddresses::add_v6(const in6_addr& prefix, unsigned length) {
  Prefix p;
  std::memcpy(p.bytes.data(), &prefix, 16);
  p.length = std::min(length, 128u);
  v6_.push_back(p);
}

bool HostAddresses::contains(const in_addr& address) const {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(&address);
  return std::any_of(v4_.begin(), v4_.end(),
                     [&](const Prefix& p) { return same_prefix(p.bytes.data(), bytes, p.length); });
}

bool HostAddresses::contains(const in6_addr& address) const {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(&address);
  if (IN6_IS_ADDR_V4MAPPED(&address)) {
    in_addr v4{};
    std::memcpy(&v4, bytes + 12, 4);
    if (contains(v4)) return true;
  }
  return std::any_of(v6_.begin(), v6_.end(),
                     [&](const Prefix& p) { return same_prefix(p.bytes.data(), bytes, p.length); });
}

}  // namespace awf::policy
