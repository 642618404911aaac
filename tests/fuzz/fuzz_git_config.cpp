// Fuzzes the .git/config filter (src/sandbox/git_config.h): any bytes (the command may have
// written the file in an earlier run) give a config that reparses completely, that filtering
// again leaves unchanged, and that holds no credential section.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sandbox/git_config.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool opens_credential_section(std::string_view line) {
  std::string lower;
  for (const char c : line.substr(0, 12)) lower += static_cast<char>(std::tolower(c));
  return lower.starts_with("[credential") &&
         (lower.size() == 11 || lower[11] == ']' || lower[11] == ' ' || lower[11] == '.');
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const awf::sandbox::FilteredGitConfig once = awf::sandbox::strip_git_credentials(text);
  const awf::sandbox::FilteredGitConfig twice = awf::sandbox::strip_git_credentials(once.text);
  check(twice.complete);
  check(twice.text == once.text);
  std::size_t at = 0;
  while (at < once.text.size()) {
    const std::size_t end = once.text.find('\n', at);
    check(!opens_credential_section(std::string_view(once.text).substr(at, end - at)));
    at = end == std::string::npos ? once.text.size() : end + 1;
  }
  return 0;
}
