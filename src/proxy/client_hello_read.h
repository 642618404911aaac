// Reading a client's TLS ClientHello from its first bytes (bounded in time: a client that
// sends nothing is cut off), for the transparent TLS listener and CONNECT tunnels.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "proxy/client_hello.h"
#include "proxy/socket_registry.h"

namespace awf::proxy {

enum class HelloRead { Complete, NotTls, Malformed, Closed, TimedOut };

// Reads from `client` into `bytes` until the ClientHello is complete (or clearly is not one).
boost::asio::awaitable<HelloRead> read_client_hello(TrackedSocket& tracked, tcp::socket& client,
                                                    std::vector<std::uint8_t>& bytes,
                                                    tls::ClientHello& hello);

// Why a ClientHello could not be read ("" for Complete).
std::string hello_failure(HelloRead read);

// The first bytes a CONNECT client sends (in `pending`, read here when empty): returns "" to
// go on, or the reason to close the tunnel (a TLS SNI other than `host`; anything but TLS when
// `tls_only`). `closed`: the client closed before sending any.
boost::asio::awaitable<std::string> inspect_tunnel_start(TrackedSocket& tracked,
                                                         tcp::socket& client,
                                                         const std::string& host, bool tls_only,
                                                         std::vector<std::uint8_t>& pending,
                                                         bool& closed);

}  // namespace awf::proxy
