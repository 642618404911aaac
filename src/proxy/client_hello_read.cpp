// Reading a client's TLS ClientHello from its first bytes: the name a transparent TLS
// connection is decided by, and the check that a CONNECT tunnel's TLS names its host.
#include "proxy/client_hello_read.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "policy/domain_list.h"

namespace asio = boost::asio;

namespace awf::proxy {
namespace {

constexpr auto kHelloTimeout = std::chrono::seconds(10);

}  // namespace

asio::awaitable<HelloRead> read_client_hello(TrackedSocket& tracked, tcp::socket& client,
                                             std::vector<std::uint8_t>& bytes,
                                             tls::ClientHello& hello) {
  tracked.set_deadline(kHelloTimeout);
  std::uint8_t chunk[16 * 1024];
  for (;;) {
    if (!bytes.empty()) {
      hello = tls::parse_client_hello(bytes);
      switch (hello.status) {
        case tls::HelloStatus::Complete:
          tracked.clear_deadline();
          co_return HelloRead::Complete;
        case tls::HelloStatus::NotTls:
          co_return HelloRead::NotTls;
        case tls::HelloStatus::Malformed:
          co_return HelloRead::Malformed;
        case tls::HelloStatus::NeedMore:
          break;
      }
    }
    const auto [error, n] =
        co_await client.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
    if (error) co_return tracked.expired() ? HelloRead::TimedOut : HelloRead::Closed;
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
}

std::string hello_failure(HelloRead read) {
  switch (read) {
    case HelloRead::NotTls:
      return "not a TLS ClientHello";
    case HelloRead::Malformed:
      return "malformed TLS ClientHello";
    case HelloRead::Closed:
      return "client closed before its ClientHello";
    case HelloRead::TimedOut:
      return "no ClientHello within 10 s";
    case HelloRead::Complete:
      break;
  }
  return "";
}

asio::awaitable<std::string> inspect_tunnel_start(TrackedSocket& tracked_client,
                                                  tcp::socket& client, const std::string& host,
                                                  bool tls_only, std::vector<std::uint8_t>& pending,
                                                  bool& closed) {
  if (pending.empty()) {
    std::vector<std::uint8_t> chunk(16 * 1024);
    auto [error, n] =
        co_await client.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
    if (error) {
      closed = true;
      co_return "";
    }
    chunk.resize(n);
    pending = std::move(chunk);
  }
  // Not TLS: nothing more to check, unless the name's rules allow https:// only (then plain
  // HTTP would ride an https-only rule). The CONNECT named the host, the policy allowed it,
  // and awf connected to its own resolution of that name: whatever protocol runs in the
  // tunnel reaches that host and no other. The SNI check below exists for TLS alone, where
  // the name inside could make a shared front end (a CDN) route to another site (domain
  // fronting).
  if (pending[0] != 0x16) {
    if (!tls_only) co_return "";
    co_return "the tunnel does not begin with TLS, and '" + host + "' is allowed for https:// only";
  }
  // A TLS handshake record: the SNI must name the CONNECT host. A ClientHello without SNI is
  // let through: the tunnel's destination was decided by the CONNECT's name already, and a
  // TLS client without SNI cannot ask a shared front end for another site by name. (A
  // transparent connection has no CONNECT: there the SNI is the only name there is to
  // decide by, so a ClientHello without one is refused.)
  tls::ClientHello hello;
  const HelloRead read = co_await read_client_hello(tracked_client, client, pending, hello);
  if (read != HelloRead::Complete) co_return hello_failure(read);
  if (hello.has_sni && policy::normalize_host(hello.sni) != host) {
    co_return "TLS SNI '" + hello.sni + "' does not match CONNECT host '" + host + "'";
  }
  co_return "";
}

}  // namespace awf::proxy
