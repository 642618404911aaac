// The host's own addresses: what a route lookup in awf's network namespace answers with type
// "local" (every address of every interface, and ranges routed locally with `ip route add
// local`). A daemon bound to 0.0.0.0 answers on all of them, public ones included, so a name
// whose DNS answer is one of them would reach host services that the internal-address classes
// (address_class.h) do not know about. Pure logic; the set is kept current by
// sandbox/host_address_watch.h.
#pragma once

#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace awf::policy {

class HostAddresses {
 public:
  // A locally routed prefix (an address is a /32 or /128).
  void add_v4(const in_addr& prefix, unsigned length);
  void add_v6(const in6_addr& prefix, unsigned length);

  bool contains(const in_addr& address) const;
  bool contains(const in6_addr& address) const;
  bool empty() const { return v4_.empty() && v6_.empty(); }

 private:
  struct Prefix {
    std::array<std::uint8_t, 16> bytes{};
    unsigned length = 0;
  };
  std::vector<Prefix> v4_;
  std::vector<Prefix> v6_;
};

// The reason the records give for a destination that is one of the host's own addresses.
inline constexpr const char* kHostAddressReason = "the host's own address";

}  // namespace awf::policy
