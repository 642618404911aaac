// Writes access.log and audit.jsonl. Records are buffered in memory and written by flush()
// (awf calls it on a short timer and before it exits), so a request costs one append to a
// buffer, not a system call.
//
// No traffic without a record: when a write fails (a full disk, an I/O error) the unwritten
// records are kept and tried again at every flush, and recording() is false until all of them
// are written; the gateway and the DNS server refuse new connections and queries meanwhile.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
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

  // Writes what is buffered, and what an earlier flush could not. Says once on stderr when the
  // logs stop being writable, and once when they are again.
  void flush();

  bool recording() const { return recording_.load(std::memory_order_relaxed); }
  // A connection or query refused because !recording().
  void note_refused_unrecorded() { refused_unrecorded_.fetch_add(1, std::memory_order_relaxed); }
  std::uint64_t refused_unrecorded() const { return refused_unrecorded_.load(); }
  // Records (audit.jsonl lines, which cover every decision) that could not be written as of the
  // last flush (kept for the next one), and those given up on when more than
  // kMaxUnwrittenBytes waited.
  std::uint64_t unwritten_records() const;
  std::uint64_t dropped_records() const;
  // What is kept for a later write before new records are dropped (counted).
  static constexpr std::size_t kMaxUnwrittenBytes = 16 << 20;
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
  mutable std::mutex flush_mutex_;
  std::string access_writing_;
  std::string audit_writing_;
  std::atomic<bool> recording_{true};
  std::atomic<std::uint64_t> refused_unrecorded_{0};
  std::uint64_t dropped_ = 0;  // under flush_mutex_
  std::string write_error_;    // the last failed write's errno text; under flush_mutex_
};

// Milliseconds since the Unix epoch, for record timestamps.
std::int64_t now_ms();

}  // namespace awf::audit
