// Fuzzes where a request head ends and the strict request-head check, then (as the gateway
// does) Beast's parser on heads the check accepted: whatever passes the check must parse
// without surprises, and a head cut short at a bare CR or LF never passes.
#include <boost/beast/http.hpp>
#include <cstdint>
#include <string_view>

#include "proxy/http_head.h"
#include "proxy/request_head.h"

namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t end = awf::http::find_head_end(input);
  if (end > input.size()) __builtin_trap();
  const std::size_t crlfcrlf = input.find("\r\n\r\n");
  if (end == 0) {
    // Nothing to answer yet only while no line end so far is bare and the head is open.
    if (crlfcrlf != std::string_view::npos) __builtin_trap();
    return 0;
  }
  // The head never reaches past the first CRLF CRLF.
  if (crlfcrlf != std::string_view::npos && end > crlfcrlf + 4) __builtin_trap();
  const std::string_view head = input.substr(0, end);
  const bool whole = crlfcrlf != std::string_view::npos && end == crlfcrlf + 4;
  if (awf::http::check_request_head(head)) return 0;
  // What the check accepts is a whole head: one cut short at a bare CR or LF is refused.
  if (!whole) __builtin_trap();
  http::request_parser<http::empty_body> parser;
  parser.header_limit(awf::http::kMaxRequestHead);
  boost::system::error_code ec;
  const std::size_t used = parser.put(boost::asio::buffer(head.data(), head.size()), ec);
  if (!ec && parser.is_header_done()) {
    if (used != head.size()) __builtin_trap();  // the check and Beast disagree on the head
    const auto& request = parser.get();
    (void)awf::http::parse_absolute_uri(std::string_view(request.target()));
    (void)awf::http::parse_authority(std::string_view(request[http::field::host]), 80);
  }
  return 0;
}
