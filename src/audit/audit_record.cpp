#include "audit/audit_record.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

namespace awf::audit {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::int64_t kMsPerDay = 86'400'000;

// Days since 1970-01-01 -> proleptic Gregorian date (H. Hinnant's civil_from_days), valid for
// every day count an int64 of milliseconds can produce.
void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) ++y;
}

// Inverse of civil_from_days.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  if (m <= 2) --y;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool leap_year(std::int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return (m == 2 && leap_year(y)) ? 29 : kDays[m - 1];
}

// Decimal, zero-padded to at least `width` digits.
void append_padded(std::string& out, std::uint64_t value, std::size_t width) {
  char digits[20];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  const auto size = static_cast<std::size_t>(end - digits);
  if (size < width) out.append(width - size, '0');
  out.append(digits, size);
}

// "2026-11-28T17:33:22.123Z". Years outside 0000..9999 use the ISO 8601 expanded form with a
// sign and six or more digits, so every int64 value round-trips.
void append_ts(std::string& out, std::int64_t time_ms) {
  std::int64_t days = time_ms / kMsPerDay;
  std::int64_t rem = time_ms % kMsPerDay;
  if (rem < 0) {
    rem += kMsPerDay;
    days -= 1;
  }
  std::int64_t year = 0;
  unsigned month = 0;
  unsigned day = 0;
  civil_from_days(days, year, month, day);
  const auto ms = static_cast<unsigned>(rem % 1000);
  const auto secs = static_cast<unsigned>(rem / 1000);
  if (year >= 0 && year <= 9999) {
    append_padded(out, static_cast<std::uint64_t>(year), 4);
  } else {
    out.push_back(year < 0 ? '-' : '+');
    append_padded(
        out, year < 0 ? 0 - static_cast<std::uint64_t>(year) : static_cast<std::uint64_t>(year), 6);
  }
  out.push_back('-');
  append_padded(out, month, 2);
  out.push_back('-');
  append_padded(out, day, 2);
  out.push_back('T');
  append_padded(out, secs / 3600, 2);
  out.push_back(':');
  append_padded(out, secs / 60 % 60, 2);
  out.push_back(':');
  append_padded(out, secs % 60, 2);
  out.push_back('.');
  append_padded(out, ms, 3);
  out.push_back('Z');
}

// Reads exactly `n` decimal digits.
std::optional<std::int64_t> digits(std::string_view s, std::size_t at, std::size_t n) {
  if (at + n > s.size()) return std::nullopt;
  std::int64_t v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

std::optional<std::int64_t> parse_ts(std::string_view s) {
  std::size_t year_len = 4;
  bool negative = false;
  std::size_t at = 0;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    at = 1;
    const auto dash = s.find('-', 1);
    if (dash == std::string_view::npos) return std::nullopt;
    year_len = dash - 1;
    // Expanded years: at least 6 digits; 15 is beyond any int64 millisecond time.
    if (year_len < 6 || year_len > 15) return std::nullopt;
  }
  const auto year = digits(s, at, year_len);
  at += year_len;
  if (!year || s.size() != at + 20) return std::nullopt;
  const std::string_view rest = s.substr(at);
  if (rest[0] != '-' || rest[3] != '-' || rest[6] != 'T' || rest[9] != ':' || rest[12] != ':' ||
      rest[15] != '.' || rest[19] != 'Z') {
    return std::nullopt;
  }
  const auto month = digits(rest, 1, 2);
  const auto day = digits(rest, 4, 2);
  const auto hour = digits(rest, 7, 2);
  const auto minute = digits(rest, 10, 2);
  const auto second = digits(rest, 13, 2);
  const auto milli = digits(rest, 16, 3);
  if (!month || !day || !hour || !minute || !second || !milli) return std::nullopt;
  const std::int64_t y = negative ? -*year : *year;
  if (*month < 1 || *month > 12) return std::nullopt;
  const auto m = static_cast<unsigned>(*month);
  if (*day < 1 || *day > days_in_month(y, m)) return std::nullopt;
  if (*hour > 23 || *minute > 59 || *second > 59) return std::nullopt;
  const __int128 total =
      static_cast<__int128>(days_from_civil(y, m, static_cast<unsigned>(*day))) * kMsPerDay +
      ((*hour * 60 + *minute) * 60 + *second) * 1000 + *milli;
  if (total < std::numeric_limits<std::int64_t>::min() ||
      total > std::numeric_limits<std::int64_t>::max()) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(total);
}

