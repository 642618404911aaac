#include "proxy/endpoint.h"

namespace asio = boost::asio;
using boost::asio::ip::tcp;

namespace awf::proxy {

std::string Endpoint::text() const {
  return ip.find(':') != std::string::npos ? "[" + ip + "]:" + std::to_string(port)
                                           : ip + ":" + std::to_string(port);
}

Endpoint endpoint_of(const tcp::endpoint& endpoint) {
  Endpoint result;
  asio::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  result.ip = address.to_string();
  result.port = endpoint.port();
  return result;
}

Endpoint remote_endpoint(const tcp::socket& socket) {
  boost::system::error_code ec;
  const tcp::endpoint endpoint = socket.remote_endpoint(ec);
  return ec ? Endpoint{} : endpoint_of(endpoint);
}

Endpoint local_endpoint(const tcp::socket& socket) {
  boost::system::error_code ec;
  const tcp::endpoint endpoint = socket.local_endpoint(ec);
  return ec ? Endpoint{} : endpoint_of(endpoint);
}

}  // namespace awf::proxy
