#include "dns/doh_http.h"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "policy/address_class.h"
#include "proxy/http_head.h"

namespace awf::dns {
namespace {

constexpr std::string_view kScheme = "https://";
constexpr std::string_view kMediaType = "application/dns-message";
constexpr std::size_t kMaxHeadBytes = 16 * 1024;
constexpr std::size_t kMaxChunkLine = 1024;
constexpr std::size_t kMaxMessageBytes = 65535;
constexpr std::size_t kMinMessageBytes = 12;  // a DNS header
constexpr std::size_t kMaxNameBytes = 253;
constexpr std::size_t kMaxReasonShown = 80;

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// A host name of letters, digits and hyphens in dot-separated labels of 1..63 bytes (one
// trailing dot allowed): the name is resolved with plain DNS once at start.
bool valid_host_name(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  std::size_t label = 0;
  for (const char c : name) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
      continue;
    }
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok || ++label > 63) return false;
  }
  return label > 0;
}

// Text from the server, made safe to show: printable ASCII only, bounded.
std::string printable(std::string_view s) {
  std::string out;
  for (const char c : s.substr(0, kMaxReasonShown)) {
    out.push_back(c >= 0x20 && c < 0x7f ? c : '?');
  }
  return out;
}

bool contains_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    if (iequals(trim(list.substr(0, comma)), token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

std::optional<std::size_t> parse_decimal(std::string_view s, std::size_t max) {
  if (s.empty() || s.size() > 10) return std::nullopt;
  std::size_t value = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::size_t>(c - '0');
  }
  if (value > max) return std::nullopt;
  return value;
}

DohResponse invalid(std::string error) {
  DohResponse response;
  response.state = DohResponse::State::Invalid;
  response.keep_alive = false;
  response.error = std::move(error);
  return response;
}

DohResponse incomplete_or(bool at_eof, std::string error) {
  if (at_eof) return invalid(std::move(error));
  return DohResponse{};
}

struct Head {
  int status = 0;
  std::string reason;
  bool http10 = false;
  std::optional<std::string> content_type;
  std::optional<std::size_t> content_length;
  bool chunked = false;
  bool connection_close = false;
  bool connection_keep_alive = false;
  std::string error;  // set when the head is malformed
};

Head parse_head(std::string_view head) {
  Head out;
  const std::size_t line_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, line_end);
  // "HTTP/1.x SSS[ reason]"
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." ||
      (status_line[7] != '0' && status_line[7] != '1') || status_line[8] != ' ' ||
      (status_line.size() > 12 && status_line[12] != ' ')) {
    out.error = "not an HTTP/1 response: '" + printable(status_line) + "'";
    return out;
  }
  const auto status = parse_decimal(status_line.substr(9, 3), 999);
  if (!status || *status < 100) {
    out.error = "bad HTTP status line: '" + printable(status_line) + "'";
    return out;
  }
  out.status = static_cast<int>(*status);
  out.http10 = status_line[7] == '0';
  if (status_line.size() > 13) out.reason = printable(status_line.substr(13));

  std::string_view rest =
      line_end == std::string_view::npos ? std::string_view{} : head.substr(line_end + 2);
  while (!rest.empty()) {
    const std::size_t end = rest.find("\r\n");
    const std::string_view line = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 2);
    const std::size_t colon = line.find(':');
    const std::string_view name = line.substr(0, colon);
    const bool token = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
      return c > 0x20 && c < 0x7f && c != ':' && c != '"' && c != '(' && c != ')';
    });
    // No colon, an empty or odd name, or a folded continuation line (obsolete, and a
    // classic source of parser disagreement): refused.
    if (colon == std::string_view::npos || !token) {
      out.error = "malformed response header line: '" + printable(line) + "'";
      return out;
    }
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "content-type")) {
      if (out.content_type) {
        out.error = "more than one Content-Type";
        return out;
      }
      out.content_type = std::string(value);
    } else if (iequals(name, "content-length")) {
      const auto length = parse_decimal(value, kMaxMessageBytes);
      if (!length) {
        out.error = "Content-Length '" + printable(value) + "' is not a DNS message size";
        return out;
      }
      if (out.content_length && *out.content_length != *length) {
        out.error = "conflicting Content-Length values";
        return out;
      }
      out.content_length = length;
    } else if (iequals(name, "transfer-encoding")) {
      if (!iequals(value, "chunked") || out.chunked) {
        out.error = "unsupported Transfer-Encoding '" + printable(value) + "'";
        return out;
      }
      out.chunked = true;
    } else if (iequals(name, "connection")) {
      out.connection_close = out.connection_close || contains_token(value, "close");
      out.connection_keep_alive = out.connection_keep_alive || contains_token(value, "keep-alive");
    }
  }
  if (out.chunked && out.content_length) {
    out.error = "both Content-Length and Transfer-Encoding";
  }
  return out;
}

