// libFuzzer target: request-target / authority helpers, on raw splits of the input and on what
// Beast's request parser makes of it.
#include <boost/beast/core/error.hpp>
#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "proxy/http_head.h"

namespace http = boost::beast::http;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

void check_authority(std::string_view text, std::uint16_t default_port) {
  const auto a = awf::http::parse_authority(text, default_port);
  if (!a) return;
  check(!a->host.empty());
  check(a->port != 0 || default_port == 0);
  for (char c : a->host) {
    const auto u = static_cast<unsigned char>(c);
    check(u > 0x20 && u != 0x7f && c != '@' && c != '/' && c != '\\' && c != '[' && c != ']');
  }
  check(awf::http::same_host(a->host, a->host) || a->host == ".");  // "." names no host
}

void check_uri(std::string_view text) {
  const auto u = awf::http::parse_absolute_uri(text);
  if (!u) return;
  check(!u->authority.host.empty() && u->authority.port != 0);
  check(!u->origin_form.empty() && u->origin_form.front() == '/');
  check(u->origin_form.find('#') == std::string::npos);
  for (char c : u->origin_form) check(static_cast<unsigned char>(c) > 0x20);
  // The authority of a parsed URI parses on its own to the same host.
  const auto again = awf::http::parse_authority(u->authority.host.find(':') != std::string::npos
                                                    ? "[" + u->authority.host + "]"
                                                    : u->authority.host,
                                                u->authority.port);
  check(again && again->host == u->authority.host && again->port == u->authority.port);
}

void check_pair(std::string_view a, std::string_view b) {
  check_authority(a, 443);
  check_authority(b, 0);
  check_uri(a);
  check_uri(b);
  check(awf::http::same_host(a, b) == awf::http::same_host(b, a));
  (void)awf::http::is_hop_by_hop(a, b);
  // A name listed in Connection is hop-by-hop, unless it is a protected framing header.
  if (!a.empty() && a.find(',') == std::string_view::npos &&
      a.find_first_of(" \t") == std::string_view::npos) {
    std::string list(b);
    list += ",";
    list += a;
    const bool hop = awf::http::is_hop_by_hop(a, list);
    check(hop || iequals(a, "host") || iequals(a, "content-length") ||
          iequals(a, "transfer-encoding"));
  }
}

void run_beast(std::string_view text) {
  http::request_parser<http::empty_body> parser;
  parser.eager(true);
  parser.header_limit(64 * 1024);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(text.data(), text.size()), ec);
  if (!parser.is_header_done()) return;
  const auto& req = parser.get();
  const std::string_view target(req.target().data(), req.target().size());
  check_uri(target);
  check_authority(target, 443);  // CONNECT form
  const auto host = req[http::field::host];
  check_authority(std::string_view(host.data(), host.size()), 80);
  const auto connection = req[http::field::connection];
  const std::string_view conn(connection.data(), connection.size());
  for (const auto& field : req) {
    const auto name = field.name_string();
    (void)awf::http::is_hop_by_hop(std::string_view(name.data(), name.size()), conn);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_authority(text, 80);
  check_uri(text);
  // Split at the first NUL or newline (so the corpus can hold pairs), and in the middle.
  const auto sep = text.find_first_of(std::string_view("\0\n", 2));
  if (sep != std::string_view::npos) check_pair(text.substr(0, sep), text.substr(sep + 1));
  check_pair(text.substr(0, size / 2), text.substr(size / 2));
  run_beast(text);
  return 0;
}
