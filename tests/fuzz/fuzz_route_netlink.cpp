// Fuzzes the readers of the kernel's rtnetlink answers (acknowledgements, local route dumps).
#include <cstdint>

#include "sandbox/route_netlink.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::uint32_t sequence = size > 0 ? data[0] : 0;
  (void)awf::sandbox::parse_acknowledgement({data, size}, sequence);
  (void)awf::sandbox::parse_local_routes({data, size}, sequence);
  return 0;
}
