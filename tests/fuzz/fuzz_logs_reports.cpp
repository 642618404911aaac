// libFuzzer target: `awf logs` end to end on hostile files. The input is split at form feeds
// into an audit.jsonl (awf's form, an earlier awf's or AWF's own), an access.log and a
// policy-manifest.json; every report is built from them, and no report may carry a control
// byte (a terminal escape) when colour is off.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "logs/entry_format.h"
#include "logs/log_text.h"
#include "logs/manifest.h"
#include "logs/rule_audit.h"
#include "logs/stats.h"
#include "logs/suggest.h"

namespace {

void check_printable(const std::string& text) {
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 && c != '\n') std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const auto split = input.find('\f');
  const std::string_view audit_text = input.substr(0, split);
  std::string_view access_text =
      split == std::string_view::npos ? std::string_view() : input.substr(split + 1);
  const auto second = access_text.find('\f');
  const std::string_view manifest_text =
      second == std::string_view::npos ? std::string_view() : access_text.substr(second + 1);
  access_text = access_text.substr(0, second);

  using namespace awf::logs;
  AuditText audit = parse_audit_text(audit_text);
  const AccessText access = parse_access_text(access_text);
  if (audit.counts.valid != audit.records.size() || access.lines.size() != access.records.size()) {
    std::abort();
  }
  const auto entries = join_user_agents(std::move(audit.records), access.records);
  const Palette plain;
  for (const LogEntry& entry : entries) {
    check_printable(format_pretty(entry, plain));
    check_printable(format_json(entry));
  }
  const Stats stats = compute_stats(entries);
  if (stats.allowed + stats.denied != stats.total) std::abort();
  check_printable(format_stats_pretty(stats, plain));
  check_printable(format_stats_json(stats));
  check_printable(format_stats_markdown(stats));
  Manifest fallback;
  ManifestRule rule;
  rule.id = "allow-1";
  rule.rule = 1;
  rule.action = "allow";
  rule.entry = "x\x1b.test";
  fallback.rules.push_back(rule);
  const std::optional<Manifest> parsed = parse_manifest(manifest_text);
  const Manifest& manifest = parsed ? *parsed : fallback;
  check_printable(format_rule_audit(entries, &manifest, {}, plain));
  check_printable(format_rule_audit(entries, nullptr, {}, plain));
  check_printable(allow_domains_flag(suggest_allow_domains(entries)));
  return 0;
}
