// The DNS-over-HTTPS transport (RFC 8484) behind the resolver: one kept-alive HTTPS/1.1
// connection to the DoH server, verified like every TLS connection awf makes (trust store,
// server name, TLS 1.2+), queries sent one at a time in arrival order. Lives on the
// resolver's loop; every method runs there.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <memory>
#include <vector>

#include "dns/doh_http.h"
#include "dns/resolver.h"

namespace awf::dns {

struct DohServer {
  DohUrl url;
  // Where the server is: the URL's IP literal, or the addresses its name had at start.
  std::vector<boost::asio::ip::tcp::endpoint> endpoints;
  std::shared_ptr<boost::asio::ssl::context> tls;
  bool warn = true;  // print a failure to stderr (each new reason once)
};

class DohClient {
 public:
  DohClient(boost::asio::io_context& io, DohServer server);
  ~DohClient();
  DohClient(const DohClient&) = delete;
  DohClient& operator=(const DohClient&) = delete;

  // Sends `query` (with ID 0 on the wire, as RFC 8484 asks; the answer gets the query's ID
  // back) and returns the answer, or an error after at most a few seconds.
  boost::asio::awaitable<ForwardResult> exchange(std::vector<std::uint8_t> query);

  // Closes the connection and fails every waiting query.
  void shutdown();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace awf::dns
