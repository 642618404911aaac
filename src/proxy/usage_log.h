// Usage accounting of the API proxy, the file: <logs>/api-proxy-logs/token-usage.jsonl, one
// line per model response that reported usage (AWF writes none for a non-2xx answer or one
// without usage). Created at the start of the run, empty, as AWF does: gh-aw reads it.
#pragma once

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <string>

#include "common/unique_fd.h"
#include "proxy/api_budget.h"
#include "proxy/usage_record.h"

namespace awf::proxy {

class UsageLog {
 public:
  // Creates `directory` and the file (O_APPEND, `file_mode`, the invoking user's, like the
  // other logs: common/owner.h). Throws SetupError. `budget` prices the records and counts
  // them against the run's budgets.
  UsageLog(const std::string& directory, mode_t file_mode, std::shared_ptr<ApiBudget> budget);

  // Has the budget account `record` (its AI credits, the run's totals) and appends its line
  // in one write(2): lines of concurrent responses never interleave, and their totals grow
  // line by line. A failed write is said once on stderr.
  void write(UsageRecord record);

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  UniqueFd fd_;
  const std::shared_ptr<ApiBudget> budget_;
  std::mutex mutex_;
  bool failed_ = false;  // under mutex_
};

// A fresh request id for the record: a random UUID (version 4), as AWF's.
std::string random_request_id();

}  // namespace awf::proxy