bool get_string(const Json& j, const char* key, std::string& out, bool required) {
  const auto it = j.find(key);
  if (it == j.end()) return !required;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

bool get_uint(const Json& j, const char* key, std::uint64_t& out) {
  const auto it = j.find(key);
  if (it == j.end()) return true;
  if (!it->is_number_unsigned()) return false;
  out = it->get<std::uint64_t>();
  return true;
}

bool get_int(const Json& j, const char* key, int& out) {
  const auto it = j.find(key);
  if (it == j.end()) return true;
  if (!it->is_number_integer()) return false;
  if (it->is_number_unsigned()) {
    const auto v = it->get<std::uint64_t>();
    if (v > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) return false;
    out = static_cast<int>(v);
  } else {
    const auto v = it->get<std::int64_t>();
    if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) return false;
    out = static_cast<int>(v);
  }
  return true;
}

// A JSON string. Printable ASCII other than '"' and '\\' (nearly every value) is copied as
// is; anything else is escaped by nlohmann's serializer: ASCII-only output, so control bytes,
// line separators and bidi overrides in hostile names are \\u-escaped, and invalid UTF-8
// becomes U+FFFD instead of throwing.
void append_string(std::string& out, std::string_view value) {
  const bool plain = std::all_of(value.begin(), value.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
  });
  if (plain) {
    out += '"';
    out += value;
    out += '"';
    return;
  }
  out += Json(std::string(value)).dump(-1, ' ', true, Json::error_handler_t::replace);
}

void append_member(std::string& out, std::string_view key, std::string_view value) {
  out += ",\"";
  out += key;
  out += "\":";
  append_string(out, value);
}

template <typename Int>
void append_number(std::string& out, std::string_view key, Int value) {
  char digits[24];
  const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
  out += ",\"";
  out += key;
  out += "\":";
  out.append(digits, end);
}

// A string key written "-" when empty (AWF's keys are always present, Squid style).
void append_dash_member(std::string& out, std::string_view key, std::string_view value) {
  append_member(out, key, value.empty() ? std::string_view("-") : value);
}

// An optional string key read back: "-" and absent are "".
bool get_dash_string(const Json& j, const char* key, std::string& out) {
  if (!get_string(j, key, out, false)) return false;
  if (out == "-") out.clear();
  return true;
}

// "timestamp" (ISO-8601), else "ts": an earlier awf's ISO-8601 string or AWF's legacy Unix
// seconds with a fraction.
std::optional<std::int64_t> record_time(const Json& j) {
  auto it = j.find("timestamp");
  if (it == j.end()) it = j.find("ts");
  if (it == j.end()) return std::nullopt;
  if (it->is_string()) return parse_ts(it->get_ref<const std::string&>());
  if (!it->is_number()) return std::nullopt;
  const double ms = std::round(it->get<double>() * 1000.0);
  // Well inside int64 (and exact in a double): AWF never wrote anything near it.
  if (!(ms > -9.0e15 && ms < 9.0e15)) return std::nullopt;
  return static_cast<std::int64_t>(ms);
}

// "dest" ("-:-" when none), else an earlier awf's "destination" (null when none).
bool get_destination(const Json& j, std::string& out) {
  if (j.contains("dest")) {
    if (!get_string(j, "dest", out, true)) return false;
  } else if (const auto it = j.find("destination"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) return false;
    out = it->get<std::string>();
  }
  if (out == "-:-" || out == "-") out.clear();
  return true;
}

// "host:port" -> "host", "[v6]:port" -> "v6"; a bare IPv6 address as is.
std::string_view strip_port(std::string_view authority) {
  if (authority.starts_with('[')) {
    const auto close = authority.find(']');
    return close == std::string_view::npos ? authority : authority.substr(1, close - 1);
  }
  const auto colon = authority.rfind(':');
  if (colon == std::string_view::npos || authority.find(':') != colon) return authority;
  return authority.substr(0, colon);
}

// The name an AWF record is about, as AWF's log parser finds it: a CONNECT's authority, else
// the Host header, else the URL's host.
std::string domain_of(std::string_view method, std::string_view url, std::string_view host) {
  if (method == "CONNECT" && !url.empty()) return std::string(strip_port(url));
  if (!host.empty()) return std::string(strip_port(host));
  if (const auto scheme = url.find("://"); scheme != std::string_view::npos) {
    url.remove_prefix(scheme + 3);
  }
  return std::string(strip_port(url.substr(0, url.find_first_of("/?#"))));
}

}  // namespace

std::string_view squid_code(std::string_view kind, bool allowed) {
  if (!allowed) return "TCP_DENIED";
  if (kind == "http" || kind == "api" || kind == "dns") return "TCP_MISS";
  return "TCP_TUNNEL";
}

std::string format_timestamp(std::int64_t time_ms) {
  std::string out;
  append_ts(out, time_ms);
  return out;
}

bool squid_code_allows(std::string_view code) {
  return !code.starts_with("TCP_DENIED") && !code.starts_with("NONE");
}

std::string_view event_of(std::string_view kind) {
  if (kind == "dns") return "dns_query";
  if (kind == "blocked" || kind == "unix") return "blocked_attempt";
  return "http_access";
}

