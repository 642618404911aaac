// Fuzzes the reader of packets seen on the sandbox's loopback (hostile commands craft them).
#include <cstdint>

#include "proxy/loopback_packet.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  (void)awf::proxy::inspect_loopback_packet({data, size});
  return 0;
}
