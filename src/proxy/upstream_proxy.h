// --upstream-proxy: the parent proxy's URL, the no_proxy list, and the answer awf reads from
// the parent after its CONNECT. Pure: no I/O (the gateway and the CLI do that).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace awf::proxy {

struct ProxyUrl {
  std::string host;  // lowercase name, IPv4 literal, or IPv6 literal (no brackets)
  std::uint16_t port = 3128;
  bool has_userinfo = false;
  std::string user;      // percent-decoded
  std::string password;  // percent-decoded; never logged

  // "http://host:port", "http://user:***@host:port": what messages and logs show.
  std::string redacted() const;
  // "Basic <base64(user:password)>", or "" without userinfo.
  std::string authorization() const;
  // "host:port" ("[v6]:port").
  std::string authority() const;
};

// Parses `http://[user[:pass]@]host[:port][/]` (scheme case-insensitive, port 1-65535,
// default 3128). Throws std::invalid_argument with a message naming the problem (the message
// never repeats the password).
ProxyUrl parse_proxy_url(std::string_view url);

// Where awf looks for a parent proxy when --upstream-proxy is absent, in order: the first
// variable that is set and not empty is used.
inline constexpr const char* kProxyVariables[] = {"https_proxy", "HTTPS_PROXY", "http_proxy",
                                                  "HTTP_PROXY"};
inline constexpr const char* kNoProxyVariables[] = {"no_proxy", "NO_PROXY"};

// The host's no_proxy list: names (and addresses) that go direct instead of via the parent.
// Comma-separated entries (spaces around them ignored); `*` means everything; `example.com`,
// `.example.com` and `*.example.com` match the name and all its subdomains; a `:port` suffix
// is ignored; an IP literal matches that address exactly, `addr/len` a CIDR range.
class NoProxy {
 public:
  NoProxy() = default;
  static NoProxy parse(std::string_view list);
  // `host`: a normalized name (lowercase, no trailing dot) or an IP literal (brackets allowed).
  bool matches(std::string_view host) const;
  bool empty() const { return !all_ && names_.empty() && ranges_.empty(); }

 private:
  struct Range {
    bool v6 = false;
    std::uint8_t bytes[16] = {};
    unsigned prefix = 0;
  };
  bool all_ = false;
  std::vector<std::string> names_;
  std::vector<Range> ranges_;
};

// The parent's answer to CONNECT: the status of its response head ("HTTP/1.x NNN ...").
// `head` holds the bytes read so far. Returns the offset just past the head's blank line, or
// 0 while it is incomplete.
std::size_t parent_head_end(std::string_view head);
// The status code of a complete head, or nullopt when the first line is no HTTP status line.
std::optional<int> parent_status(std::string_view head);

// "CONNECT host:port HTTP/1.1\r\nHost: host:port\r\n[Proxy-Authorization: ...\r\n]\r\n".
std::string connect_request(const ProxyUrl& parent, std::string_view host, std::uint16_t port);

}  // namespace awf::proxy
