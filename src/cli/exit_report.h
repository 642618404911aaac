// The end of a run: awf's exit status and what it says about the run on stderr.
#pragma once

#include <optional>
#include <string>

#include "cli/command_watch.h"
#include "cli/diagnostics.h"
#include "cli/options.h"
#include "cli/run_outputs.h"
#include "sandbox/cgroup.h"
#include "sandbox/mounts.h"

namespace awf::cli {

// The command's status (1 when there is none); 130, 143 or 129 when awf was interrupted by
// SIGINT, SIGTERM or SIGHUP; 124 (as timeout(1)) when --agent-timeout stopped it.
int exit_status(const CommandEnd& end);

// The memory and process limits the command reached.
void report_limits(const std::optional<sandbox::Cgroup>& cgroup, const Options& options);

// --diagnostic-logs: waits for the command's stderr to close, and writes the diagnostics when
// the run failed.
void write_run_diagnostics(const Options& options, const RunOutputs& outputs,
                           const sandbox::MountPlan& mounts, StderrTail& stderr_tail,
                           const CommandEnd& end, int code);

// No traffic without a record (audit/log_writer.h): says how many connections and queries were
// refused because the logs could not be written, and how many records never were; returns the
// status awf exits with: kUnrecordedExitCode instead of 0 when either happened (the command
// succeeded, its record did not), `code` otherwise.
inline constexpr int kUnrecordedExitCode = 74;  // EX_IOERR
int report_unrecorded(const audit::LogWriter& log, int code);

// On a failure, the names the firewall denied; then where the run's files are.
void print_summary(const RunOutputs& outputs, int code);

}  // namespace awf::cli
