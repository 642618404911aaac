// DNS over HTTPS (RFC 8484), the HTTP side: the --dns-over-https URL, the request that carries
// one DNS query, and the framing of the server's answer. Pure logic; the answer comes from the
// network, so its parser is bounds-checked and fuzzed.
//
// POST, not GET: the query is the request body as is (no base64url step, no URL length limit),
// and the name asked for does not appear in the request line, which servers and any
// TLS-terminating front end commonly write to their access logs.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace awf::dns {

struct DohUrl {
  std::string host;  // a name, or an IP literal (IPv6 without brackets)
  std::uint16_t port = 443;
  std::string path;  // origin-form: path and query, at least "/"
  bool ip_literal = false;
};

// Parses an `https://host[:port]/path[?query]` URL. Throws std::invalid_argument with the
// reason (the caller names the flag): another scheme, userinfo, a fragment, an empty or
// malformed host, a bad port, whitespace or control bytes.
DohUrl parse_doh_url(std::string_view text);

// The URL as awf uses it (normalized host, port only when not 443), for messages.
std::string doh_url_text(const DohUrl& url);

// The HTTP/1.1 request for one DNS query (POST, application/dns-message, keep-alive).
std::string build_doh_request(const DohUrl& url, std::span<const std::uint8_t> query);

struct DohResponse {
  enum class State {
    Incomplete,  // more bytes needed
    Complete,    // `message` holds the DNS answer
    Invalid,     // `error` says why; the connection must be closed
  } state = State::Incomplete;
  std::vector<std::uint8_t> message;
  std::size_t consumed = 0;  // bytes of the input that made up this response (when Complete)
  bool keep_alive = true;    // false: the server closes (or will close) the connection
  std::string error;
};

// Reads one HTTP/1.x response to a DoH request from the start of `bytes`. `at_eof`: the server
// has closed the connection, which ends a body sent without a length (and makes any other
// shortfall Invalid). A complete answer needs status 200, Content-Type application/dns-message
// and a body of 12..65535 bytes (Content-Length, chunked, or up to the close); 1xx interim
// responses are skipped.
DohResponse parse_doh_response(std::span<const std::uint8_t> bytes, bool at_eof);

}  // namespace awf::dns
