// Fuzzes the reader of /proc/self/mountinfo (mount points are paths anyone can name) that a
// read-only bind uses where mount_setattr is missing.
#include <cstdint>
#include <string_view>

#include "sandbox/mountinfo.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::size_t split = text.find('\0');
  const std::string_view path = split == std::string_view::npos ? "/" : text.substr(0, split);
  const std::string_view info = split == std::string_view::npos ? text : text.substr(split + 1);
  for (const std::string& mount : awf::sandbox::mounts_at_or_below(info, path)) {
    if (mount.size() > info.size()) __builtin_trap();
  }
  return 0;
}
