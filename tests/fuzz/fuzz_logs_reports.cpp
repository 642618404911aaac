// libFuzzer target: `awf logs` end to end on hostile files. The input is split into an
// audit.jsonl and an access.log; every report is built from them, and no report may carry a
// control byte (a terminal escape) when colour is off.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "logs/entry_format.h"
#include "logs/log_text.h"
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
  const std::string_view access_text =
      split == std::string_view::npos ? std::string_view() : input.substr(split + 1);

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
  const Manifest manifest{"deny", {{1, "allow", "x\x1b.test"}}};
  check_printable(format_rule_audit(entries, &manifest, {}, plain));
  check_printable(allow_domains_flag(suggest_allow_domains(entries)));
  return 0;
}
