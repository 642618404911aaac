// Fuzzes --anthropic-auto-cache's rewrite of an Anthropic request body (the sandboxed agent's,
// untrusted). The first byte picks the tail TTL; the rest is the body. Invariants: a rewritten
// body is a JSON object with as many messages as before; it adds breakpoints only up to
// Anthropic's four (never more than the body had, when it had more); a second pass changes
// nothing; the anthropic-beta merge always carries the extended-TTL flag, each value once.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>

#include "proxy/anthropic_cache.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_beta(std::string_view existing) {
  const std::string merged = awf::proxy::with_extended_cache_beta(existing);
  std::set<std::string_view> seen;
  std::string_view rest = merged;
  bool flag = false;
  for (;;) {
    const auto comma = rest.find(',');
    const std::string_view value = rest.substr(0, comma);
    check(!value.empty() && seen.insert(value).second);
    flag |= value == awf::proxy::kExtendedCacheBeta;
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  check(flag);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace awf::proxy;
  if (size == 0) return 0;
  const std::string_view tail = (data[0] & 1) != 0 ? "1h" : "5m";
  const std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (body.size() < 256) check_beta(body);
  const std::optional<std::string> out = auto_cache_body(body, tail);
  if (!out) return 0;
  const auto before = nlohmann::json::parse(body, nullptr, false);
  const auto after = nlohmann::json::parse(*out, nullptr, false);
  check(after.is_object() && after["messages"].is_array());
  check(after["messages"].size() == before["messages"].size());
  const int had = count_cache_breakpoints(body);
  const int has = count_cache_breakpoints(*out);
  check(had >= 0 && has >= 0 && has <= std::max(had, kMaxCacheBreakpoints));
  check(!auto_cache_body(*out, tail));
  return 0;
}
