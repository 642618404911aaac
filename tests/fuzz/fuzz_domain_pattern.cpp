// Fuzzes entry parsing/validation and host normalization with invariants:
// - parse_entry either returns a normalized entry or throws PolicyError quoting the entry;
// - an accepted allow entry allows its own name (a wildcard: its name with '*' -> "x");
//   the same entry in the blocklist blocks it;
// - normalize_host and canonical_ip_literal are idempotent.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "policy/address_class.h"
#include "policy/domain_list.h"
#include "policy/domain_pattern.h"
#include "policy/policy.h"

namespace {

using namespace awf::policy;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// A host the entry must cover, or "" when none is easy to construct.
std::string sample_host(const detail::Entry& e) {
  switch (e.kind) {
    case detail::EntryKind::kName:
    case detail::EntryKind::kIp:
      return e.name;
    case detail::EntryKind::kWildcard: {
      std::string h;
      for (char c : e.name) {
        if (c == '*') {
          h += 'x';
        } else {
          h += c;
        }
      }
      return normalize_host(h) == h ? h : std::string();
    }
  }
  return {};
}

void check_entry(std::string_view in) {
  for (auto list : {detail::ListKind::kAllow, detail::ListKind::kBlock}) {
    detail::Entry e;
    try {
      e = detail::parse_entry(in, list);
    } catch (const PolicyError& err) {
      check(std::string_view(err.what()).rfind("invalid domain entry '", 0) == 0);
      continue;
    }
    check(!e.rule.empty());
    check(e.protocols != 0);
    if (e.kind == detail::EntryKind::kName) {
      check(normalize_host(e.name) == e.name);
    } else if (e.kind == detail::EntryKind::kWildcard) {
      check(e.suffix_start > 0 && e.suffix_start < e.name.size());
      check(e.name[e.suffix_start - 1] == '.');
      check(e.name.find('*', e.suffix_start) == std::string::npos);
    }
    const std::string host = sample_host(e);
    if (host.empty()) continue;
    const std::string rule(in);
    if (list == detail::ListKind::kAllow) {
      const Policy p = Policy::build({rule}, {});
      const Protocol proto = (e.protocols & detail::kProtoHttps) ? Protocol::Https : Protocol::Http;
      const Decision d = p.decide(host, proto);
      check(d.allowed);
      check(d.rule == e.rule);
      check(p.decide(host, Protocol::Dns).allowed);
    } else {
      const Policy p = Policy::build({"fuzz-allow.example"}, {rule});
      const Decision d = p.decide(host, Protocol::Https);
      check(!d.allowed);
      check(d.rule == e.rule);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  for (const std::string& entry : split_domain_list(in)) check(entry.size() <= size);
  (void)parse_domain_file(in);

  check_entry(in);

  const std::string n = normalize_host(in);
  if (!n.empty()) {
    check(n.size() <= 253);
    check(normalize_host(n) == n);
  }
  const std::string ip = canonical_ip_literal(in);
  if (!ip.empty()) check(canonical_ip_literal(ip) == ip);

  detail::NameBuffer name;
  if (detail::normalize_name(in, true, name) == detail::NameStatus::kOk) {
    check(name.size <= detail::kMaxNameLength);
    check(detail::glob_match(name.view(), name.view()));  // '*' also matches a literal '*'
  }
  return 0;
}
