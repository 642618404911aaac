// Pure helpers for HTTP/1 request heads seen by the gateway: request targets, Host values,
// hop-by-hop headers. The byte-level parsing itself is Beast's (in http_forward.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace awf::http {

struct Authority {
  std::string host;  // without brackets for IPv6; not normalized (policy does that)
  std::uint16_t port = 0;
};

// A port: 1..65535, decimal digits only, at most 5 of them.
std::optional<std::uint16_t> parse_port(std::string_view text);

// Parses `host`, `host:port`, `[v6]`, `[v6]:port`. Port must be 1..65535 digits only.
// Rejects empty hosts, userinfo (`@`), whitespace, control bytes, and anything with `/`.
std::optional<Authority> parse_authority(std::string_view text, std::uint16_t default_port);

struct AbsoluteUri {
  Authority authority;
  std::string origin_form;  // path and query, "/" when empty; fragment dropped
};

// "host:port" with an IPv6 host in brackets; the port is left out when it equals
// `default_port` ("api.test" for 443 with default 443).
std::string format_authority(std::string_view host, std::uint16_t port,
                             std::uint16_t default_port = 0);

// Parses an absolute-form request target with the `http` scheme (case-insensitive).
// Other schemes and userinfo are rejected.
std::optional<AbsoluteUri> parse_absolute_uri(std::string_view target);

// True when two host names name the same host: case-insensitive, one trailing dot ignored.
bool same_host(std::string_view a, std::string_view b);

// Headers the proxy never forwards: Connection, Keep-Alive, Proxy-* (any), TE, Trailer,
// Upgrade, and every name listed in the request's Connection header value.
bool is_hop_by_hop(std::string_view name, std::string_view connection_value);

}  // namespace awf::http
