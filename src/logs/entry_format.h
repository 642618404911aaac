// One entry per line, for people (pretty) and for programs (json). Pure: the caller decides
// whether colour is wanted (a terminal, NO_COLOR unset).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "logs/entry.h"

namespace awf::logs {

// "2026-11-28 17:50:00.374" (UTC).
std::string format_time(std::int64_t time_ms);

// Logged strings come from the sandboxed command: bytes outside printable ASCII (terminal
// escapes, bidi overrides) are shown as \xNN so they cannot act on the reader's terminal.
std::string printable(std::string_view text);

// ANSI colour, or nothing.
struct Palette {
  bool enabled = false;
  std::string paint(std::string_view text, const char* code) const;
  std::string green(std::string_view text) const { return paint(text, "32"); }
  std::string red(std::string_view text) const { return paint(text, "31"); }
  std::string dim(std::string_view text) const { return paint(text, "90"); }
  std::string bold(std::string_view text) const { return paint(text, "1"); }
};

// [2026-11-28 17:50:00.374] CONNECT api.github.com → 200 (ALLOWED) [curl/8.0] <PID:1234 curl>
std::string format_pretty(const LogEntry& entry, const Palette& palette);

// One JSON object (AWF's key names, plus kind, reason, rule, pid and command).
std::string format_json(const LogEntry& entry);

}  // namespace awf::logs
