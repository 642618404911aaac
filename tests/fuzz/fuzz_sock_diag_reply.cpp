// Fuzzes the reader of sock_diag answers (and the /proc texts that lead to a process).
#include <cstdint>
#include <string_view>

#include "sandbox/sock_diag.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::uint32_t sequence = size > 0 ? data[0] : 0;
  (void)awf::sandbox::parse_inet_diag_reply({data, size}, sequence);
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)awf::sandbox::parse_socket_link(text);
  (void)awf::sandbox::parse_pid_list(text);
  return 0;
}
