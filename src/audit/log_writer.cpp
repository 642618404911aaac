#include "audit/log_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "common/error.h"
#include "common/owner.h"

namespace awf::audit {
namespace {

// Created ones belong to the invoking user (common/owner.h).
UniqueFd open_log(const std::string& path, mode_t mode) {
  return open_output_file(path, O_WRONLY | O_APPEND, mode);
}

// Writes as much of `buffer` as the file takes and removes that from it; 0, or the errno of
// the write that failed (what is left stays in `buffer`, possibly from mid-line: the next
// write continues the line).
int write_some(int fd, std::string& buffer) {
  std::size_t done = 0;
  int error = 0;
  while (done < buffer.size()) {
    const ssize_t n = write(fd, buffer.data() + done, buffer.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = n < 0 ? errno : ENOSPC;
      break;
    }
    done += static_cast<std::size_t>(n);
  }
  buffer.erase(0, done);
  return error;
}

std::uint64_t count_lines(const std::string& text) {
  return static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n'));
}

// Appends the new records to those still waiting, unless too much is waiting: then the new
// ones are given up on (and counted) rather than holding unbounded memory.
void queue(std::string& waiting, std::string& fresh, std::uint64_t& dropped) {
  if (waiting.empty()) {
    waiting.swap(fresh);
  } else if (waiting.size() + fresh.size() <= LogWriter::kMaxUnwrittenBytes) {
    waiting += fresh;
  } else {
    dropped += count_lines(fresh);
  }
  fresh.clear();
}

}  // namespace

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

LogWriter::LogWriter(const std::string& directory, mode_t file_mode) : directory_(directory) {
  make_output_dirs(directory_);
  access_fd_ = open_log(directory_ + "/access.log", file_mode);
  audit_fd_ = open_log(directory_ + "/audit.jsonl", file_mode);
}

void LogWriter::write_access(const AccessRecord& record) {
  std::string line = format_access_line(record);
  line += '\n';
  std::lock_guard lock(mutex_);
  access_buffer_ += line;
}

void LogWriter::write_audit(const AuditRecord& record) {
  std::string line = to_json_line(record);
  line += '\n';
  std::lock_guard lock(mutex_);
  audit_buffer_ += line;
}

void LogWriter::note_denied(const std::string& name) {
  if (name.empty()) return;
  std::lock_guard lock(mutex_);
  if (denied_.size() < 1000) denied_.insert(name);
}

void LogWriter::flush() {
  // Writing a quarter second of records under the workers' lock stalled every request for
  // as long as the write took (milliseconds under load): the tail latency of the gateway.
  std::lock_guard flushing(flush_mutex_);
  {
    std::lock_guard lock(mutex_);
    std::uint64_t dropped_access = 0;  // the same requests as audit.jsonl's: counted there
    queue(access_writing_, access_buffer_, dropped_access);
    queue(audit_writing_, audit_buffer_, dropped_);
  }
  int error = write_some(audit_fd_.get(), audit_writing_);
  if (const int access_error = write_some(access_fd_.get(), access_writing_); error == 0) {
    error = access_error;
  }
  const bool was_recording = recording_.load();
  if (error != 0 && was_recording) {
    write_error_ = std::strerror(error);
    std::fprintf(stderr,
                 "awf: error: cannot write the logs in %s (%s): new connections and DNS queries "
                 "are refused until they can be written\n",
                 directory_.c_str(), write_error_.c_str());
  } else if (error == 0 && !was_recording) {
    std::fprintf(stderr, "awf: the logs in %s can be written again: connections and DNS queries "
                         "are accepted again\n", directory_.c_str());
  }
  recording_.store(error == 0);
}

std::uint64_t LogWriter::unwritten_records() const {
  std::lock_guard flushing(flush_mutex_);
  return count_lines(audit_writing_);  // audit.jsonl has every record
}

std::uint64_t LogWriter::dropped_records() const {
  std::lock_guard flushing(flush_mutex_);
  return dropped_;
}

std::set<std::string> LogWriter::denied_names() const {
  std::lock_guard lock(mutex_);
  return denied_;
}

}  // namespace awf::audit
