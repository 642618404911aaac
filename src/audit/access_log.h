// access.log lines in AWF's Squid `firewall_detailed` format, so existing parsers keep working:
//   %ts.%03tu %>a:%>p %{Host}>h %<a:%<p %rv %rm %>Hs %Ss:%Sh %ru "%{User-Agent}>h"
// Pure logic: formatting and parsing only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace awf::audit {

struct AccessRecord {
  std::int64_t time_ms = 0;      // Unix time in milliseconds
  std::string client_ip;         // "172.30.0.20" or "::1" (no brackets)
  std::uint16_t client_port = 0;
  std::string host;              // Host header / CONNECT authority / SNI; "" logs as "-"
  std::string dest_ip;           // upstream address actually used; "" logs as "-:-"
  std::uint16_t dest_port = 0;
  std::string http_version;      // "1.1"; "" logs as "-"
  std::string method;            // "GET", "CONNECT", ...; "" logs as "-"
  int status = 0;                // 200, 403, ...
  std::string squid_status;      // "TCP_TUNNEL", "TCP_MISS", "TCP_DENIED", ...
  std::string hierarchy;         // "HIER_DIRECT", "HIER_NONE"
  std::string url;               // "api.github.com:443" or "http://x/path"; "" logs as "-"
  std::string user_agent;        // "" logs as "-"
};

// One line, without the trailing newline. Every field is sanitized so that a hostile client
// cannot forge or split lines: bytes < 0x21, 0x7f and above, '"' and '%' are percent-encoded
// (user agent keeps plain spaces, since it is quoted).
std::string format_access_line(const AccessRecord& record);

// Parses a line written by format_access_line (for `awf logs` and tests). Percent-encoding is
// left as is. nullopt for a line that does not have the format.
std::optional<AccessRecord> parse_access_line(std::string_view line);

}  // namespace awf::audit
