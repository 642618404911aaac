#include "logs/stats.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>

namespace awf::logs {
namespace {

using Json = nlohmann::ordered_json;

std::string via_of(const LogEntry& entry) {
  const std::string& kind = entry.record.kind;
  if (kind == "http") return "http";
  if (kind == "connect" || kind == "tls") return "https";
  if (kind == "dns") return "dns";
  if (kind == "host") return "host";
  if (kind == "peer") return "peer";
  if (kind == "api") return "api";
  return entry.record.transport.empty() ? kind : entry.record.transport;
}

std::string row_name(const LogEntry& entry) {
  const std::string target = target_of(entry);
  return target.empty() ? "-" : target;
}

std::string percent(std::size_t part, std::size_t whole) {
  char text[16];
  std::snprintf(text, sizeof text, "%.1f%%",
                whole == 0 ? 0.0 : 100.0 * static_cast<double>(part) / static_cast<double>(whole));
  return text;
}

std::string plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

std::string headline(const Stats& s) {
  return plural(s.total, "request", "requests") + " | " + std::to_string(s.allowed) + " allowed (" +
         percent(s.allowed, s.total) + ") | " + std::to_string(s.denied) + " denied (" +
         percent(s.denied, s.total) + ") | " + plural(s.unique_domains, "domain", "domains");
}

std::string iso_time(std::int64_t time_ms) {
  std::string text = format_time(time_ms);
  std::replace(text.begin(), text.end(), ' ', 'T');
  return text + "Z";
}

std::string range_text(const TimeRange& range) {
  return format_time(range.first_ms) + " - " + format_time(range.last_ms) + " UTC";
}

// See stats.h: answered DNS queries are not counted.
bool counts_in_stats(const LogEntry& entry) {
  if (entry.record.repeat) return false;
  return entry.record.kind != "dns" || !is_allowed(entry);
}

}  // namespace

Stats compute_stats(const std::vector<LogEntry>& entries) {
  Stats s;
  std::map<std::pair<std::string, std::string>, TargetRow> rows;
  std::set<std::string> domains;
  for (const LogEntry& entry : entries) {
    if (!counts_in_stats(entry)) continue;
    const bool allowed = is_allowed(entry);
    ++s.total;
    ++(allowed ? s.allowed : s.denied);
    const std::string name = row_name(entry);
    const std::string via = via_of(entry);
    TargetRow& row = rows[{name, via}];
    row.name = name;
    row.via = via;
    ++(allowed ? row.allowed : row.denied);
    if (entry.record.kind != "blocked") domains.insert(name);
    const std::int64_t t = entry.record.time_ms;
    if (!s.range) s.range = TimeRange{t, t};
    s.range->first_ms = std::min(s.range->first_ms, t);
    s.range->last_ms = std::max(s.range->last_ms, t);
  }
  s.unique_domains = domains.size();
  for (auto& [key, row] : rows) s.rows.push_back(std::move(row));
  std::stable_sort(s.rows.begin(), s.rows.end(),
                   [](const TargetRow& a, const TargetRow& b) { return a.total() > b.total(); });
  return s;
}

std::string format_stats_pretty(const Stats& s, const Palette& palette) {
  std::string out = palette.bold("Firewall statistics") + "\n";
  out += "Total requests:  " + std::to_string(s.total) + "\n";
  out += "Allowed:         " + palette.green(std::to_string(s.allowed)) + " (" +
         percent(s.allowed, s.total) + ")\n";
  out += "Denied:          " + palette.red(std::to_string(s.denied)) + " (" +
         percent(s.denied, s.total) + ")\n";
  out += "Unique domains:  " + std::to_string(s.unique_domains) + "\n";
  if (s.range) out += "Time range:      " + range_text(*s.range) + "\n";
  if (s.rows.empty()) return out;
  std::size_t width = 0;
  for (const TargetRow& row : s.rows) width = std::max(width, printable(row.name).size());
  out += "\n" + palette.bold("Targets:") + "\n";
  for (const TargetRow& row : s.rows) {
    std::string name = printable(row.name);
    name.resize(width + 2, ' ');
    std::string via = printable(row.via);
    via.resize(7, ' ');
    const std::string denied = std::to_string(row.denied) + " denied";
    out += "  " + name + via + palette.green(std::to_string(row.allowed) + " allowed") + ", " +
           (row.denied > 0 ? palette.red(denied) : palette.dim(denied)) + "\n";
  }
  return out;
}

std::string format_stats_json(const Stats& s) {
  Json j;
  j["totalRequests"] = s.total;
  j["allowedRequests"] = s.allowed;
  j["deniedRequests"] = s.denied;
  j["uniqueDomains"] = s.unique_domains;
  if (s.range) {
    j["timeRange"] = {{"start", iso_time(s.range->first_ms)}, {"end", iso_time(s.range->last_ms)}};
  } else {
    j["timeRange"] = nullptr;
  }
  Json rows = Json::array();
  for (const TargetRow& row : s.rows) {
    rows.push_back({{"domain", row.name},
                    {"via", row.via},
                    {"allowed", row.allowed},
                    {"denied", row.denied},
                    {"total", row.total()}});
  }
  j["byDomain"] = std::move(rows);
  return j.dump(2, ' ', true, Json::error_handler_t::replace) + "\n";
}

std::string markdown_cell(std::string_view text) {
  std::string out;
  for (char ch : printable(text)) {
    switch (ch) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '|':
      case '\\':
      case '`':
      case '*':
      case '_':
      case '[':
      case ']':
        out.push_back('\\');
        out.push_back(ch);
        break;
      default:
        out.push_back(ch);
    }
  }
  return out;
}

std::string format_stats_markdown(const Stats& s) {
  std::string out = "<details>\n<summary>Firewall: " + headline(s) + "</summary>\n\n";
  if (s.rows.empty()) {
    out += "No network activity was recorded.\n";
  } else {
    if (s.range) out += "Time range: " + range_text(*s.range) + "\n\n";
    out += "| Domain | Via | Allowed | Denied |\n|--------|-----|--------:|-------:|\n";
    for (const TargetRow& row : s.rows) {
      out += "| " + markdown_cell(row.name) + " | " + markdown_cell(row.via) + " | " +
             std::to_string(row.allowed) + " | " + std::to_string(row.denied) + " |\n";
    }
  }
  return out + "\n</details>\n";
}

}  // namespace awf::logs