std::size_t find_crlf(std::span<const std::uint8_t> bytes, std::size_t from) {
  for (std::size_t i = from; i + 1 < bytes.size(); ++i) {
    if (bytes[i] == '\r' && bytes[i + 1] == '\n') return i;
  }
  return std::string_view::npos;
}

int hex_value(std::uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes a chunked body starting at `pos`. Complete: `body` filled and `pos` past the
// trailers; Incomplete: more bytes needed; Invalid: `error` set.
DohResponse::State read_chunked(std::span<const std::uint8_t> bytes, std::size_t& pos,
                                std::vector<std::uint8_t>& body, std::string& error) {
  for (;;) {
    const std::size_t line_end = find_crlf(bytes, pos);
    if (line_end == std::string_view::npos) {
      if (bytes.size() - pos > kMaxChunkLine) {
        error = "chunk size line too long";
        return DohResponse::State::Invalid;
      }
      return DohResponse::State::Incomplete;
    }
    if (line_end - pos > kMaxChunkLine) {
      error = "chunk size line too long";
      return DohResponse::State::Invalid;
    }
    std::size_t size = 0;
    std::size_t i = pos;
    for (; i < line_end && hex_value(bytes[i]) >= 0; ++i) {
      size = size * 16 + static_cast<std::size_t>(hex_value(bytes[i]));
      if (size > kMaxMessageBytes) {
        error = "chunked answer larger than a DNS message";
        return DohResponse::State::Invalid;
      }
    }
    if (i == pos || (i < line_end && bytes[i] != ';' && bytes[i] != ' ' && bytes[i] != '\t')) {
      error = "malformed chunk size";
      return DohResponse::State::Invalid;
    }
    pos = line_end + 2;
    if (size == 0) break;
    if (body.size() + size > kMaxMessageBytes) {
      error = "chunked answer larger than a DNS message";
      return DohResponse::State::Invalid;
    }
    if (bytes.size() - pos < size + 2) return DohResponse::State::Incomplete;
    if (bytes[pos + size] != '\r' || bytes[pos + size + 1] != '\n') {
      error = "chunk not followed by CRLF";
      return DohResponse::State::Invalid;
    }
    body.insert(body.end(), bytes.begin() + static_cast<std::ptrdiff_t>(pos),
                bytes.begin() + static_cast<std::ptrdiff_t>(pos + size));
    pos += size + 2;
  }
  // Trailer lines (ignored) up to an empty line.
  for (std::size_t trailer_bytes = 0;;) {
    const std::size_t line_end = find_crlf(bytes, pos);
    if (line_end == std::string_view::npos) return DohResponse::State::Incomplete;
    trailer_bytes += line_end - pos + 2;
    if (trailer_bytes > kMaxHeadBytes) {
      error = "chunked trailers too long";
      return DohResponse::State::Invalid;
    }
    const bool empty = line_end == pos;
    pos = line_end + 2;
    if (empty) return DohResponse::State::Complete;
  }
}

}  // namespace

DohUrl parse_doh_url(std::string_view text) {
  if (std::any_of(text.begin(), text.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
    throw std::invalid_argument("the URL holds whitespace or control characters");
  }
  const std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) {
    throw std::invalid_argument("not a URL: expected https://host[:port]/path");
  }
  if (!iequals(text.substr(0, scheme_end + 3), kScheme)) {
    throw std::invalid_argument("the scheme must be https (DNS over HTTPS needs TLS), not '" +
                                std::string(text.substr(0, scheme_end)) + "'");
  }
  if (text.find('#') != std::string_view::npos) {
    throw std::invalid_argument("a fragment ('#') has no meaning in a DoH URL");
  }
  std::string_view rest = text.substr(kScheme.size());
  const std::size_t authority_end = rest.find_first_of("/?");
  const std::string_view authority = rest.substr(0, authority_end);
  if (authority.find('@') != std::string_view::npos) {
    throw std::invalid_argument("user information ('user@') is not supported in the URL");
  }
  const auto parsed = http::parse_authority(authority, 443);
  if (!parsed) {
    throw std::invalid_argument("bad host or port '" + std::string(authority) + "'");
  }
  DohUrl url;
  url.port = parsed->port;
  const std::string literal = policy::canonical_ip_literal(
      authority.starts_with('[') ? "[" + parsed->host + "]" : parsed->host);
  if (!literal.empty()) {
    url.host = literal;
    url.ip_literal = true;
  } else if (valid_host_name(parsed->host) &&
             parsed->host.find_first_not_of("0123456789.") != std::string::npos) {
    url.host = parsed->host;
    std::transform(url.host.begin(), url.host.end(), url.host.begin(), lower);
    if (url.host.back() == '.') url.host.pop_back();
  } else {
    throw std::invalid_argument("bad host '" + parsed->host +
                                "': expected a DNS name or an IP address ([...] for IPv6)");
  }
  if (authority_end == std::string_view::npos) {
    url.path = "/";
  } else if (rest[authority_end] == '?') {
    url.path = "/" + std::string(rest.substr(authority_end));
  } else {
    url.path = std::string(rest.substr(authority_end));
  }
  return url;
}

