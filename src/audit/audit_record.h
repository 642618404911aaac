// audit.jsonl: one JSON object per decision (proxy requests, DNS queries, blocked attempts).
// Pure logic: building and parsing records. The schema is documented in docs/logs.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace awf::audit {

struct AuditRecord {
  std::int64_t time_ms = 0;   // written as "ts": ISO-8601 UTC with milliseconds
  std::string kind;           // "http", "connect", "tls", "host", "api", "peer", "dns", "blocked"
  std::string transport;      // "explicit", "transparent", "api-proxy", "udp", "tcp"
  std::string client;         // "ip:port" ("[v6]:port")
  std::string name;           // requested name (normalized when valid, else as sent)
  std::string destination;    // "ip:port" awf connected to; "" -> null
  std::string decision;       // "allow" or "deny"
  std::string reason;         // why
  // Optional details ("" / 0 omit the key):
  std::string method;         // HTTP method
  std::string url;            // HTTP URL or CONNECT authority
  int status = 0;             // HTTP status sent to the client
  std::string qtype;          // DNS: "A", "AAAA", ...
  std::string rcode;          // DNS: "NOERROR", "REFUSED", ...
  std::uint64_t bytes_up = 0;    // client -> origin
  std::uint64_t bytes_down = 0;  // origin -> client
  std::uint32_t rule = 0;        // id of the policy rule that decided (policy-manifest.json)
  int pid = 0;                   // the process in the sandbox that made it (host pid numbering)
  std::string command;           // that process's command name (comm)
  std::string provider;          // kind "api": the LLM provider ("openai", ...)
  // HTTP requests (http, api, intercept): from the complete request head to the end of the
  // answer, in milliseconds (absent for other records).
  std::optional<std::uint64_t> duration_ms;
};

// One line of JSON, without the trailing newline. Strings are JSON-escaped (invalid UTF-8
// replaced), so a hostile name cannot split or forge a line.
std::string to_json_line(const AuditRecord& record);

// Parses a line written by to_json_line. nullopt for anything else.
std::optional<AuditRecord> parse_json_line(std::string_view line);

}  // namespace awf::audit
