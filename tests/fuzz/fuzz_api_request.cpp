// Fuzzes what the API proxy reads: the request target a sandboxed client sends (untrusted),
// and the --*-api-target / --*-api-base-path values. Invariants: a forwarded path always starts
// with the base path (a client cannot escape it); Gemini's and Vertex's forwarded query never
// carries a key parameter; a log path has no query; a target's authority parses back to itself; a
// normalized base path is a fixed point.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "proxy/api_provider.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool has_key_parameter(std::string_view target) {
  const auto question = target.find('?');
  if (question == std::string_view::npos) return false;
  std::string_view query = target.substr(question + 1);
  for (;;) {
    const auto amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    const std::string_view name = param.substr(0, param.find('='));
    if (name == "key" || name == "apiKey" || name == "api_key") return true;
    if (amp == std::string_view::npos) return false;
    query.remove_prefix(amp + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace awf::proxy;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // The first line is a base path, the rest the client's request target.
  const auto newline = text.find('\n');
  const std::string_view base_text = text.substr(0, newline);
  const std::string_view target =
      newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);

  std::string base_path;
  try {
    base_path = normalize_base_path(base_text);
    check(base_path.empty() || (base_path.front() == '/' && base_path.back() != '/'));
    check(base_path.find_first_of("?# ") == std::string::npos);
    check(normalize_base_path(base_path) == base_path);
  } catch (const std::invalid_argument&) {
  }

  for (const ProviderInfo& provider : providers()) {
    const std::string forwarded = upstream_target(provider, base_path, target);
    check(forwarded.empty() == !target.starts_with('/'));
    if (forwarded.empty()) continue;
    // Within the base path: the path is the base itself or below it (AWF adds it once).
    const std::string_view path = path_for_log(forwarded);
    check(path.starts_with(base_path));
    check(path.size() > base_path.size() ? path[base_path.size()] == '/' : !base_path.empty());
    if (provider.key_header == "x-goog-api-key") check(!has_key_parameter(forwarded));
  }
  check(path_for_log(target).find('?') == std::string_view::npos);

  try {
    const ApiTarget parsed = parse_api_target(text);
    check(!parsed.host.empty() && parsed.port != 0);
    const ApiTarget again = parse_api_target(parsed.authority());
    check(again.host == parsed.host && again.port == parsed.port);
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
