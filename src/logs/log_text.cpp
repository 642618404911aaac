#include "logs/log_text.h"

namespace awf::logs {
namespace {

bool is_blank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

// Calls `take(line)` for each non-blank line; it returns whether the line parsed.
template <typename Take>
LineCounts scan_lines(std::string_view text, Take take) {
  LineCounts counts;
  LineSplitter splitter;
  for (const std::string& line : splitter.feed(text)) {
    if (is_blank(line)) continue;
    if (take(line)) {
      ++counts.valid;
    } else {
      ++counts.malformed;
    }
  }
  const std::string& tail = splitter.pending();
  if (is_blank(tail)) return counts;
  if (take(tail)) {
    ++counts.valid;
  } else {
    counts.truncated_tail = true;
  }
  return counts;
}

}  // namespace

std::vector<std::string> LineSplitter::feed(std::string_view chunk) {
  std::vector<std::string> lines;
  while (!chunk.empty()) {
    const auto newline = chunk.find('\n');
    if (newline == std::string_view::npos) {
      pending_.append(chunk);
      break;
    }
    pending_.append(chunk.substr(0, newline));
    lines.push_back(std::move(pending_));
    pending_.clear();
    chunk.remove_prefix(newline + 1);
  }
  return lines;
}

bool is_garbage(const LineCounts& counts) {
  return counts.valid == 0 && (counts.malformed > 0 || counts.truncated_tail);
}

AuditText parse_audit_text(std::string_view text) {
  AuditText out;
  out.counts = scan_lines(text, [&](std::string_view line) {
    auto record = audit::parse_json_line(line);
    if (!record) return false;
    out.records.push_back(std::move(*record));
    return true;
  });
  return out;
}

AccessText parse_access_text(std::string_view text) {
  AccessText out;
  out.counts = scan_lines(text, [&](std::string_view line) {
    auto record = audit::parse_access_line(line);
    if (!record) return false;
    out.records.push_back(std::move(*record));
    if (line.ends_with('\r')) line.remove_suffix(1);
    out.lines.emplace_back(line);
    return true;
  });
  return out;
}

}  // namespace awf::logs
