// awf's own view of DNS, from the host side: resolving allowed names for the proxy (so it
// never connects to an address the command chose) and forwarding allowed queries for the
// sandbox's DNS listener. Two transports behind these two calls: plain DNS (c-ares driven by
// the gateway's event loop), or DNS over HTTPS (doh_client.h) once send_over_https() is called.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "dns/doh_http.h"

namespace boost::asio::ssl {
class context;
}

namespace awf::dns {

struct ResolveResult {
  std::vector<boost::asio::ip::address> addresses;  // IPv4 first, then IPv6
  std::string error;                                // "" on success
};

struct ForwardResult {
  std::vector<std::uint8_t> response;  // raw answer, ID restored to the query's
  std::string error;                   // "" on success
};

// Parses a --dns-servers entry (IPv4 or IPv6 literal, optional port as `1.2.3.4:53` or
// `[::1]:53`) into c-ares' `host:port` form. Throws std::invalid_argument naming the entry.
std::string dns_server_entry(std::string_view text);

class Resolver {
 public:
  // `servers`: entries from dns_server_entry(); empty means the host's /etc/resolv.conf
  // (loopback nameservers included: awf itself runs on the host). Throws SetupError.
  Resolver(boost::asio::io_context& io, const std::vector<std::string>& servers);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // From now on every upstream query goes to the DoH server at `url`, none as plain DNS. A
  // host name in the URL is resolved here, once, with the plain servers; an internal address
  // (loopback, RFC 1918, ...) is refused unless the URL names it as an IP literal. Call before
  // the loop runs (it runs the loop for that lookup). `tls` verifies the server. Throws
  // SetupError.
  void send_over_https(const DohUrl& url, std::shared_ptr<boost::asio::ssl::context> tls,
                       bool warn);

  // A and AAAA for `name` (cached for the records' TTL, at most 60 s).
  boost::asio::awaitable<ResolveResult> resolve(std::string name);

  // Sends `query` upstream as is (plain: TCP fallback on truncation) and returns the answer.
  boost::asio::awaitable<ForwardResult> forward(std::vector<std::uint8_t> query);

  // The servers in use, for logs ("203.0.113.53:53, ..." or the DoH URL).
  std::string servers_text() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace awf::dns
