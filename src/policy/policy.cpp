#include "policy/policy.h"

#include <algorithm>
#include <cstdint>

#include "policy/domain_pattern.h"
#include "policy/domain_trie.h"

namespace awf::policy {
namespace {

using detail::DomainTrie;

struct IpRule {
  detail::IpBytes ip;
  std::uint32_t rule;
  std::uint8_t protocols;
  bool block;
};

bool ip_less(const IpRule& a, const IpRule& b) {
  return a.ip < b.ip;
}

// `prefix'rule'suffix` with a single allocation.
std::string say(std::string_view prefix, const std::string& rule) {
  std::string out;
  out.reserve(prefix.size() + rule.size() + 2);
  out.append(prefix);
  out.push_back('\'');
  out.append(rule);
  out.push_back('\'');
  return out;
}

}  // namespace

struct Policy::Impl {
  // Per rule (allow entries first, then exact, then block), the reason a decision by it gives,
  // "allowed by 'x'" or "blocked by 'x'", which also holds the entry itself; and for a rule
  // limited to one protocol, the reason a request over the other one is denied. Made at build
  // time so that decide() hands out views, allocates nothing and touches one string per hit.
  struct RuleText {
    std::string reason;
    std::uint32_t entry_start = 0;
    std::string_view entry() const {
      return std::string_view(reason).substr(entry_start, reason.size() - entry_start - 1);
    }
  };
  std::vector<RuleText> texts;
  std::vector<std::string> other_protocol_reasons;
  std::size_t allow_count = 0;  // allow and exact-allow entries
  std::size_t exact_start = 0;  // first exact-allow entry
  std::size_t block_count = 0;
  DomainTrie trie;
  std::vector<IpRule> ips;  // sorted by address; ties keep entry order

  void add(detail::Entry&& entry, bool block, bool exact = false) {
    const auto index = static_cast<std::uint32_t>(texts.size());
    const std::string_view prefix = block ? "blocked by " : "allowed by ";
    texts.push_back(
        RuleText{say(prefix, entry.rule), static_cast<std::uint32_t>(prefix.size() + 1)});
    other_protocol_reasons.push_back(block || entry.protocols == detail::kProtoBoth
                                         ? std::string()
                                         : say(entry.protocols == detail::kProtoHttp
                                                   ? "allowed for http only by "
                                                   : "allowed for https only by ",
                                               entry.rule));
    switch (entry.kind) {
      case detail::EntryKind::kName:
        if (exact) {
          trie.add_exact(entry.name, index, entry.protocols);
        } else {
          trie.add_name(entry.name, index, entry.protocols, block);
        }
        break;
      case detail::EntryKind::kWildcard:
        trie.add_wildcard(entry.name, entry.suffix_start, index, entry.protocols, block);
        break;
      case detail::EntryKind::kIp:
        ips.push_back(IpRule{entry.ip, index, entry.protocols, block});
        break;
    }
  }

