// audit.jsonl: one JSON object per decision (proxy requests, DNS queries, blocked attempts), in
// AWF's audit schema (gh-aw-firewall schemas/audit.schema.json: _schema, timestamp, event,
// client, host, dest, method, status, decision, url) with awf's own keys after them.
// Pure logic: building and parsing records. The format is documented in docs/logs.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace awf::audit {

// "_schema" of every record: AWF's audit schema at the AWF interface version awf follows.
inline constexpr std::string_view kAuditSchema = "audit/v0.28.0";

struct AuditRecord {
  std::int64_t time_ms = 0;   // written as "timestamp": ISO-8601 UTC with milliseconds
  std::string kind;           // "http", "connect", "tls", "host", "api", "peer", "dns", "blocked"
  std::string transport;      // "explicit", "transparent", "api-proxy", "udp", "tcp"
  std::string client;         // "ip:port" ("[v6]:port")
  std::string name;           // requested name (normalized when valid, else as sent)
  // access.log's host field (Host header, CONNECT authority, SNI:port); "" means the same as
  // `name` (DNS, blocked attempts).
  std::string host;
  std::string destination;    // "ip:port" awf connected to, written as "dest"; "" -> "-:-"
  // "allow" or "deny", written as "action": AWF's "decision" key holds the Squid result code,
  // squid_code(kind, decision == "allow").
  std::string decision;
  std::string reason;         // why
  // Always written (AWF's keys); "" is written "-", 0 as 0:
  std::string method;         // HTTP method
  std::string url;            // HTTP URL or CONNECT authority
  int status = 0;             // HTTP status sent to the client
  // Optional details ("" / 0 omit the key):
  std::string qtype;          // DNS: "A", "AAAA", ...
  std::string rcode;          // DNS: "NOERROR", "REFUSED", ...
  // DNS: a denied query repeating one denied moments before for the same name and process (the
  // A and AAAA of one lookup, a resolver's retries): kept here, counted once in reports and
  // access.log. Written only when true.
  bool repeat = false;
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

// The Squid result code AWF logs for a decision (access.log's %Ss and audit.jsonl's "decision"):
// TCP_DENIED when denied; TCP_MISS for a forwarded request (plain HTTP, the API proxy) and an
// allowed DNS query; TCP_TUNNEL for a relayed connection (CONNECT, TLS, host access, intercept).
// gh-aw counts anything but TCP_DENIED/NONE as allowed, so an allowed DNS query must not be NONE.
std::string_view squid_code(std::string_view kind, bool allowed);

// AWF's reading of a Squid code: TCP_DENIED (and NONE, a request that never got an answer) is
// a denial; every other code is a request that was let through.
bool squid_code_allows(std::string_view code);

// AWF's "event": "http_access" for proxy decisions (AWF's only event), "dns_query" for DNS and
// "blocked_attempt" for a connection to a port nothing listens on (docs/logs.md says why).
std::string_view event_of(std::string_view kind);

// "2026-11-28T17:33:22.123Z": the records' "timestamp" (and the manifest's "generatedAt").
std::string format_timestamp(std::int64_t time_ms);

// One line of JSON, without the trailing newline. Strings are JSON-escaped (invalid UTF-8
// replaced), so a hostile name cannot split or forge a line.
std::string to_json_line(const AuditRecord& record);

// Parses a line written by to_json_line, by an earlier awf ("ts", "destination",
// "decision":"allow|deny") or by AWF itself (its schema's keys only, or its legacy numeric "ts"):
// keys AWF lacks are derived (kind from the method, name from url/host, the allow/deny action
// from the Squid code, which becomes the reason). nullopt for anything else.
std::optional<AuditRecord> parse_json_line(std::string_view line);

}  // namespace awf::audit
