// Fuzzes the reader of unix_diag dumps (the socket supervisor's view of the sandbox's Unix
// sockets) and of the socket addresses the command passes to connect() and sendto().
#include <cstdint>

#include "sandbox/sock_diag.h"
#include "sandbox/unix_address.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::uint32_t sequence = size > 0 ? data[0] : 0;
  (void)awf::sandbox::parse_unix_diag_dump({data, size}, sequence);
  (void)awf::sandbox::parse_unix_address({data, size});
  return 0;
}
