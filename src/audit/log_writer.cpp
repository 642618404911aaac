#include "audit/log_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "common/error.h"
#include "common/owner.h"

namespace awf::audit {
namespace {

// Created ones belong to the invoking user (common/owner.h).
UniqueFd open_log(const std::string& path, mode_t mode) {
  return open_output_file(path, O_WRONLY | O_APPEND, mode);
}

void write_all(int fd, std::string& buffer) {
  std::size_t done = 0;
  while (done < buffer.size()) {
    const ssize_t n = write(fd, buffer.data() + done, buffer.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // a full disk must not stop the gateway; the loss is bounded to this batch
    }
    done += static_cast<std::size_t>(n);
  }
  buffer.clear();
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
    access_writing_.swap(access_buffer_);
    audit_writing_.swap(audit_buffer_);
  }
  write_all(access_fd_.get(), access_writing_);
  write_all(audit_fd_.get(), audit_writing_);
}

std::set<std::string> LogWriter::denied_names() const {
  std::lock_guard lock(mutex_);
  return denied_;
}

}  // namespace awf::audit
