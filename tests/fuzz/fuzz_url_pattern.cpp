// Fuzzes --allow-urls: patterns (from the command line or a config file) and request targets
// (from the command, inside an intercepted session). Invariants: a canonical path starts with
// '/', has no dot segment and no "//" before its query, and is a fixed point; a pattern whose
// path is "/*" matches every canonical path of its own host.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "policy/policy.h"
#include "policy/url_pattern.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace awf::policy;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto newline = text.find('\n');
  const std::string_view pattern_text = text.substr(0, newline);
  const std::string_view target =
      newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);

  const auto path = canonical_request_path(target);
  if (path) {
    check(path->starts_with('/'));
    const std::string_view bare = std::string_view(*path).substr(0, path->find('?'));
    check(bare.find("//") == std::string_view::npos);
    check(bare.find("/./") == std::string_view::npos &&
          bare.find("/../") == std::string_view::npos);
    check(!bare.ends_with("/.") && !bare.ends_with("/.."));
    check(canonical_request_path(*path) == path);
  }
  try {
    const UrlPattern pattern = parse_url_pattern(pattern_text);
    check(pattern.path.starts_with('/') && !pattern.host.empty());
    if (path && pattern.host.find('*') == std::string::npos) {
      UrlPattern everything = pattern;
      everything.path = "/*";
      check(url_pattern_matches(everything, pattern.host, *path));
    }
  } catch (const PolicyError&) {
  }
  return 0;
}
