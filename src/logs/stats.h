// `awf logs stats` and `awf logs summary`: totals and per-target counts of one run.
// Counted: every proxy request, every DNS refusal and every blocked attempt (answered DNS
// queries only precede requests, so they are not counted again). A refusal marked `repeat`
// (the rest of one lookup: its AAAA, a resolver's retry) is not counted again either.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "logs/entry.h"
#include "logs/entry_format.h"

namespace awf::logs {

struct TargetRow {
  std::string name;  // domain, or address:port for a blocked attempt
  std::string via;   // "http", "https", "dns", or the blocked attempt's transport
  std::size_t allowed = 0;
  std::size_t denied = 0;
  std::size_t total() const { return allowed + denied; }
};

struct TimeRange {
  std::int64_t first_ms = 0;
  std::int64_t last_ms = 0;
};

struct Stats {
  std::size_t total = 0;
  std::size_t allowed = 0;
  std::size_t denied = 0;
  std::size_t unique_domains = 0;  // distinct names among proxy requests and DNS refusals
  std::optional<TimeRange> range;
  std::vector<TargetRow> rows;  // by total, most first
};

Stats compute_stats(const std::vector<LogEntry>& entries);

std::string format_stats_pretty(const Stats& stats, const Palette& palette);
std::string format_stats_json(const Stats& stats);
// A <details> block for $GITHUB_STEP_SUMMARY: the headline as its summary, then the table.
std::string format_stats_markdown(const Stats& stats);

// Markdown table cells hold names the sandboxed command chose: no markup gets through.
std::string markdown_cell(std::string_view text);

}  // namespace awf::logs