std::string to_json_line(const AuditRecord& r) {
  // Written by hand, not through a JSON object: one record per request is on the gateway's
  // hot path, and building a tree of nodes for it cost more than the rest of the record.
  std::string out;
  // One allocation: keys, numbers and quotes take at most 448 bytes, the strings their size
  // (escapes aside).
  out.reserve(448 + r.kind.size() + r.transport.size() + r.client.size() + r.name.size() +
              r.host.size() + r.destination.size() + r.decision.size() + r.reason.size() +
              r.method.size() + r.url.size() + r.qtype.size() + r.rcode.size() +
              r.command.size() + r.provider.size());
  out += "{\"_schema\":\"";
  out += kAuditSchema;
  out += "\",\"timestamp\":\"";
  append_ts(out, r.time_ms);
  out += "\",\"event\":\"";
  out += event_of(r.kind);
  out += '"';
  append_member(out, "client", r.client);
  append_dash_member(out, "host", r.host.empty() ? r.name : r.host);
  if (r.destination.empty()) {
    out += ",\"dest\":\"-:-\"";
  } else {
    append_member(out, "dest", r.destination);
  }
  append_dash_member(out, "method", r.method);
  append_number(out, "status", r.status);
  out += ",\"decision\":\"";
  out += squid_code(r.kind, r.decision == "allow");
  out += '"';
  append_dash_member(out, "url", r.url);
  append_member(out, "kind", r.kind);
  append_member(out, "transport", r.transport);
  append_member(out, "name", r.name);
  append_member(out, "action", r.decision);
  append_member(out, "reason", r.reason);
  if (!r.qtype.empty()) append_member(out, "qtype", r.qtype);
  if (!r.rcode.empty()) append_member(out, "rcode", r.rcode);
  if (r.repeat) out += ",\"repeat\":true";
  if (r.bytes_up != 0) append_number(out, "bytes_up", r.bytes_up);
  if (r.bytes_down != 0) append_number(out, "bytes_down", r.bytes_down);
  if (r.rule != 0) append_number(out, "rule", r.rule);
  if (r.pid != 0) append_number(out, "pid", r.pid);
  if (!r.command.empty()) append_member(out, "command", r.command);
  if (!r.provider.empty()) append_member(out, "provider", r.provider);
  if (r.duration_ms) append_number(out, "duration_ms", *r.duration_ms);
  out += '}';
  return out;
}

std::optional<AuditRecord> parse_json_line(std::string_view line) {
  const Json j = Json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  AuditRecord r;
  const auto time = record_time(j);
  if (!time) return std::nullopt;
  r.time_ms = *time;
  std::string code;  // AWF's Squid code, or an earlier awf's "allow"/"deny"
  if (!get_string(j, "decision", code, true) || !get_string(j, "client", r.client, true) ||
      !get_dash_string(j, "method", r.method) || !get_dash_string(j, "url", r.url) ||
      !get_dash_string(j, "host", r.host) || !get_destination(j, r.destination)) {
    return std::nullopt;
  }
  const bool earlier_awf = code == "allow" || code == "deny";
  if (!get_string(j, "action", r.decision, false)) return std::nullopt;
  if (!j.contains("action"))
    r.decision = earlier_awf ? code : squid_code_allows(code) ? "allow" : "deny";
  r.kind = r.method == "CONNECT" ? "connect" : "http";
  r.transport = "explicit";
  r.reason = earlier_awf ? std::string() : code;
  if (!get_string(j, "kind", r.kind, false) || !get_string(j, "transport", r.transport, false) ||
      !get_string(j, "reason", r.reason, false) || !get_string(j, "name", r.name, false)) {
    return std::nullopt;
  }
  if (!j.contains("name")) r.name = domain_of(r.method, r.url, r.host);
  if (r.host == r.name) r.host.clear();
  if (!get_int(j, "status", r.status) || !get_string(j, "qtype", r.qtype, false) ||
      !get_string(j, "rcode", r.rcode, false) || !get_uint(j, "bytes_up", r.bytes_up) ||
      !get_uint(j, "bytes_down", r.bytes_down) || !get_int(j, "pid", r.pid) ||
      !get_string(j, "command", r.command, false) ||
      !get_string(j, "provider", r.provider, false)) {
    return std::nullopt;
  }
  std::uint64_t rule = 0;
  if (!get_uint(j, "rule", rule) || rule > std::numeric_limits<std::uint32_t>::max()) {
    return std::nullopt;
  }
  if (j.contains("repeat")) {
    if (!j["repeat"].is_boolean()) return std::nullopt;
    r.repeat = j["repeat"].get<bool>();
  }
  if (j.contains("duration_ms")) {
    std::uint64_t duration = 0;
    if (!get_uint(j, "duration_ms", duration)) return std::nullopt;
    r.duration_ms = duration;
  }
  r.rule = static_cast<std::uint32_t>(rule);
  return r;
}

}  // namespace awf::audit
