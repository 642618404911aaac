#include "proxy/http_head.h"

#include <arpa/inet.h>

#include <algorithm>
#include <array>

namespace awf::http {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

// Bytes allowed in a reg-name host (RFC 3986 unreserved, sub-delims, pct-encoded) plus
// non-ASCII bytes, which the policy turns into A-labels (IDN). Everything else (controls,
// whitespace, '@', '/', '\\', '?', '#', '[', ']', '"', '<', '>', '`', '{', '|', '}', '^')
// is refused: such a host cannot be a DNS name and could confuse a later parser.
bool host_char(unsigned char c) {
  if (c >= 0x80) return true;
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '-':
    case '.':
    case '_':
    case '~':
    case '!':
    case '$':
    case '&':
    case '\'':
    case '(':
    case ')':
    case '*':
    case '+':
    case ',':
    case ';':
    case '=':
    case '%':
      return true;
    default:
      return false;
  }
}

bool valid_ipv6(std::string_view text) {
  // Longest textual IPv6 address (with an embedded IPv4 part) is 45 characters.
  if (text.empty() || text.size() > 45) return false;
  // inet_pton reads a C string: an embedded NUL would hide the bytes after it.
  if (!std::all_of(text.begin(), text.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
               c == ':' || c == '.';
      })) {
    return false;
  }
  std::array<char, 46> buf{};
  std::copy(text.begin(), text.end(), buf.begin());
  std::array<unsigned char, 16> addr{};
  return inet_pton(AF_INET6, buf.data(), addr.data()) == 1;
}

constexpr std::string_view kOws = " \t";

std::string_view trim(std::string_view s) {
  const auto b = s.find_first_not_of(kOws);
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(kOws);
  return s.substr(b, e - b + 1);
}

}  // namespace

std::optional<std::uint16_t> parse_port(std::string_view text) {
  if (text.empty() || text.size() > 5) return std::nullopt;
  unsigned value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

std::string format_authority(std::string_view host, std::uint16_t port,
                             std::uint16_t default_port) {
  std::string text =
      host.find(':') != std::string_view::npos ? "[" + std::string(host) + "]" : std::string(host);
  if (port != default_port) text += ":" + std::to_string(port);
  return text;
}

std::optional<Authority> parse_authority(std::string_view text, std::uint16_t default_port) {
  if (text.empty()) return std::nullopt;
  Authority out;
  std::string_view rest;
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const auto inside = text.substr(1, close - 1);
    // Only a literal IPv6 address: no zone identifier, no IPvFuture.
    if (!valid_ipv6(inside)) return std::nullopt;
    out.host.assign(inside);
    rest = text.substr(close + 1);
  } else {
    const auto colon = text.find(':');
    const auto host = text.substr(0, colon);
    if (host.empty()) return std::nullopt;
    if (!std::all_of(host.begin(), host.end(),
                     [](char c) { return host_char(static_cast<unsigned char>(c)); })) {
      return std::nullopt;
    }
    out.host.assign(host);
    rest = colon == std::string_view::npos ? std::string_view{} : text.substr(colon);
  }
  if (rest.empty()) {
    out.port = default_port;
    return out;
  }
  if (rest.front() != ':') return std::nullopt;
  const auto port = parse_port(rest.substr(1));
  if (!port) return std::nullopt;
  out.port = *port;
  return out;
}

std::optional<AbsoluteUri> parse_absolute_uri(std::string_view target) {
  constexpr std::string_view kScheme = "http://";
  if (!istarts_with(target, kScheme)) return std::nullopt;
  // No byte of a request target may be whitespace or a control byte (Beast refuses these
  // too; checked again so this function is safe on its own).
  if (std::any_of(target.begin(), target.end(), [](char c) {
        const auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u == 0x7f;
      })) {
    return std::nullopt;
  }
  const auto after_scheme = target.substr(kScheme.size());
  const auto auth_end = after_scheme.find_first_of("/?#");
  const auto authority_text = after_scheme.substr(0, auth_end);
  // userinfo is refused outright (and parse_authority refuses '@' as well).
  if (authority_text.find('@') != std::string_view::npos) return std::nullopt;
  auto authority = parse_authority(authority_text, 80);
  if (!authority) return std::nullopt;

  std::string_view tail =
      auth_end == std::string_view::npos ? std::string_view{} : after_scheme.substr(auth_end);
  const auto fragment = tail.find('#');
  if (fragment != std::string_view::npos) tail = tail.substr(0, fragment);

  AbsoluteUri out;
  out.authority = std::move(*authority);
  if (tail.empty() || tail.front() == '?') out.origin_form = "/";
  out.origin_form.append(tail);
  return out;
}

bool same_host(std::string_view a, std::string_view b) {
  if (!a.empty() && a.back() == '.') a.remove_suffix(1);
  if (!b.empty() && b.back() == '.') b.remove_suffix(1);
  if (a.empty() || b.empty()) return false;
  return iequals(a, b);
}

bool is_hop_by_hop(std::string_view name, std::string_view connection_value) {
  name = trim(name);
  if (name.empty()) return false;
  static constexpr std::array<std::string_view, 5> kFixed = {"connection", "keep-alive", "te",
                                                             "trailer", "upgrade"};
  for (auto fixed : kFixed) {
    if (iequals(name, fixed)) return true;
  }
  if (istarts_with(name, "proxy-")) return true;

  // Connection may not remove the headers the proxy needs to frame and route the request:
  // letting a client strip Content-Length or Transfer-Encoding between the proxy's view and
  // the origin's would open request smuggling, and stripping Host would change the target.
  static constexpr std::array<std::string_view, 3> kProtected = {"host", "content-length",
                                                                 "transfer-encoding"};
  for (auto kept : kProtected) {
    if (iequals(name, kept)) return false;
  }
  while (!connection_value.empty()) {
    const auto comma = connection_value.find(',');
    const auto token = trim(connection_value.substr(0, comma));
    if (!token.empty() && iequals(token, name)) return true;
    if (comma == std::string_view::npos) break;
    connection_value.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace awf::http
