// Log files as text: lines split as they arrive, records parsed, bad lines counted.
// A last line without its newline may still be being written: it is kept apart, never counted
// as malformed.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "audit/access_log.h"
#include "audit/audit_record.h"

namespace awf::logs {

// Splits text that arrives in chunks (a file that grows) into complete lines.
class LineSplitter {
 public:
  // The lines completed by `chunk`, without their '\n'.
  std::vector<std::string> feed(std::string_view chunk);
  // The unterminated tail seen so far.
  const std::string& pending() const { return pending_; }

 private:
  std::string pending_;
};

struct LineCounts {
  std::size_t valid = 0;
  std::size_t malformed = 0;    // non-blank complete lines that did not parse
  bool truncated_tail = false;  // an unterminated last line that did not parse (yet)
};

// A file with lines but not one record in it is not a log of that kind.
bool is_garbage(const LineCounts& counts);

struct AuditText {
  std::vector<audit::AuditRecord> records;
  LineCounts counts;
};

struct AccessText {
  std::vector<audit::AccessRecord> records;
  std::vector<std::string> lines;  // each record's line as written, for --format raw
  LineCounts counts;
};

AuditText parse_audit_text(std::string_view text);
AccessText parse_access_text(std::string_view text);

}  // namespace awf::logs
