// Writes access.log and audit.jsonl. Records are buffered in memory and written by flush()
// (awf calls it on a short timer and before it exits), so a request costs one append to a
// buffer, not a system call.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <set>
#include <string>

#include "audit/access_log.h"
#include "audit/audit_record.h"
#include "common/unique_fd.h"

namespace awf::audit {

class LogWriter {
 public:
  // Creates `directory` (mode 0755, parents included) and opens both files for appending,
  // creating them with `file_mode`; what it creates belongs to the invoking user
  // (common/owner.h). Throws SetupError.
  explicit LogWriter(const std::string& directory, mode_t file_mode = 0644);

  void write_access(const AccessRecord& record);
  void write_audit(const AuditRecord& record);
  // Remembers a denied name for the exit summary ("Firewall blocked domains:").
  void note_denied(const std::string& name);

  void flush();
  std::set<std::string> denied_names() const;
  const std::string& directory() const { return directory_; }

 private:
  std::string directory_;
  UniqueFd access_fd_;
  UniqueFd audit_fd_;
  mutable std::mutex mutex_;  // the buffers records are appended to, and the denied names
  std::string access_buffer_;
  std::string audit_buffer_;
  std::set<std::string> denied_;
  // flush() trades the buffers for these (empty, their capacity kept) and writes them out
  // holding only this lock: the gateway's workers keep appending while the disk is busy.
  std::mutex flush_mutex_;
  std::string access_writing_;
  std::string audit_writing_;
};

// Milliseconds since the Unix epoch, for record timestamps.
std::int64_t now_ms();

}  // namespace awf::audit
