#include "logs/rule_audit.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace awf::logs {
namespace {

// Hits per rule id; 0 holds the default deny. Allowed records without a rule should not
// exist, so they are counted apart.
struct RuleHits {
  std::map<std::uint32_t, std::size_t> by_rule;
  std::size_t default_deny = 0;
  std::size_t allowed_without_rule = 0;
};

std::string normalized_domain(std::string domain) {
  std::transform(domain.begin(), domain.end(), domain.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (domain.ends_with('.')) domain.pop_back();
  return domain;
}

std::string id_label(std::uint32_t id, const Manifest* manifest) {
  std::string label = "#" + std::to_string(id);
  const ManifestRule* rule = manifest ? manifest->find(id) : nullptr;
  if (rule) label += " " + rule->action + " " + (rule->entry.empty() ? rule->id : rule->entry);
  return label;
}

std::string hits_line(const std::string& label, std::size_t hits, std::size_t width,
                      const Palette& palette) {
  std::string padded = printable(label);
  padded.resize(std::max(width, padded.size()) + 2, ' ');
  const std::string count = std::to_string(hits) + (hits == 1 ? " hit" : " hits");
  return "  " + padded + (hits == 0 ? palette.dim(count) : count) + "\n";
}

RuleHits count_hits(const std::vector<const LogEntry*>& records) {
  RuleHits hits;
  for (const LogEntry* entry : records) {
    if (entry->record.repeat) continue;  // one lookup, one hit
    if (entry->record.rule != 0) {
      ++hits.by_rule[entry->record.rule];
    } else if (is_allowed(*entry)) {
      ++hits.allowed_without_rule;
    } else {
      ++hits.default_deny;
    }
  }
  return hits;
}

// Label and hits of every row to show: the manifest's rules (all of them unless one rule
// was asked for), rules only the records name, then the rule-less rows.
std::vector<std::pair<std::string, std::size_t>> hit_rows(const RuleHits& hits,
                                                          const Manifest* manifest,
                                                          const AuditFilter& filter) {
  std::map<std::uint32_t, std::size_t> by_rule = hits.by_rule;
  if (manifest) {
    for (const ManifestRule& rule : manifest->rules) {
      if (!filter.rule || *filter.rule == rule.rule) by_rule.try_emplace(rule.rule, 0);
    }
  }
  by_rule.erase(0);
  std::vector<std::pair<std::string, std::size_t>> rows;
  for (const auto& [id, count] : by_rule) rows.emplace_back(id_label(id, manifest), count);
  const std::string fallback = manifest ? manifest->default_action : "deny";
  if (hits.default_deny > 0 || !filter.rule || *filter.rule == 0) {
    rows.emplace_back("default " + fallback, hits.default_deny);
  }
  if (hits.allowed_without_rule > 0) rows.emplace_back("(none)", hits.allowed_without_rule);
  return rows;
}

}  // namespace

bool matches(const LogEntry& entry, const AuditFilter& filter) {
  if (filter.rule && entry.record.rule != *filter.rule) return false;
  if (filter.allowed && is_allowed(entry) != *filter.allowed) return false;
  if (filter.domain.empty()) return true;
  const std::string domain = normalized_domain(filter.domain);
  const std::string name = normalized_domain(target_of(entry));
  return name == domain || name.ends_with("." + domain);
}

std::string rule_label(const LogEntry& entry, const Manifest* manifest) {
  if (entry.record.rule != 0) return id_label(entry.record.rule, manifest);
  if (is_allowed(entry)) return "(none)";
  return "default " + (manifest ? manifest->default_action : std::string("deny"));
}

std::string format_rule_audit(const std::vector<LogEntry>& entries, const Manifest* manifest,
                              const AuditFilter& filter, const Palette& palette) {
  std::vector<const LogEntry*> records;
  for (const LogEntry& entry : entries) {
    if (matches(entry, filter)) records.push_back(&entry);
  }
  const auto rows = hit_rows(count_hits(records), manifest, filter);
  std::size_t width = 0;
  for (const auto& [label, count] : rows) width = std::max(width, printable(label).size());

  std::string out = palette.bold(manifest ? "Policy rules (policy-manifest.json):"
                                          : "Policy rules (no policy-manifest.json):") +
                    "\n";
  for (const auto& [label, count] : rows) out += hits_line(label, count, width, palette);
  out += "\n" + palette.bold("Records (" + std::to_string(records.size()) + "):") + "\n";
  for (const LogEntry* entry : records) {
    out += format_pretty(*entry, palette) + "  " +
           palette.bold("rule: " + printable(rule_label(*entry, manifest))) + "\n";
  }
  return out;
}

}  // namespace awf::logs
