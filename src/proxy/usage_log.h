// Usage accounting of the API proxy, the file: <logs>/api-proxy-logs/token-usage.jsonl, one
// line per model response that reported usage (AWF writes none for a non-2xx answer or one
// without usage). Created at the start of the run, empty, as AWF does: gh-aw reads it.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <string>

#include "common/unique_fd.h"
#include "proxy/usage_record.h"

namespace awf::proxy {

class UsageLog {
 public:
  // Creates `directory` and the file (O_APPEND, `file_mode`, the invoking user's, like the
  // other logs: common/owner.h). Throws SetupError.
  UsageLog(const std::string& directory, mode_t file_mode, PricingConfig pricing);

  // Prices `record` (adding to the run's total) and appends its line in one write(2): lines
  // of concurrent responses never interleave. A failed write is said once on stderr.
  void write(UsageRecord record);

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  UniqueFd fd_;
  const PricingConfig pricing_;
  std::mutex mutex_;
  double credits_total_ = 0;  // under mutex_
  bool failed_ = false;       // under mutex_
};

// A fresh request id for the record: a random UUID (version 4), as AWF's.
std::string random_request_id();

}  // namespace awf::proxy
