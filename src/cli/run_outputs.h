// What a run writes on the host for its caller: the logs, the work directory when asked for,
// and --audit-dir. Everything is created before the sandbox starts, owned by the invoking user
// (common/owner.h), and hidden from the command.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "audit/log_writer.h"
#include "cli/options.h"

namespace awf::cli {

// Creates an output directory (and its parents) for `flag`, owned by the invoking user.
// Returns whether the directory itself was created. Throws UsageError naming `flag`.
bool make_output_dir(const std::string& path, const char* flag);

// awf's work directory: the run's policy manifest and resolved configuration. Removed at exit
// (only what awf wrote, and the directory when that leaves it empty) unless it is to be kept.
class WorkDir {
 public:
  WorkDir(std::string path, bool keep);
  WorkDir(const WorkDir&) = delete;
  WorkDir& operator=(const WorkDir&) = delete;
  ~WorkDir();

  const std::string& path() const { return path_; }
  void write(const std::string& name, const std::string& contents);

 private:
  std::string path_;
  bool keep_;
  bool created_;
  std::vector<std::string> files_;
};

class RunOutputs {
 public:
  // Creates the log directory (--proxy-logs-dir, else a new one in the private log store,
  // log_store.h, 0700 with files 0600), the work directory when
  // --work-dir or --keep-work-dir asks for one, and --audit-dir, and writes `manifest` (and the
  // resolved configuration) where each belongs. Throws UsageError or SetupError.
  RunOutputs(const Options& options, const std::string& manifest);

  audit::LogWriter& log() { return log_; }
  const audit::LogWriter& log() const { return log_; }
  // The mode of the log files: 0644 in a directory the caller named, else 0600 (private).
  mode_t log_file_mode() const { return explicit_logs_dir_ ? 0644 : 0600; }
  // awf's directories of this run and the log store, which the command must not see.
  std::vector<std::string> own_dirs() const;
  // Where --diagnostic-logs writes, as AWF: the audit directory, else the work directory.
  std::string diagnostics_home() const;
  // At exit: where the logs are (unless the caller named the directory) and a kept work
  // directory.
  void print_locations() const;

 private:
  void remove_unused_logs();

  const Options& options_;
  bool explicit_logs_dir_;
  audit::LogWriter log_;
  std::optional<WorkDir> work_dir_;
};

}  // namespace awf::cli
