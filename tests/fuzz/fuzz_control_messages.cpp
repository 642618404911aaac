// Fuzzes the walk over the control messages of a sendmsg() the socket supervisor performs for
// the command (the bytes are the command's).
#include <cstdint>

#include "sandbox/control_messages.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const awf::sandbox::ControlWalk walk = awf::sandbox::walk_control({data, size});
  for (const awf::sandbox::ControlEntry& entry : walk.entries) {
    if (entry.data_offset + entry.data_size > size) __builtin_trap();
  }
  return 0;
}
