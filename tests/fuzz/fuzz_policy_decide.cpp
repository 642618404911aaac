// Fuzzes Policy::build + decide against a naive reference. Input: lines; "!x" is a block entry,
// "?x" a requested host, anything else an allow entry. Every host is also decided against a
// fixed policy. decide() must never throw or crash, and must agree with the reference: every
// rule tested against the whole host (plain: equal or dot-suffix; wildcard: DP glob).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "policy/domain_pattern.h"
#include "policy/policy.h"

namespace {

using namespace awf::policy;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool reference_glob(std::string_view p, std::string_view t) {
  std::vector<char> prev(t.size() + 1, 0), cur(t.size() + 1, 0);
  prev[0] = 1;
  for (std::size_t i = 1; i <= p.size(); ++i) {
    std::fill(cur.begin(), cur.end(), 0);
    if (p[i - 1] == '*') {
      cur[0] = prev[0];
      for (std::size_t j = 1; j <= t.size(); ++j) cur[j] = prev[j] || cur[j - 1];
    } else {
      for (std::size_t j = 1; j <= t.size(); ++j) cur[j] = prev[j - 1] && p[i - 1] == t[j - 1];
    }
    prev.swap(cur);
  }
  return prev[t.size()] != 0;
}

struct Rule {
  detail::Entry entry;
  bool block;
};

// "allowed", "blocked", "other", or the exact deny reason.
std::string reference(const std::vector<Rule>& rules, std::size_t allow_count,
                      std::string_view host, Protocol proto) {
  if (allow_count == 0) return "no allowlist given";
  detail::NameBuffer name;
  detail::IpBytes ip{};
  const detail::HostKind kind = detail::classify_host(host, name, ip);
  if (kind == detail::HostKind::kInvalid) return "invalid host name";
  const std::string h(name.view());
  auto covers = [&](const detail::Entry& e) {
    switch (e.kind) {
      case detail::EntryKind::kName:
        return kind == detail::HostKind::kName &&
               (h == e.name || (h.size() > e.name.size() &&
                                h.compare(h.size() - e.name.size(), e.name.size(), e.name) == 0 &&
                                h[h.size() - e.name.size() - 1] == '.'));
      case detail::EntryKind::kWildcard:
        return kind == detail::HostKind::kName && reference_glob(e.name, h);
      case detail::EntryKind::kIp:
        return kind == detail::HostKind::kIp && e.ip == ip;
    }
    return false;
  };
  for (const Rule& r : rules) {
    if (r.block && covers(r.entry)) return "blocked";
  }
  const std::uint8_t want = proto == Protocol::Http    ? detail::kProtoHttp
                            : proto == Protocol::Https ? detail::kProtoHttps
                                                       : detail::kProtoBoth;
  bool other = false;
  for (const Rule& r : rules) {
    if (r.block || !covers(r.entry)) continue;
    if (r.entry.protocols & want) return "allowed";
    other = true;
  }
  if (other) return "other";
  return kind == detail::HostKind::kIp ? "IP literal not in allowlist" : "not in allowlist";
}

std::string category(const Decision& d) {
  if (d.allowed) return "allowed";
  if (d.reason.rfind("blocked by '", 0) == 0) return "blocked";
  if (d.reason.rfind("allowed for ", 0) == 0) return "other";
  return std::string(d.reason);
}

const Policy& fixed_policy() {
  static const Policy p = Policy::build(
      {"github.com", "*.githubusercontent.com", "api-*.example.com", "http://plain.example.org",
       "https://secure.example.org", "bücher.example", "192.0.2.1", "[2001:db8::1]", "a.*.b.test"},
      {"evil.github.com", "tracker-*.example.com", "198.51.100.1"});
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> allow;
  std::vector<std::string> block;
  std::vector<std::string> hosts;
  std::vector<Rule> rules;
  std::size_t pos = 0;
  while (pos <= in.size() && hosts.size() + rules.size() < 24) {
    std::size_t nl = in.find('\n', pos);
    if (nl == std::string_view::npos) nl = in.size();
    const std::string line(in.substr(pos, nl - pos));
    pos = nl + 1;
    if (!line.empty() && line[0] == '?') {
      hosts.push_back(line.substr(1));
      continue;
    }
    const bool is_block = !line.empty() && line[0] == '!';
    const std::string entry = is_block ? line.substr(1) : line;
    try {
      detail::Entry e = detail::parse_entry(
          entry, is_block ? detail::ListKind::kBlock : detail::ListKind::kAllow);
      rules.push_back(Rule{std::move(e), is_block});
      (is_block ? block : allow).push_back(entry);
    } catch (const PolicyError&) {
      // Policy::build must reject it too.
      bool threw = false;
      try {
        (void)(is_block ? Policy::build({}, {entry}) : Policy::build({entry}, {}));
      } catch (const PolicyError&) {
        threw = true;
      }
      check(threw);
    }
  }
  hosts.emplace_back(in);  // the whole input as one host, too

  const Policy policy = Policy::build(allow, block);
  check(policy.allow_rule_count() == allow.size());
  check(policy.block_rule_count() == block.size());
  for (const std::string& host : hosts) {
    for (Protocol proto : {Protocol::Http, Protocol::Https, Protocol::Dns}) {
      const Decision d = policy.decide(host, proto);
      check(category(d) == reference(rules, allow.size(), host, proto));
      check(d.allowed == (d.reason.rfind("allowed by '", 0) == 0));
      const Decision f = fixed_policy().decide(host, proto);
      check(!f.reason.empty());
    }
  }
  return 0;
}
