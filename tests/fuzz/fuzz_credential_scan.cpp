// Fuzzes --enable-dlp's scanner: any bytes, no crash, and a finding in the raw text is also
// a finding once the text is embedded in a URL query.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "policy/credential_scan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto kind = awf::policy::find_credential(text);
  if (kind && !text.empty() && text.front() != '%') {
    const std::string url = "http://x.test/?q=" + std::string(text);
    if (!awf::policy::find_credential(url)) __builtin_trap();
  }
  return 0;
}
