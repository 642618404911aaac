// awf's command line (AWF-compatible names). Parsing only: no side effects.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "sandbox/limits.h"

namespace awf::cli {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class LogLevel { Debug, Info, Warn, Error };

struct Options {
  std::vector<std::string> allow_domains;  // entries, split and trimmed (may hold "")
  std::vector<std::string> block_domains;
  std::vector<std::string> allow_domain_files;
  std::vector<std::string> block_domain_files;
  std::vector<std::string> dns_servers;  // as given, validated later
  std::string proxy_logs_dir;
  std::string user;
  sandbox::ResourceLimits limits;  // --memory-limit, --pids-limit (validated)
  LogLevel log_level = LogLevel::Info;
  std::vector<std::string> command;  // argv of the command (a lone string is run by bash -c)
};

struct ParseResult {
  std::optional<Options> options;  // empty when help/version was printed
  int exit_code = 0;
};

// Parses argv. Prints --help/--version itself. Throws UsageError for bad flags or values.
ParseResult parse_options(int argc, char** argv);

}  // namespace awf::cli
