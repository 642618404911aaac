// The two ends of a client connection as the records show them.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>

namespace awf::proxy {

struct Endpoint {
  std::string ip;  // no brackets; an IPv4-mapped IPv6 address as IPv4
  std::uint16_t port = 0;
  std::string text() const;  // "ip:port" or "[v6]:port"
};
Endpoint endpoint_of(const boost::asio::ip::tcp::endpoint& endpoint);
// The client's address; the address and port it dialled (empty when the socket is gone).
Endpoint remote_endpoint(const boost::asio::ip::tcp::socket& socket);
Endpoint local_endpoint(const boost::asio::ip::tcp::socket& socket);

}  // namespace awf::proxy
