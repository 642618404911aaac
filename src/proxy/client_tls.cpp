#include "proxy/client_tls.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "proxy/http_head.h"

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;

namespace awf::proxy {
namespace {

constexpr auto kHandshakeTimeout = std::chrono::seconds(30);

bool is_ip_literal(const std::string& host) {
  boost::system::error_code error;
  asio::ip::make_address(host, error);
  return !error;
}

}  // namespace

std::shared_ptr<const ClientTls> make_client_tls(const std::string& ca_file,
                                                 const std::string& flag) {
  auto tls = std::make_shared<ClientTls>();
  SSL_CTX* native = tls->context.native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  boost::system::error_code error;
  tls->context.set_default_verify_paths(error);  // a machine without a bundle still has the file
  if (!ca_file.empty() && SSL_CTX_load_verify_locations(native, ca_file.c_str(), nullptr) != 1) {
    throw std::runtime_error(flag + " '" + ca_file +
                             "': no PEM certificate could be loaded from it");
  }
  tls->context.set_verify_mode(ssl::verify_peer);
  // HTTP/1.1 only: the relay speaks nothing else, so the origin must not pick h2.
  static constexpr unsigned char kAlpn[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_CTX_set_alpn_protos(native, kAlpn, sizeof kAlpn);
  return tls;
}

void TlsUpstream::reset() {
  tracked.reset();
  stream.reset();
  buffer.clear();
}

asio::awaitable<Upstream> connect_tls(GatewayContext& context, const ClientTls& tls,
                                      const std::string& host, std::uint16_t port,
                                      TlsUpstream& connection) {
  connection.reset();
  Upstream upstream = co_await connect_upstream(context, host, port);
  if (!upstream.socket) co_return upstream;
  connection.stream.emplace(std::move(*upstream.socket), tls.context);
  connection.tracked.emplace(context.connections, &connection.stream->next_layer());
  SSL* native = connection.stream->native_handle();
  if (is_ip_literal(host)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(native), host.c_str());
  } else {
    SSL_set_tlsext_host_name(native, host.c_str());
    SSL_set1_host(native, host.c_str());
  }
  connection.tracked->set_deadline(kHandshakeTimeout);
  auto [error] = co_await connection.stream->async_handshake(ssl::stream_base::client,
                                                             asio::as_tuple(asio::use_awaitable));
  const bool expired = connection.tracked->expired();
  connection.tracked->clear_deadline();
  if (error) {
    const long verify = SSL_get_verify_result(native);
    upstream.failure = ConnectFailure::Unreachable;
    upstream.reason = "TLS to " + http::format_authority(host, port, 443) + " failed: " +
                      (expired               ? std::string("handshake timed out")
                       : verify != X509_V_OK ? std::string("certificate verification failed (") +
                                                   X509_verify_cert_error_string(verify) + ")"
                                             : error.message());
    connection.reset();
    co_return upstream;
  }
  connection.endpoint = upstream.endpoint;
  connection.via_parent = upstream.via_parent;
  upstream.socket.reset();
  co_return upstream;
}

}  // namespace awf::proxy
