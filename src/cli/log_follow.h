// `awf logs --follow`: records printed as the run writes them, until SIGINT or SIGTERM.
#pragma once

#include <functional>
#include <string>

#include "logs/entry.h"

namespace awf::cli {

using Printer = std::function<void(const logs::LogEntry&)>;

// access.log's lines as written. Returns the exit status.
int follow_raw(const std::string& dir);

// audit.jsonl's records (with user agents from access.log), or access.log's when there is no
// audit.jsonl, each through `print`. Returns the exit status.
int follow_entries(const std::string& dir, const Printer& print);

}  // namespace awf::cli
