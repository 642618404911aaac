#include "logs/entry.h"

namespace awf::logs {
namespace {

// "host:port" -> "host" ("[v6]:port" -> "v6"); anything else as is.
std::string host_of_authority(const std::string& authority) {
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    return close == std::string::npos ? authority : authority.substr(1, close - 1);
  }
  const auto colon = authority.rfind(':');
  if (colon == std::string::npos || authority.find(':') != colon) return authority;
  return authority.substr(0, colon);
}

}  // namespace

bool is_allowed(const LogEntry& entry) {
  return entry.record.decision == "allow";
}

bool is_proxy(const LogEntry& entry) {
  const std::string& kind = entry.record.kind;
  return kind == "http" || kind == "connect" || kind == "tls" || kind == "host" || kind == "peer";
}

std::string target_of(const LogEntry& entry) {
  const audit::AuditRecord& r = entry.record;
  if (r.kind == "blocked" && !r.url.empty()) return r.url;
  return r.name;
}

std::string client_text(const std::string& ip, std::uint16_t port) {
  const bool v6 = ip.find(':') != std::string::npos;
  return (v6 ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
}

void UserAgentIndex::add(const audit::AccessRecord& access) {
  if (access.user_agent.empty()) return;
  agents_.emplace(Key{access.time_ms, access.client_ip, access.url}, access.user_agent);
}

std::string UserAgentIndex::take(const audit::AuditRecord& record) {
  const auto it = agents_.find(Key{record.time_ms, host_of_authority(record.client), record.url});
  if (it == agents_.end()) return {};
  std::string agent = std::move(it->second);
  agents_.erase(it);
  return agent;
}

void UserAgentIndex::drop_before(std::int64_t time_ms) {
  agents_.erase(agents_.begin(), agents_.lower_bound(Key{time_ms, "", ""}));
}

std::vector<LogEntry> join_user_agents(std::vector<audit::AuditRecord> records,
                                       const std::vector<audit::AccessRecord>& access) {
  UserAgentIndex index;
  for (const audit::AccessRecord& a : access) index.add(a);
  std::vector<LogEntry> entries;
  entries.reserve(records.size());
  for (audit::AuditRecord& record : records) {
    std::string agent = index.take(record);
    entries.push_back(LogEntry{std::move(record), std::move(agent)});
  }
  return entries;
}

LogEntry entry_from_access(const audit::AccessRecord& access) {
  LogEntry entry;
  audit::AuditRecord& r = entry.record;
  r.time_ms = access.time_ms;
  r.kind = access.method == "CONNECT" ? "connect" : "http";
  r.transport = "explicit";
  r.client = client_text(access.client_ip, access.client_port);
  r.name = host_of_authority(access.method == "CONNECT" ? access.url : access.host);
  if (access.host != r.name) r.host = access.host;
  if (!access.dest_ip.empty()) r.destination = client_text(access.dest_ip, access.dest_port);
  r.decision = audit::squid_code_allows(access.squid_status) ? "allow" : "deny";
  r.reason = access.squid_status + ":" + access.hierarchy;
  r.method = access.method;
  r.url = access.url;
  r.status = access.status;
  entry.user_agent = access.user_agent;
  return entry;
}

}  // namespace awf::logs
