#include "cli/log_follow.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <thread>
#include <vector>

#include "audit/access_log.h"
#include "audit/audit_record.h"
#include "cli/log_files.h"
#include "logs/log_text.h"

namespace awf::cli {
namespace {

using logs::LogEntry;

constexpr auto kFollowInterval = std::chrono::milliseconds(200);
// A followed access.log line waits this long for its audit.jsonl record.
constexpr std::int64_t kUserAgentWindowMs = 60'000;

volatile std::sig_atomic_t g_stop = 0;

void request_stop(int) {
  g_stop = 1;
}

bool is_blank(const std::string& line) {
  return line.find_first_not_of(" \t\r") == std::string::npos;
}

// Reads what was appended to a file since the last poll; a file that shrank (truncated or
// replaced) is read again from the start.
class Follower {
 public:
  explicit Follower(std::string path) : path_(std::move(path)) {}

  std::vector<std::string> poll() {
    struct stat st {};
    if (stat(path_.c_str(), &st) != 0) return {};
    if (st.st_size < offset_) {
      offset_ = 0;
      splitter_ = logs::LineSplitter();
    }
    const int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    std::vector<std::string> lines;
    char buffer[65536];
    ssize_t n = 0;
    while ((n = pread(fd, buffer, sizeof buffer, offset_)) > 0) {
      offset_ += n;
      for (std::string& line : splitter_.feed({buffer, static_cast<std::size_t>(n)})) {
        lines.push_back(std::move(line));
      }
    }
    close(fd);
    return lines;
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  off_t offset_ = 0;
  logs::LineSplitter splitter_;
};

// Follows audit.jsonl (with user agents from access.log), or access.log alone when there is
// no audit.jsonl. Complete lines only: a half-written last line waits for the rest.
class EntryFollower {
 public:
  explicit EntryFollower(const std::string& dir)
      : audit_(dir + "/audit.jsonl"), access_(dir + "/access.log") {
    struct stat st {};
    access_only_ = stat(audit_.path().c_str(), &st) != 0;
  }

  void poll(const Printer& print) {
    for (const std::string& line : access_.poll()) {
      if (is_blank(line)) continue;
      const auto access = take(audit::parse_access_line(line), access_counts_);
      if (!access) continue;
      if (access_only_) {
        print(logs::entry_from_access(*access));
      } else {
        agents_.add(*access);
      }
    }
    if (access_only_) return;
    for (const std::string& line : audit_.poll()) {
      if (is_blank(line)) continue;
      auto record = take(audit::parse_json_line(line), audit_counts_);
      if (!record) continue;
      std::string agent = agents_.take(*record);
      agents_.drop_before(record->time_ms - kUserAgentWindowMs);
      print(LogEntry{std::move(*record), std::move(agent)});
    }
  }

  void check() const {
    if (!access_only_) check_counts(audit_.path(), audit_counts_);
    check_counts(access_.path(), access_counts_);
  }

 private:
  template <typename Record>
  static std::optional<Record> take(std::optional<Record> record, logs::LineCounts& counts) {
    if (record) {
      ++counts.valid;
    } else {
      ++counts.malformed;
    }
    return record;
  }

  Follower audit_;
  Follower access_;
  bool access_only_ = false;
  logs::UserAgentIndex agents_;
  logs::LineCounts audit_counts_;
  logs::LineCounts access_counts_;
};

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

// Calls `poll` now and every kFollowInterval until SIGINT or SIGTERM; `check` after the
// first poll rejects a file that is not a log at all.
template <typename Poll, typename Check>
int follow(Poll poll, Check check) {
  install_stop_handlers();
  poll();
  check();
  std::fflush(stdout);
  while (g_stop == 0) {
    std::this_thread::sleep_for(kFollowInterval);
    poll();
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

int follow_raw(const std::string& dir) {
  Follower access(dir + "/access.log");
  logs::LineCounts counts;
  return follow(
      [&] {
        for (const std::string& line : access.poll()) {
          if (is_blank(line)) continue;
          if (!audit::parse_access_line(line)) {
            ++counts.malformed;
            continue;
          }
          ++counts.valid;
          std::printf("%s\n", line.c_str());
        }
      },
      [&] { check_counts(access.path(), counts); });
}

int follow_entries(const std::string& dir, const Printer& print) {
  EntryFollower follower(dir);
  return follow([&] { follower.poll(print); }, [&] { follower.check(); });
}

}  // namespace awf::cli
