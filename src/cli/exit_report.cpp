#include "cli/exit_report.h"

#include <signal.h>

#include <cstdint>
#include <cstdio>

#include "cli/audit_files.h"
#include "cli/sandbox_plan.h"

namespace awf::cli {
namespace {

constexpr int kTimeoutExitCode = 124;  // as timeout(1)

}  // namespace

int exit_status(const CommandEnd& end) {
  int code = end.exit_code.value_or(1);
  if (end.interrupted_by == SIGINT) code = 130;
  if (end.interrupted_by == SIGTERM) code = 143;
  if (end.interrupted_by == SIGHUP) code = 129;
  if (end.timed_out && end.interrupted_by == 0) code = kTimeoutExitCode;
  return code;
}

void report_limits(const std::optional<sandbox::Cgroup>& cgroup, const Options& options) {
  if (!cgroup || options.log_level > LogLevel::Warn) return;
  for (const std::string& report : cgroup->limit_reports()) {
    std::fprintf(stderr, "awf: %s\n", report.c_str());
  }
}

void write_run_diagnostics(const Options& options, const RunOutputs& outputs,
                           const sandbox::MountPlan& mounts, StderrTail& stderr_tail,
                           const CommandEnd& end, int code) {
  DiagnosticsReport report{outputs.diagnostics_home(),
                           resolved_config_json(options),
                           describe_mounts(mounts),
                           outputs.log().directory(),
                           stderr_tail.finish(),
                           code,
                           end.timed_out,
                           end.interrupted_by};
  if (code != 0) {
    std::fprintf(stderr, "awf: diagnostics in %s\n", write_diagnostics(report).c_str());
  }
}

int report_unrecorded(const audit::LogWriter& log, int code) {
  const std::uint64_t refused = log.refused_unrecorded();
  const std::uint64_t unwritten = log.unwritten_records() + log.dropped_records();
  if (refused > 0) {
    std::fprintf(stderr,
                 "awf: %llu %s refused because the logs could not be written\n",
                 static_cast<unsigned long long>(refused),
                 refused == 1 ? "connection and DNS query was" : "connections and DNS queries were");
  }
  if (unwritten > 0) {
    std::fprintf(stderr, "awf: %llu %s could not be written to %s\n",
                 static_cast<unsigned long long>(unwritten),
                 unwritten == 1 ? "record" : "records", log.directory().c_str());
  }
  return (refused > 0 || unwritten > 0) && code == 0 ? kUnrecordedExitCode : code;
}

void print_summary(const RunOutputs& outputs, int code) {
  const auto denied = outputs.log().denied_names();
  if (code != 0 && !denied.empty()) {
    std::fprintf(stderr, "Firewall blocked domains:\n");
    for (const std::string& name : denied) std::fprintf(stderr, "  - %s\n", name.c_str());
  }
  outputs.print_locations();
}

}  // namespace awf::cli