std::string doh_url_text(const DohUrl& url) {
  return "https://" + http::format_authority(url.host, url.port, 443) + url.path;
}

std::string build_doh_request(const DohUrl& url, std::span<const std::uint8_t> query) {
  std::string request;
  request.reserve(200 + query.size());
  request += "POST " + url.path + " HTTP/1.1\r\n";
  request += "Host: " + http::format_authority(url.host, url.port, 443) + "\r\n";
  request += "Content-Type: " + std::string(kMediaType) + "\r\n";
  request += "Accept: " + std::string(kMediaType) + "\r\n";
  request += "Content-Length: " + std::to_string(query.size()) + "\r\n";
  request += "\r\n";
  request.append(reinterpret_cast<const char*>(query.data()), query.size());
  return request;
}

DohResponse parse_doh_response(std::span<const std::uint8_t> bytes, bool at_eof) {
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  std::size_t pos = 0;
  Head head;
  std::size_t body_at = 0;
  for (;;) {
    const std::size_t head_end = text.find("\r\n\r\n", pos);
    if (head_end == std::string_view::npos) {
      if (text.size() - pos > kMaxHeadBytes) return invalid("response head too large");
      return incomplete_or(at_eof, pos == text.size() && pos == 0
                                       ? "connection closed without an answer"
                                       : "connection closed mid-answer");
    }
    if (head_end - pos > kMaxHeadBytes) return invalid("response head too large");
    head = parse_head(text.substr(pos, head_end - pos));
    if (!head.error.empty()) return invalid(head.error);
    body_at = head_end + 4;
    // Interim responses (100 Continue, 103 Early Hints) precede the real one. 101 would
    // switch protocols, which a DoH exchange never asked for.
    if (head.status >= 100 && head.status < 200 && head.status != 101) {
      pos = body_at;
      continue;
    }
    break;
  }
  if (head.status != 200) {
    return invalid("HTTP " + std::to_string(head.status) +
                   (head.reason.empty() ? "" : " " + head.reason));
  }
  const std::string_view media =
      head.content_type ? trim(std::string_view(*head.content_type).substr(
                              0, head.content_type->find(';')))
                        : std::string_view{};
  if (!iequals(media, kMediaType)) {
    return invalid(head.content_type
                       ? "unexpected Content-Type '" + printable(*head.content_type) +
                             "' (expected application/dns-message)"
                       : "no Content-Type (expected application/dns-message)");
  }

  DohResponse response;
  response.keep_alive = head.http10 ? head.connection_keep_alive && !head.connection_close
                                    : !head.connection_close;
  std::size_t end = 0;
  if (head.chunked) {
    std::size_t at = body_at;
    std::string error;
    switch (read_chunked(bytes, at, response.message, error)) {
      case DohResponse::State::Invalid:
        return invalid(error);
      case DohResponse::State::Incomplete:
        return incomplete_or(at_eof, "connection closed mid-answer");
      case DohResponse::State::Complete:
        break;
    }
    end = at;
  } else if (head.content_length) {
    if (bytes.size() - body_at < *head.content_length) {
      return incomplete_or(at_eof, "connection closed mid-answer");
    }
    end = body_at + *head.content_length;
    response.message.assign(bytes.begin() + static_cast<std::ptrdiff_t>(body_at),
                            bytes.begin() + static_cast<std::ptrdiff_t>(end));
  } else {
    // No length: the body ends where the connection does.
    if (bytes.size() - body_at > kMaxMessageBytes) return invalid("answer larger than a DNS message");
    if (!at_eof) return DohResponse{};
    end = bytes.size();
    response.message.assign(bytes.begin() + static_cast<std::ptrdiff_t>(body_at), bytes.end());
    response.keep_alive = false;
  }
  if (response.message.size() < kMinMessageBytes) {
    return invalid("answer of " + std::to_string(response.message.size()) +
                   " bytes is shorter than a DNS header");
  }
  response.state = DohResponse::State::Complete;
  response.consumed = end;
  return response;
}

}  // namespace awf::dns
