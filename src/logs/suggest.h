// `awf logs suggest`: the shortest --allow-domains list that would have allowed every request
// and DNS query a run's allowlist denied. Names under one registrable domain (libpsl) are
// grouped into it when there are several; a public suffix is never suggested.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "logs/entry.h"

namespace awf::logs {

struct Suggestion {
  std::vector<std::string> domains;  // sorted
  std::size_t requests = 0;          // denied records the list covers
  // "api.x.com, cdn.x.com -> x.com" for each group of several names.
  std::vector<std::string> groups;
  // Names denied by a --block-domains rule: allowing them would not help.
  std::vector<std::string> blocked;
  // Names that no allow entry can cover (public suffixes, entries the policy rejects).
  std::vector<std::string> unsuggestable;
};

Suggestion suggest_allow_domains(const std::vector<LogEntry>& entries);

// "--allow-domains 'a.com,b.org'" ("" when there is nothing to suggest).
std::string allow_domains_flag(const Suggestion& suggestion);

}  // namespace awf::logs
