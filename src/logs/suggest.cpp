#include "logs/suggest.h"

#include <libpsl.h>

#include <algorithm>
#include <map>
#include <set>

#include "policy/domain_list.h"
#include "policy/policy.h"
#include "policy/public_suffix.h"

namespace awf::logs {
namespace {

// The registrable domain ("x.com" for "a.b.x.com", "u.github.io" for "a.u.github.io"), or ""
// for a public suffix.
std::string registrable_domain(const std::string& name) {
  const char* domain = psl_registrable_domain(policy::public_suffixes(), name.c_str());
  return domain == nullptr ? std::string() : std::string(domain);
}

bool is_public_suffix(const std::string& name) {
  return psl_is_public_suffix2(policy::public_suffixes(), name.c_str(), PSL_TYPE_ANY) != 0;
}

bool is_ip_literal(const std::string& name) {
  return name.find(':') != std::string::npos ||
         name.find_first_not_of("0123456789.") == std::string::npos;
}

// Whether the policy accepts `entry` on an allowlist.
bool acceptable_entry(const std::string& entry) {
  try {
    policy::Policy::build({entry}, {});
    return true;
  } catch (const policy::PolicyError&) {
    return false;
  }
}

std::string join(const std::set<std::string>& names, const char* separator) {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out += separator;
    out += name;
  }
  return out;
}

// Denied names with their number of denied records, by registrable domain ("" for none).
using Denials = std::map<std::string, std::map<std::string, std::size_t>>;

// Several names under one registrable domain become that domain; a lone name stays itself
// (the narrowest entry that allows it).
void add_groups(const Denials& by_domain, Suggestion& out) {
  for (const auto& [domain, names] : by_domain) {
    if (names.size() == 1 || domain.empty()) {
      for (const auto& [name, count] : names) {
        if (acceptable_entry(name)) {
          out.domains.push_back(name);
          out.requests += count;
        } else {
          out.unsuggestable.push_back(name);
        }
      }
      continue;
    }
    std::set<std::string> grouped;
    for (const auto& [name, count] : names) {
      grouped.insert(name);
      out.requests += count;
    }
    if (!grouped.contains(domain)) out.groups.push_back(join(grouped, ", ") + " -> " + domain);
    out.domains.push_back(domain);
  }
}

// Denied because no allow rule matched (not for internal addresses, SNI mismatches, ports...).
bool denied_by_allowlist(const LogEntry& entry) {
  const audit::AuditRecord& r = entry.record;
  if (is_allowed(entry) || r.rule != 0) return false;
  if (r.kind == "blocked" || r.name.empty()) return false;
  return r.reason.find("allowlist") != std::string::npos;
}

}  // namespace

Suggestion suggest_allow_domains(const std::vector<LogEntry>& entries) {
  Suggestion out;
  Denials by_domain;
  std::set<std::string> blocked;
  std::set<std::string> unsuggestable;
  for (const LogEntry& entry : entries) {
    const audit::AuditRecord& r = entry.record;
    if (!is_allowed(entry) && r.reason.starts_with("blocked by ")) blocked.insert(r.name);
    if (r.repeat || !denied_by_allowlist(entry)) continue;
    const std::string name = policy::normalize_host(r.name);
    if (name.empty() || (!is_ip_literal(name) && is_public_suffix(name))) {
      unsuggestable.insert(r.name);
      continue;
    }
    ++by_domain[is_ip_literal(name) ? std::string() : registrable_domain(name)][name];
  }
  add_groups(by_domain, out);
  std::sort(out.domains.begin(), out.domains.end());
  out.blocked.assign(blocked.begin(), blocked.end());
  out.unsuggestable.insert(out.unsuggestable.end(), unsuggestable.begin(), unsuggestable.end());
  return out;
}

std::string allow_domains_flag(const Suggestion& suggestion) {
  if (suggestion.domains.empty()) return {};
  std::string list;
  for (const std::string& domain : suggestion.domains) {
    if (!list.empty()) list += ",";
    list += domain;
  }
  return "--allow-domains '" + list + "'";
}

}  // namespace awf::logs
