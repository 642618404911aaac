// --diagnostic-logs: on a failed run, what awf knew, written where gh-aw uploads it from
// (<audit-dir>/diagnostics/, else <work-dir>/diagnostics/, else the logs directory's).
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace awf::cli {

// The command's stderr, passed on to awf's own stderr as it comes, with its last lines kept
// for the diagnostics. A pipe the sandbox gets as the command's fd 2, and a thread that
// drains it: the command never waits on awf's event loop to write an error.
class StderrTail {
 public:
  // Makes the pipe. Throws SetupError.
  StderrTail();
  ~StderrTail();
  StderrTail(const StderrTail&) = delete;
  StderrTail& operator=(const StderrTail&) = delete;

  // The end the sandbox writes to.
  int write_end() const;
  // Once the sandbox holds its copy of the write end: closes awf's and starts the thread.
  // Not before: the sandbox is cloned from a single-threaded awf (a lock another thread
  // held at the clone would stay locked in the child).
  void start_forwarding();
  // Waits until every writer has gone (the sandbox ended), then returns the last lines.
  std::string finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

struct DiagnosticsReport {
  std::string directory;       // where diagnostics/ goes
  std::string config_json;     // the resolved configuration, secrets redacted
  std::string mounts_text;     // the sandbox's view, one line per mount decision
  std::string logs_directory;  // the run's access.log and audit.jsonl
  std::string stderr_tail;
  int exit_code = 0;
  bool timed_out = false;
  int interrupted_by = 0;  // signal number, 0 when none
};

// Writes diagnostics/{exit.json,config.json,mounts.txt,gateway.json,stderr-tail.txt}; returns
// the directory written. Throws SetupError.
std::string write_diagnostics(const DiagnosticsReport& report);

// The last `max_lines` lines of `text` (the whole of a final line without a newline).
std::string last_lines(const std::string& text, std::size_t max_lines);

}  // namespace awf::cli
