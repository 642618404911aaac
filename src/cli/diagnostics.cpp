#include "cli/diagnostics.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "common/unique_fd.h"
#include "logs/entry.h"
#include "logs/log_text.h"
#include "logs/stats.h"

namespace awf::cli {
namespace {

// Lines kept from the command's stderr; the buffer is trimmed to them as it grows.
constexpr std::size_t kTailLines = 200;
constexpr std::size_t kTrimAbove = 1 << 20;

void write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // awf's own stderr is gone: the tail is still kept
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) throw errno_error("write " + path);
}

// The gateway's counters as `awf logs stats --format json` shows them.
std::string gateway_counters(const std::string& logs_directory) {
  logs::AuditText audit = logs::parse_audit_text(read_text(logs_directory + "/audit.jsonl"));
  const std::vector<logs::LogEntry> entries = logs::join_user_agents(std::move(audit.records), {});
  return logs::format_stats_json(logs::compute_stats(entries));
}

std::string exit_json(const DiagnosticsReport& report) {
  nlohmann::ordered_json exit = {{"exitCode", report.exit_code},
                                 {"timedOut", report.timed_out},
                                 {"interruptedBy", report.interrupted_by},
                                 {"logsDir", report.logs_directory}};
  return exit.dump(2) + "\n";
}

}  // namespace

struct StderrTail::State {
  UniqueFd read_end;
  UniqueFd write_end;
  std::mutex mutex;
  std::string kept;
  std::thread reader;

  void drain() {
    char buffer[8192];
    for (;;) {
      const ssize_t n = read(read_end.get(), buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      write_all(STDERR_FILENO, buffer, static_cast<std::size_t>(n));
      const std::lock_guard lock(mutex);
      kept.append(buffer, static_cast<std::size_t>(n));
      if (kept.size() > kTrimAbove) kept = last_lines(kept, kTailLines);
    }
  }
};

StderrTail::StderrTail() : state_(std::make_unique<State>()) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) throw errno_error("pipe for the command's stderr");
  state_->read_end.reset(fds[0]);
  state_->write_end.reset(fds[1]);
}

StderrTail::~StderrTail() {
  if (state_->reader.joinable()) {
    state_->write_end.reset();
    state_->reader.join();
  }
}

int StderrTail::write_end() const { return state_->write_end.get(); }

void StderrTail::start_forwarding() {
  state_->write_end.reset();
  state_->reader = std::thread([state = state_.get()] { state->drain(); });
}

std::string StderrTail::finish() {
  state_->write_end.reset();
  if (state_->reader.joinable()) state_->reader.join();
  const std::lock_guard lock(state_->mutex);
  return last_lines(state_->kept, kTailLines);
}

std::string last_lines(const std::string& text, std::size_t max_lines) {
  std::size_t start = text.size();
  if (start > 0 && text.back() == '\n') --start;
  for (std::size_t lines = 0; start > 0; --start) {
    if (text[start - 1] == '\n' && ++lines == max_lines) break;
  }
  return text.substr(start);
}

std::string write_diagnostics(const DiagnosticsReport& report) {
  const std::string dir = report.directory + "/diagnostics";
  if (mkdir(report.directory.c_str(), 0755) < 0 && errno != EEXIST) {
    throw errno_error("create " + report.directory);
  }
  if (mkdir(dir.c_str(), 0700) < 0 && errno != EEXIST) throw errno_error("create " + dir);
  write_text(dir + "/exit.json", exit_json(report));
  write_text(dir + "/config.json", report.config_json);
  write_text(dir + "/mounts.txt", report.mounts_text);
  write_text(dir + "/gateway.json", gateway_counters(report.logs_directory));
  write_text(dir + "/stderr-tail.txt", report.stderr_tail);
  return dir;
}

}  // namespace awf::cli
