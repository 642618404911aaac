#include "policy/domain_pattern.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <libpsl.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "policy/policy.h"
#include "policy/public_suffix.h"

namespace awf::policy::detail {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

bool is_ascii_alnum(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

char to_lower(unsigned char c) {
  return static_cast<char>((c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c);
}

bool is_host_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

bool is_hex(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// Appends an ASCII label, lowercased and validated.
NameStatus append_ascii_label(std::string_view label, bool allow_wildcard, NameBuffer& out) {
  if (label.size() > kMaxLabelLength) return NameStatus::kLabelTooLong;
  if (out.size + label.size() > kMaxNameLength) return NameStatus::kNameTooLong;
  for (unsigned char raw : label) {
    const char c = to_lower(raw);
    if (!is_host_char(static_cast<unsigned char>(c)) && !(allow_wildcard && c == '*')) {
      return NameStatus::kBadCharacter;
    }
    out.data[out.size++] = c;
  }
  return NameStatus::kOk;
}

// Converts a label holding non-ASCII bytes to its punycode form (IDNA2008 non-transitional,
// falling back to transitional) and appends it.
NameStatus append_idn_label(std::string_view label, bool allow_wildcard, NameBuffer& out) {
  char input[kMaxRawHostLength + 1];
  if (label.size() > kMaxRawHostLength) return NameStatus::kNameTooLong;
  for (unsigned char c : label) {
    if (c >= 0x80) continue;
    if (c == '*' && allow_wildcard) return NameStatus::kWildcardNonAscii;
    if (!is_ascii_alnum(c) && c != '-' && c != '_') return NameStatus::kBadCharacter;
  }
  std::memcpy(input, label.data(), label.size());
  input[label.size()] = '\0';
  char* converted = nullptr;
  int rc = idn2_to_ascii_8z(input, &converted, IDN2_NONTRANSITIONAL);
  if (rc != IDN2_OK) {
    converted = nullptr;
    rc = idn2_to_ascii_8z(input, &converted, IDN2_TRANSITIONAL);
  }
  if (rc != IDN2_OK || converted == nullptr) return NameStatus::kBadIdn;
  const std::string_view result(converted);
  NameStatus status = NameStatus::kOk;
  if (result.empty()) {
    status = NameStatus::kBadIdn;
  } else {
    // The mapping may produce anything (a dot from U+3002, a space from U+3000, ...): only plain
    // host characters are accepted.
    status = append_ascii_label(result, false, out);
    if (status == NameStatus::kBadCharacter) status = NameStatus::kBadIdn;
  }
  idn2_free(converted);
  return status;
}

bool psl_is_icann_suffix(std::string_view name) {
  const std::string copy(name);
  return psl_is_public_suffix2(public_suffixes(), copy.c_str(),
                               PSL_TYPE_ICANN | PSL_TYPE_NO_STAR_RULE) != 0;
}

[[noreturn]] void fail(std::string_view entry, std::string_view why) {
  std::string message = "invalid domain entry ";
  message += quote_entry(entry);
  message += ": ";
  message += why;
  throw PolicyError(message);
}

bool is_whitespace(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

}  // namespace

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string quote_entry(std::string_view entry) {
  std::string out = "'";
  for (unsigned char c : entry) {
    if (c < 0x20 || c == 0x7f) {
      out += "\\x";
      out += kHexDigits[c >> 4];
      out += kHexDigits[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += "'";
  return out;
}

namespace {

// Lowercase mapping of host characters; 0 for bytes that are never valid ('.' and '*' map to
// themselves and are checked by the caller).
constexpr std::array<char, 256> make_host_map() {
  std::array<char, 256> m{};
  for (int c = 'a'; c <= 'z'; ++c) m[c] = static_cast<char>(c);
  for (int c = 'A'; c <= 'Z'; ++c) m[c] = static_cast<char>(c - 'A' + 'a');
  for (int c = '0'; c <= '9'; ++c) m[c] = static_cast<char>(c);
  m['-'] = '-';
  m['_'] = '_';
  m['.'] = '.';
  m['*'] = '*';
  return m;
}
constexpr std::array<char, 256> kHostMap = make_host_map();

// One pass over a pure-ASCII name (the common case). Returns false when a non-ASCII byte is
// seen, so the caller takes the label-by-label IDN path.
bool normalize_ascii(std::string_view in, bool allow_wildcard, NameBuffer& out,
                     NameStatus& status) {
  std::size_t label = 0;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c >= 0x80) return false;
    const char m = kHostMap[c];
    if (m == '.') {
      if (label == 0) {
        status = NameStatus::kEmptyLabel;
        return true;
      }
      label = 0;
    } else if (m == 0 || (m == '*' && !allow_wildcard)) {
      status = NameStatus::kBadCharacter;
      return true;
    } else if (++label > kMaxLabelLength) {
      status = NameStatus::kLabelTooLong;
      return true;
    }
    if (i >= kMaxNameLength) {
      status = NameStatus::kNameTooLong;
      return true;
    }
    out.data[i] = m;
  }
  if (label == 0) {
    status = NameStatus::kEmptyLabel;
    return true;
  }
  out.size = in.size();
  out.data[out.size] = '\0';
  status = NameStatus::kOk;
  return true;
}

}  // namespace

NameStatus normalize_name(std::string_view in, bool allow_wildcard, NameBuffer& out) {
  out.size = 0;
  if (in.size() > kMaxRawHostLength) return NameStatus::kNameTooLong;
  if (!in.empty() && in.back() == '.') in.remove_suffix(1);
  if (in.empty()) return NameStatus::kEmpty;
  NameStatus status = NameStatus::kOk;
  if (normalize_ascii(in, allow_wildcard, out, status)) {
    if (status != NameStatus::kOk) out.size = 0;
    return status;
  }
  out.size = 0;
  std::size_t pos = 0;
  for (;;) {
    const std::size_t dot = in.find('.', pos);
    const std::string_view label =
        in.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos);
    if (label.empty()) return NameStatus::kEmptyLabel;
    if (out.size > 0) {
      if (out.size >= kMaxNameLength) return NameStatus::kNameTooLong;
      out.data[out.size++] = '.';
    }
    bool ascii = true;
    for (unsigned char c : label) {
      if (c >= 0x80) {
        ascii = false;
        break;
      }
    }
    status = ascii ? append_ascii_label(label, allow_wildcard, out)
                   : append_idn_label(label, allow_wildcard, out);
    if (status != NameStatus::kOk) return status;
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  out.data[out.size] = '\0';
  return NameStatus::kOk;
}

bool has_numeric_last_label(std::string_view name) {
  const std::size_t dot = name.rfind('.');
  std::string_view last = dot == std::string_view::npos ? name : name.substr(dot + 1);
  if (last.empty()) return false;
  if (last.size() >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X')) {
    for (unsigned char c : last.substr(2)) {
      if (!is_hex(c)) return false;
    }
    return true;
  }
  for (unsigned char c : last) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool parse_ip_literal(std::string_view text, IpBytes& out) {
  bool v6 = false;
  if (!text.empty() && text.front() == '[') {
    if (text.size() < 2 || text.back() != ']') return false;
    text = text.substr(1, text.size() - 2);
    v6 = true;
  } else if (text.find(':') != std::string_view::npos) {
    v6 = true;
  }
  char buf[64];
  if (text.empty() || text.size() >= sizeof buf) return false;
  if (std::memchr(text.data(), '\0', text.size()) != nullptr) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  if (v6) {
    in6_addr addr{};
    if (inet_pton(AF_INET6, buf, &addr) != 1) return false;
    std::memcpy(out.data(), &addr, 16);
    return true;
  }
  in_addr addr{};
  if (inet_pton(AF_INET, buf, &addr) != 1) return false;
  out.fill(0);
  out[10] = 0xff;
  out[11] = 0xff;
  std::memcpy(out.data() + 12, &addr, 4);
  return true;
}

std::string ip_to_string(const IpBytes& ip) {
  char buf[INET6_ADDRSTRLEN];
  static constexpr std::uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(ip.data(), kMappedPrefix, 12) == 0) {
    in_addr addr{};
    std::memcpy(&addr, ip.data() + 12, 4);
    if (inet_ntop(AF_INET, &addr, buf, sizeof buf) == nullptr) return {};
    return buf;
  }
  in6_addr addr{};
  std::memcpy(&addr, ip.data(), 16);
  if (inet_ntop(AF_INET6, &addr, buf, sizeof buf) == nullptr) return {};
  return buf;
}

HostKind classify_host(std::string_view host, NameBuffer& name, IpBytes& ip) noexcept {
  name.size = 0;
  if (host.empty() || host.size() > kMaxRawHostLength) return HostKind::kInvalid;
  if (host.front() == '[' || host.find(':') != std::string_view::npos) {
    return parse_ip_literal(host, ip) ? HostKind::kIp : HostKind::kInvalid;
  }
  if (normalize_name(host, false, name) != NameStatus::kOk) return HostKind::kInvalid;
  if (has_numeric_last_label(name.view())) {
    // 127.1, 0x7f.0.0.1, 010.0.0.1 and 2130706433 are IPv4 to some resolvers: only the strict
    // dotted quad is accepted, anything else is not a host name at all.
    return parse_ip_literal(name.view(), ip) ? HostKind::kIp : HostKind::kInvalid;
  }
  return HostKind::kName;
}

bool glob_match(std::string_view pattern, std::string_view text) noexcept {
  const std::size_t first = pattern.find('*');
  if (first == std::string_view::npos) return pattern == text;
  const std::size_t last = pattern.rfind('*');
  const std::string_view head = pattern.substr(0, first);
  const std::string_view tail = pattern.substr(last + 1);
  if (text.size() < head.size() + tail.size()) return false;
  if (text.substr(0, head.size()) != head) return false;
  if (text.substr(text.size() - tail.size()) != tail) return false;
  // Middle segments: leftmost occurrence of each, in order, inside the unanchored middle.
  const std::string_view middle_text =
      text.substr(head.size(), text.size() - head.size() - tail.size());
  std::size_t pos = 0;
  std::size_t seg_start = first + 1;
  while (seg_start < last) {
    std::size_t seg_end = pattern.find('*', seg_start);
    const std::string_view segment = pattern.substr(seg_start, seg_end - seg_start);
    if (!segment.empty()) {
      const std::size_t found = middle_text.find(segment, pos);
      if (found == std::string_view::npos) return false;
      pos = found + segment.size();
    }
    seg_start = seg_end + 1;
  }
  return true;
}

namespace {

// The protocol prefix ("http://", "https://"), removed from `e`.
void take_protocol(std::string_view written, std::string_view& e, Entry& out) {
  const std::size_t sep = e.find("://");
  if (sep == std::string_view::npos) return;
  std::string scheme;
  for (unsigned char c : e.substr(0, sep)) scheme += to_lower(c);
  if (scheme == "http") {
    out.protocols = kProtoHttp;
  } else if (scheme == "https") {
    out.protocols = kProtoHttps;
  } else {
    fail(written, "unsupported protocol " + quote_entry(scheme + "://") +
                      " (only http:// and https:// are accepted)");
  }
  e = e.substr(sep + 3);
}

struct EntryShape {
  bool has_colon = false;
  bool has_bracket = false;
};

// Refuses characters no entry may hold; says whether it looks like an IP literal.
EntryShape check_characters(std::string_view written, std::string_view e) {
  EntryShape shape;
  bool only_stars_and_dots = true;
  bool has_star = false;
  for (unsigned char c : e) {
    if (is_whitespace(c)) fail(written, "whitespace is not allowed");
    if (c < 0x20 || c == 0x7f) fail(written, "control characters are not allowed");
    if (c == '\'' || c == '"') fail(written, "quotes are not allowed");
    if (c == ';') fail(written, "';' is not allowed");
    if (c == '#') fail(written, "'#' is not allowed");
    if (c == '\\') fail(written, "backslash is not allowed");
    if (c == '/') fail(written, "paths are not allowed (only one trailing '/' is accepted)");
    if (c == '*') has_star = true;
    if (c != '*' && c != '.') only_stars_and_dots = false;
    if (c >= 0x80) continue;
    if (c == ':') {
      shape.has_colon = true;
    } else if (c == '[' || c == ']') {
      shape.has_bracket = true;
    } else if (!is_ascii_alnum(c) && c != '.' && c != '-' && c != '_' && c != '*') {
      fail(written, std::string("invalid character '") + static_cast<char>(c) + "'");
    }
  }
  if (only_stars_and_dots && has_star) fail(written, "a wildcard alone would match every host");
  return shape;
}

// An entry with ':' or brackets: an IPv6 (or bracketed) literal, never a port.
Entry ip_literal_entry(std::string_view written, std::string_view e, bool has_bracket, Entry out) {
  if (e.find('*') != std::string_view::npos) {
    fail(written, "wildcards are not allowed in IP addresses");
  }
  if (parse_ip_literal(e, out.ip)) {
    out.kind = EntryKind::kIp;
    out.name = ip_to_string(out.ip);
    return out;
  }
  const bool port =
      has_bracket ? e.find("]:") != std::string_view::npos : e.find(':') == e.rfind(':');
  fail(written, port ? "ports are not allowed" : "invalid IPv6 address");
}

void normalize_entry_name(std::string_view written, std::string_view e, NameBuffer& name) {
  switch (normalize_name(e, true, name)) {
    case NameStatus::kOk:
      return;
    case NameStatus::kEmpty:
      fail(written, "empty entry");
    case NameStatus::kEmptyLabel:
      fail(written, "empty label (leading dot or '..')");
    case NameStatus::kLabelTooLong:
      fail(written, "label longer than 63 bytes");
    case NameStatus::kNameTooLong:
      fail(written, "name longer than 253 bytes");
    case NameStatus::kBadCharacter:
      fail(written, "invalid character in host name");
    case NameStatus::kBadIdn:
      fail(written, "invalid internationalized name");
    case NameStatus::kWildcardNonAscii:
      fail(written, "a label with a wildcard must be ASCII");
  }
}

// An "xn--" label is punycode: one that does not decode names nothing a resolver will ever
// answer for, so the rule would be a mistake (or a lookalike typed by hand).
void check_a_labels(std::string_view written, std::string_view name) {
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t dot = std::min(name.find('.', start), name.size());
    const std::string label(name.substr(start, dot - start));
    if (label.starts_with("xn--")) {
      char* decoded = nullptr;
      const int rc = idn2_to_unicode_8z8z(label.c_str(), &decoded, 0);
      idn2_free(decoded);
      if (rc != IDN2_OK) {
        fail(written,
             "'" + label + "' is not valid punycode (an xn-- label must decode to a name)");
      }
    }
    start = dot + 1;
  }
}

// A normalized name without a wildcard: a name, or a dotted-quad IPv4 address.
Entry plain_entry(std::string_view written, std::string_view n, ListKind list, Entry out) {
  if (has_numeric_last_label(n)) {
    if (!parse_ip_literal(n, out.ip)) {
      fail(written, "invalid IPv4 address (only the dotted-quad form a.b.c.d is accepted)");
    }
    out.kind = EntryKind::kIp;
    out.name = ip_to_string(out.ip);
    return out;
  }
  if (list == ListKind::kAllow && psl_is_icann_suffix(n)) {
    fail(written, "a public suffix; it would allow every domain registered under it");
  }
  out.kind = EntryKind::kName;
  out.name = std::string(n);
  return out;
}

// Wildcard: the literal suffix is made of the labels after the last label holding a '*'.
Entry wildcard_entry(std::string_view written, std::string_view n, ListKind list, Entry out) {
  if (has_numeric_last_label(n)) fail(written, "numeric top-level label");
  std::size_t wildcard_labels = 0;
  std::size_t literal_after = 0;
  std::size_t suffix_start = 0;
  std::size_t label_start = 0;
  for (;;) {
    const std::size_t dot = n.find('.', label_start);
    const std::size_t label_end = dot == std::string_view::npos ? n.size() : dot;
    const std::string_view label = n.substr(label_start, label_end - label_start);
    if (label.find('*') != std::string_view::npos) {
      ++wildcard_labels;
      literal_after = 0;
      suffix_start = label_end + 1;
    } else {
      ++literal_after;
    }
    if (dot == std::string_view::npos) break;
    label_start = dot + 1;
  }
  if (literal_after == 0) fail(written, "wildcard in the top-level label");
  if (wildcard_labels >= 2 && literal_after < 2) {
    fail(written, "several wildcard labels need at least two literal labels after them");
  }
  if (list == ListKind::kAllow && psl_is_icann_suffix(n.substr(suffix_start))) {
    fail(written, "wildcard covers a whole public suffix");
  }
  out.kind = EntryKind::kWildcard;
  out.name = std::string(n);
  out.suffix_start = suffix_start;
  return out;
}

}  // namespace

Entry parse_entry(std::string_view raw, ListKind list) {
  const std::string_view written = trim(raw);
  std::string_view e = written;
  Entry out;
  take_protocol(written, e, out);
  // One trailing slash is tolerated and is not part of the rule.
  const bool trailing_slash = !e.empty() && e.back() == '/';
  if (trailing_slash) e.remove_suffix(1);
  out.rule = std::string(written.substr(0, written.size() - (trailing_slash ? 1 : 0)));
  if (e.empty()) fail(written, "empty entry");
  if (list == ListKind::kBlock) out.protocols = kProtoBoth;

  const EntryShape shape = check_characters(written, e);
  if (shape.has_colon || shape.has_bracket) {
    return ip_literal_entry(written, e, shape.has_bracket, std::move(out));
  }
  NameBuffer name;
  normalize_entry_name(written, e, name);
  const std::string_view n = name.view();
  check_a_labels(written, n);
  if (n.find('*') == std::string_view::npos) return plain_entry(written, n, list, std::move(out));
  return wildcard_entry(written, n, list, std::move(out));
}

}  // namespace awf::policy::detail
