// One logged decision as `awf logs` shows it: the audit.jsonl record (it has every decision:
// proxy requests, DNS answers and refusals, blocked attempts, with pid and rule), plus the user
// agent, which only access.log has.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "audit/access_log.h"
#include "audit/audit_record.h"

namespace awf::logs {

struct LogEntry {
  audit::AuditRecord record;
  std::string user_agent;  // "" when unknown
};

bool is_allowed(const LogEntry& entry);
// A proxy request (plain HTTP, CONNECT, transparent TLS), as opposed to DNS or blocked.
bool is_proxy(const LogEntry& entry);
// The name the entry is about: the requested name; for a blocked attempt, the address:port
// that was tried.
std::string target_of(const LogEntry& entry);

// access.log's "ip" and port as audit.jsonl writes them: "ip:port", "[v6]:port".
std::string client_text(const std::string& ip, std::uint16_t port);

// awf writes a request's access.log line and its audit.jsonl record with the same time, client
// and URL: that triple finds a record's user agent. The client's address only: AWF's
// audit.jsonl has no port.
class UserAgentIndex {
 public:
  void add(const audit::AccessRecord& access);
  // The user agent of the matching access line ("" when none); each line matches once.
  std::string take(const audit::AuditRecord& record);
  // Forgets lines older than `time_ms` (a follower's bound on memory).
  void drop_before(std::int64_t time_ms);

 private:
  using Key = std::tuple<std::int64_t, std::string, std::string>;
  std::multimap<Key, std::string> agents_;
};

std::vector<LogEntry> join_user_agents(std::vector<audit::AuditRecord> records,
                                       const std::vector<audit::AccessRecord>& access);

// For a directory holding access.log only (e.g. AWF's Squid logs): the entry its line implies.
LogEntry entry_from_access(const audit::AccessRecord& access);

}  // namespace awf::logs