  Decision finish(std::uint32_t block, const std::uint32_t (&allow)[2], Protocol protocol,
                  const char* not_found) const {
    Decision d;
    if (block != DomainTrie::kNone) {
      d.rule = texts[block].entry();
      d.rule_id = block + 1;
      d.reason = texts[block].reason;
      return d;
    }
    std::uint32_t hit = DomainTrie::kNone;
    std::uint32_t other = DomainTrie::kNone;
    switch (protocol) {
      case Protocol::Http:
        hit = allow[0];
        other = allow[1];
        break;
      case Protocol::Https:
        hit = allow[1];
        other = allow[0];
        break;
      case Protocol::Dns:
        hit = allow[1] != DomainTrie::kNone ? allow[1] : allow[0];
        break;
    }
    if (hit != DomainTrie::kNone) {
      d.allowed = true;
      d.rule = texts[hit].entry();
      d.rule_id = hit + 1;
      d.reason = texts[hit].reason;
    } else if (other != DomainTrie::kNone) {
      d.rule = texts[other].entry();
      d.rule_id = other + 1;
      d.reason = other_protocol_reasons[other];
    } else {
      d.reason = not_found;
    }
    return d;
  }
};

Policy Policy::build(const std::vector<std::string>& allow_entries,
                     const std::vector<std::string>& block_entries,
                     const std::vector<std::string>& exact_allow_entries) {
  auto impl = std::make_unique<Impl>();
  const std::size_t total =
      allow_entries.size() + block_entries.size() + exact_allow_entries.size();
  impl->texts.reserve(total);
  impl->other_protocol_reasons.reserve(total);
  // Most entries share their parent labels with others: about one or two new trie nodes each.
  const std::size_t labels = (allow_entries.size() + block_entries.size()) * 3 / 2;
  impl->trie.reserve(labels);
  for (const std::string& raw : allow_entries) {
    impl->add(detail::parse_entry(raw, detail::ListKind::kAllow), false);
  }
  impl->exact_start = impl->texts.size();
  for (const std::string& raw : exact_allow_entries) {
    detail::Entry entry = detail::parse_entry(raw, detail::ListKind::kAllow);
    if (entry.kind == detail::EntryKind::kWildcard) {
      throw PolicyError("invalid domain " + detail::quote_entry(raw) +
                        ": a wildcard cannot be limited to the exact name");
    }
    impl->add(std::move(entry), false, true);
  }
  for (const std::string& raw : block_entries) {
    impl->add(detail::parse_entry(raw, detail::ListKind::kBlock), true);
  }
  impl->allow_count = allow_entries.size() + exact_allow_entries.size();
  impl->block_count = block_entries.size();
  std::stable_sort(impl->ips.begin(), impl->ips.end(), ip_less);
  Policy policy;
  policy.impl_ = std::move(impl);
  return policy;
}

Policy::Policy() : impl_(std::make_unique<Impl>()) {}
Policy::~Policy() = default;
Policy::Policy(Policy&&) noexcept = default;
Policy& Policy::operator=(Policy&&) noexcept = default;

Decision Policy::decide(std::string_view host, Protocol protocol) const {
  if (!impl_ || impl_->allow_count == 0) return Decision{false, "", 0, "no allowlist given"};
  detail::NameBuffer name;
  detail::IpBytes ip{};
  switch (detail::classify_host(host, name, ip)) {
    case detail::HostKind::kInvalid:
      return Decision{false, "", 0, "invalid host name"};
    case detail::HostKind::kName: {
      const DomainTrie::Match m = impl_->trie.match(name.view());
      return impl_->finish(m.block, m.allow, protocol, "not in allowlist");
    }
    case detail::HostKind::kIp:
      break;
  }
  std::uint32_t block = DomainTrie::kNone;
  std::uint32_t allow[2] = {DomainTrie::kNone, DomainTrie::kNone};
  const IpRule key{ip, 0, 0, false};
  const auto [first, last] = std::equal_range(impl_->ips.begin(), impl_->ips.end(), key, ip_less);
  for (auto it = first; it != last; ++it) {
    if (it->block) {
      if (block == DomainTrie::kNone) block = it->rule;
      continue;
    }
    if ((it->protocols & detail::kProtoHttp) && allow[0] == DomainTrie::kNone) allow[0] = it->rule;
    if ((it->protocols & detail::kProtoHttps) && allow[1] == DomainTrie::kNone) {
      allow[1] = it->rule;
    }
  }
  return impl_->finish(block, allow, protocol, "IP literal not in allowlist");
}

bool Policy::allowlist_empty() const {
  return !impl_ || impl_->allow_count == 0;
}
std::size_t Policy::allow_rule_count() const {
  return impl_ ? impl_->allow_count : 0;
}
std::size_t Policy::block_rule_count() const {
  return impl_ ? impl_->block_count : 0;
}

std::vector<RuleInfo> Policy::rules() const {
  std::vector<RuleInfo> out;
  if (!impl_) return out;
  out.reserve(impl_->texts.size());
  for (std::size_t i = 0; i < impl_->texts.size(); ++i) {
    out.push_back(RuleInfo{static_cast<std::uint32_t>(i + 1), i >= impl_->allow_count,
                           i >= impl_->exact_start && i < impl_->allow_count,
                           std::string(impl_->texts[i].entry())});
  }
  return out;
}

}  // namespace awf::policy
