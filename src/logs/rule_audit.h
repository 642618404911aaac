// `awf logs audit`: every record under the policy rule that decided it, with hits per rule.
// A record names its rule by id ("rule" in audit.jsonl); the run's policy-manifest.json says
// what that id is. A denial without a rule is the default deny.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "logs/entry.h"
#include "logs/entry_format.h"
#include "logs/manifest.h"

namespace awf::logs {

struct AuditFilter {
  std::optional<std::uint32_t> rule;  // 0: records no rule decided
  std::string domain;                 // this name or any name under it ("" = all)
  std::optional<bool> allowed;
};

bool matches(const LogEntry& entry, const AuditFilter& filter);

// "#1 allow github.com", "#4" (no manifest), "default deny", "(none)" (allowed by no rule).
std::string rule_label(const LogEntry& entry, const Manifest* manifest);

// The rules with their hits among the matching records, then those records.
std::string format_rule_audit(const std::vector<LogEntry>& entries, const Manifest* manifest,
                              const AuditFilter& filter, const Palette& palette);

}  // namespace awf::logs
