// Small builders of log entries for the logs tests.
#pragma once

#include <string>

#include "logs/entry.h"

namespace awf::logs::testing {

inline LogEntry entry(const std::string& kind, const std::string& name, bool allowed,
                      std::int64_t time_ms = 1000, std::uint32_t rule = 0) {
  LogEntry e;
  audit::AuditRecord& r = e.record;
  r.time_ms = time_ms;
  r.kind = kind;
  r.transport = kind == "dns" ? "udp" : kind == "blocked" ? "tcp" : "explicit";
  r.client = "127.0.0.1:4000";
  r.name = name;
  r.decision = allowed ? "allow" : "deny";
  r.reason = allowed ? "allowed by '" + name + "'" : "not in allowlist";
  r.rule = rule;
  if (kind == "connect") r.url = name + ":443";
  if (kind == "http") r.url = "http://" + name + "/";
  if (kind == "blocked") r.url = name + ":22";
  return e;
}

}  // namespace awf::logs::testing
