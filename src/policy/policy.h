// The domain policy: which names (and IP literals) the sandboxed command may reach, and how.
// Pure logic: no I/O. Built once at startup, then queried concurrently (const methods only).
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace awf::policy {

// A bad allow/block entry. what() quotes the entry, e.g. `invalid domain '*.com': ...`.
class PolicyError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// How a request reaches its target. Plain HTTP (explicit absolute-URI or transparent port 80)
// is Http; CONNECT and transparent TLS are Https. Dns is a name lookup (allowed when either
// protocol would be).
enum class Protocol { Http, Https, Dns };

// One entry of the policy, in manifest order: allow entries as given, then block entries.
struct RuleInfo {
  std::uint32_t id = 0;  // 1-based position in the manifest
  bool block = false;
  bool exact = false;  // the name only, not its subdomains (a ruleset's `subdomains: false`)
  std::string entry;   // as the user wrote it (trimmed)
};

// Views into the Policy that made it: valid while that Policy lives (awf keeps one for the
// whole run). Deciding allocates nothing.
struct Decision {
  bool allowed = false;
  // The entry that decided, as the user wrote it (after trimming), or empty when none matched.
  std::string_view rule;
  // Its id in the policy manifest (1-based, see Policy::rules()), 0 when none matched.
  std::uint32_t rule_id = 0;
  // Short human reason: "allowed by 'github.com'", "blocked by 'evil.com'",
  // "not in allowlist", "no allowlist given", "IP literal not in allowlist",
  // "allowed for https only by 'https://x.com'", "invalid host name".
  std::string_view reason;
};

class Policy {
 public:
  // Parses and validates every entry; throws PolicyError on the first bad one.
  // The allowlist rejects over-broad wildcards (public suffixes, via libpsl); the blocklist
  // accepts them and ignores protocol prefixes.
  // `exact_allow_entries` allow their name but none of its subdomains; they take the ids
  // after the allow entries (manifest order: allow, exact allow, block).
  static Policy build(const std::vector<std::string>& allow_entries,
                      const std::vector<std::string>& block_entries,
                      const std::vector<std::string>& exact_allow_entries = {});

  Policy();
  ~Policy();
  Policy(Policy&&) noexcept;
  Policy& operator=(Policy&&) noexcept;

  // `host` is what the client named: any case, optional trailing dot, IDN (UTF-8 or punycode),
  // or an IPv4/IPv6 literal (brackets allowed). Never throws.
  Decision decide(std::string_view host, Protocol protocol) const;

  // True when no allow entry was given: every network request is denied.
  bool allowlist_empty() const;
  std::size_t allow_rule_count() const;
  std::size_t block_rule_count() const;
  // Every rule with its id, for the policy manifest and log attribution.
  std::vector<RuleInfo> rules() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace awf::policy
