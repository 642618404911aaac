#include "proxy/request_head.h"

#include <algorithm>

namespace awf::http {
namespace {

bool is_tchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_token(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return is_tchar(static_cast<unsigned char>(c)); });
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return (x | 0x20) == (y | 0x20) && std::isalpha(static_cast<unsigned char>(x)) ==
                                                   std::isalpha(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

std::optional<std::string> check_request_line(std::string_view line) {
  if (line.size() > kMaxRequestLine) return "request line too long";
  const std::size_t first = line.find(' ');
  const std::size_t last = line.rfind(' ');
  if (first == std::string_view::npos || first == last) return "malformed request line";
  const std::string_view method = line.substr(0, first);
  const std::string_view target = line.substr(first + 1, last - first - 1);
  const std::string_view version = line.substr(last + 1);
  if (!is_token(method)) return "malformed request method";
  if (target.empty()) return "empty request target";
  for (char c : target) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte == 0x7f) return "malformed request target";
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return "unsupported HTTP version";
  return std::nullopt;
}

}  // namespace

std::size_t find_head_end(std::string_view bytes) {
  // Every CR and LF in order: while each one so far is part of a CRLF, the head may still
  // end well; the first bare CR or LF settles it as malformed, whatever follows.
  std::size_t at = 0;
  for (;;) {
    at = bytes.find_first_of("\r\n", at);
    if (at == std::string_view::npos) return 0;
    if (bytes[at] == '\n') return at + 1;  // every earlier LF followed a CR: this one is bare
    if (at + 1 >= bytes.size()) return 0;   // a CR at the end: its LF may be on the way
    if (bytes[at + 1] != '\n') return at + 1;  // bare CR
    if (at >= 2 && bytes[at - 2] == '\r' && bytes[at - 1] == '\n') return at + 2;  // CRLF CRLF
    at += 2;
  }
}

std::optional<std::string> check_request_head(std::string_view head) {
  if (head.size() > kMaxRequestHead) return "request head too large";
  // Every line ends in CRLF; a CR or LF anywhere else is a smuggling shape. Checked before
  // the head's end, so that what find_head_end stopped at (a bare CR or LF) is named.
  for (std::size_t i = 0; i < head.size(); ++i) {
    const char c = head[i];
    if (c == '\r' && (i + 1 >= head.size() || head[i + 1] != '\n')) return "bare CR in request head";
    if (c == '\n' && (i == 0 || head[i - 1] != '\r')) return "bare LF in request head";
    const auto byte = static_cast<unsigned char>(c);
    if ((byte < 0x20 && c != '\r' && c != '\n' && c != '\t') || byte == 0x7f) {
      return "control character in request head";
    }
  }
  if (head.size() < 4 || head.substr(head.size() - 4) != "\r\n\r\n") return "incomplete request head";
  const std::string_view body = head.substr(0, head.size() - 2);  // lines, each ending in CRLF
  std::size_t line_start = 0;
  std::size_t line_number = 0;
  std::size_t headers = 0;
  std::size_t hosts = 0;
  std::size_t content_lengths = 0;
  bool transfer_encoding = false;
  while (line_start < body.size()) {
    const std::size_t line_end = body.find("\r\n", line_start);
    const std::string_view line = body.substr(line_start, line_end - line_start);
    line_start = line_end + 2;
    if (line_number++ == 0) {
      if (auto error = check_request_line(line)) return error;
      continue;
    }
    if (line.empty()) return "empty header line";
    if (line.front() == ' ' || line.front() == '\t') return "obsolete line folding";
    if (++headers > kMaxHeaderCount) return "too many header fields";
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return "header line without a colon";
    const std::string_view name = line.substr(0, colon);
    if (!is_token(name)) return "invalid header name";
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "host")) {
      if (++hosts > 1) return "more than one Host header";
    } else if (iequals(name, "content-length")) {
      if (++content_lengths > 1) return "more than one Content-Length header";
      if (value.empty() || value.size() > 18 ||
          !std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return "invalid Content-Length";
      }
    } else if (iequals(name, "transfer-encoding")) {
      if (transfer_encoding || !iequals(value, "chunked")) {
        return "unsupported Transfer-Encoding (only a single \"chunked\")";
      }
      transfer_encoding = true;
    }
  }
  if (line_number == 0) return "empty request";
  if (transfer_encoding && content_lengths > 0) {
    return "both Transfer-Encoding and Content-Length";
  }
  return std::nullopt;
}

}  // namespace awf::http
