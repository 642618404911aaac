// The files of one awf run, read: access.log and audit.jsonl as entries, and the policy
// manifest that names the rules (docs/logs.md, "Reading logs").
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "logs/entry.h"
#include "logs/log_text.h"
#include "logs/manifest.h"

namespace awf::cli {

// A problem with the logs or the arguments: the message is printed, the exit status is 1.
class LogsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The file's contents; nullopt when it does not exist. Throws LogsError.
std::optional<std::string> read_file_if_present(const std::string& path);

bool is_directory(const std::string& path);

// When the run last wrote: its directory or either log file (ms since the epoch).
std::int64_t last_write_ms(const std::string& dir);

// The logs directly in `dir`, else in its squid-logs/ (AWF's layout under --proxy-logs-dir,
// which gh-aw hands over as AWF_LOGS_DIR).
std::string logs_in(const std::string& dir);

// Throws LogsError when no line of the file is a record; reports skipped malformed lines.
void check_counts(const std::string& path, const logs::LineCounts& counts);

struct RunLogs {
  std::vector<logs::LogEntry> entries;
  logs::AccessText access;
  bool has_access = false;
  std::optional<logs::Manifest> manifest;
};

// audit.jsonl is the source (every decision, with pid and rule); access.log adds user agents.
// A directory with access.log only (AWF's Squid logs) is read from that. Throws LogsError.
RunLogs load_run(const std::string& dir);

}  // namespace awf::cli
