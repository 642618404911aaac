#include "audit/access_log.h"

#include <charconv>
#include <limits>
#include <vector>

namespace awf::audit {
namespace {

constexpr char kHex[] = "0123456789ABCDEF";

enum class Field {
  Plain,      // one space-separated token
  Quoted,     // inside the user agent's quotes: plain spaces are kept
  StatusTag,  // one half of "%Ss:%Sh": ':' is encoded as well
};

void encode_byte(std::string& out, unsigned char c) {
  out.push_back('%');
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 0x0f]);
}

bool needs_encoding(unsigned char c, Field field) {
  if (c == ' ') return field != Field::Quoted;
  if (c < 0x21 || c >= 0x7f || c == '"' || c == '%') return true;
  return field == Field::StatusTag && c == ':';
}

// "" logs as "-"; a value that is literally "-" is encoded so that it does not read back as
// empty.
void append_field(std::string& out, std::string_view value, Field field = Field::Plain) {
  if (value.empty()) {
    out.push_back('-');
    return;
  }
  if (value == "-") {
    encode_byte(out, '-');
    return;
  }
  // Runs of bytes that need no encoding (usually the whole value) are appended at once.
  std::size_t run = 0;
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    if (!needs_encoding(c, field)) continue;
    out.append(value.data() + run, i - run);
    encode_byte(out, c);
    run = i + 1;
  }
  out.append(value.data() + run, value.size() - run);
}

std::string field_value(std::string_view token) {
  if (token == "-") return {};
  return std::string(token);
}

template <typename Int>
std::optional<Int> parse_int(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (text.front() == '+') return std::nullopt;
  Int value{};
  const auto* first = text.data();
  const auto* last = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(first, last, value);
  if (ec != std::errc{} || ptr != last) return std::nullopt;
  return value;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.front() == '-') return std::nullopt;
  return parse_int<std::uint16_t>(text);
}

// "%ts.%03tu": seconds (floor, may be negative), a dot, exactly three digits.
std::optional<std::int64_t> parse_time(std::string_view text) {
  const auto dot = text.find('.');
  if (dot == std::string_view::npos || text.size() - dot - 1 != 3) return std::nullopt;
  const auto secs = parse_int<std::int64_t>(text.substr(0, dot));
  const auto frac_text = text.substr(dot + 1);
  if (!secs || frac_text.front() == '-') return std::nullopt;
  const auto frac = parse_int<std::int64_t>(frac_text);
  if (!frac) return std::nullopt;
  // The floor-divided seconds of INT64_MIN times 1000 do not fit in 64 bits on their own.
  const __int128 ms = static_cast<__int128>(*secs) * 1000 + *frac;
  if (ms < std::numeric_limits<std::int64_t>::min() ||
      ms > std::numeric_limits<std::int64_t>::max()) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(ms);
}

// "ip:port", split on the last ':' (IPv6 addresses are written without brackets).
bool parse_endpoint(std::string_view text, std::string& ip, std::uint16_t& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  const auto p = parse_port(text.substr(colon + 1));
  if (!p) return false;
  ip = field_value(text.substr(0, colon));
  port = *p;
  return true;
}

}  // namespace

std::string format_access_line(const AccessRecord& r) {
  std::string out;
  out.reserve(160 + r.host.size() + r.url.size() + r.user_agent.size());
  // Floor division so that negative times still read back to the same value.
  std::int64_t secs = r.time_ms / 1000;
  std::int64_t frac = r.time_ms % 1000;
  if (frac < 0) {
    frac += 1000;
    secs -= 1;
  }
  out += std::to_string(secs);
  out.push_back('.');
  out.push_back(static_cast<char>('0' + frac / 100));
  out.push_back(static_cast<char>('0' + frac / 10 % 10));
  out.push_back(static_cast<char>('0' + frac % 10));
  out.push_back(' ');
  append_field(out, r.client_ip);
  out.push_back(':');
  out += std::to_string(r.client_port);
  out.push_back(' ');
  append_field(out, r.host);
  out.push_back(' ');
  if (r.dest_ip.empty()) {
    out += "-:-";
  } else {
    append_field(out, r.dest_ip);
    out.push_back(':');
    out += std::to_string(r.dest_port);
  }
  out.push_back(' ');
  append_field(out, r.http_version);
  out.push_back(' ');
  append_field(out, r.method);
  out.push_back(' ');
  out += std::to_string(r.status);
  out.push_back(' ');
  append_field(out, r.squid_status, Field::StatusTag);
  out.push_back(':');
  append_field(out, r.hierarchy, Field::StatusTag);
  out.push_back(' ');
  append_field(out, r.url);
  out += " \"";
  append_field(out, r.user_agent, Field::Quoted);
  out.push_back('"');
  return out;
}

std::optional<AccessRecord> parse_access_line(std::string_view line) {
  // Tolerate the line terminator a reader may leave in place.
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

  // The user agent is the quoted tail; everything before it is nine single-space-separated
  // tokens.
  const auto quote = line.find('"');
  if (quote == std::string_view::npos || quote == 0 || line[quote - 1] != ' ') return std::nullopt;
  if (line.size() < quote + 2 || line.back() != '"') return std::nullopt;
  const auto agent = line.substr(quote + 1, line.size() - quote - 2);
  if (agent.find('"') != std::string_view::npos) return std::nullopt;

  std::vector<std::string_view> tokens;
  std::string_view head = line.substr(0, quote - 1);
  while (true) {
    const auto space = head.find(' ');
    tokens.push_back(head.substr(0, space));
    if (space == std::string_view::npos) break;
    head.remove_prefix(space + 1);
    if (tokens.size() > 9) return std::nullopt;
  }
  if (tokens.size() != 9) return std::nullopt;
  for (auto t : tokens) {
    if (t.empty()) return std::nullopt;
  }

  AccessRecord r;
  const auto time = parse_time(tokens[0]);
  if (!time) return std::nullopt;
  r.time_ms = *time;
  if (!parse_endpoint(tokens[1], r.client_ip, r.client_port)) return std::nullopt;
  r.host = field_value(tokens[2]);
  if (tokens[3] != "-:-" && !parse_endpoint(tokens[3], r.dest_ip, r.dest_port)) {
    return std::nullopt;
  }
  // "x:port" with "-" as the address would be ambiguous with an empty destination.
  if (tokens[3] != "-:-" && r.dest_ip.empty()) return std::nullopt;
  r.http_version = field_value(tokens[4]);
  r.method = field_value(tokens[5]);
  const auto status = parse_int<int>(tokens[6]);
  if (!status) return std::nullopt;
  r.status = *status;
  const auto colon = tokens[7].find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == tokens[7].size()) {
    return std::nullopt;
  }
  const auto hierarchy = tokens[7].substr(colon + 1);
  if (hierarchy.find(':') != std::string_view::npos) return std::nullopt;
  r.squid_status = field_value(tokens[7].substr(0, colon));
  r.hierarchy = field_value(hierarchy);
  r.url = field_value(tokens[8]);
  r.user_agent = field_value(agent);
  return r;
}

}  // namespace awf::audit
