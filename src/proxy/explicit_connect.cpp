#include "proxy/explicit_connect.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffers_iterator.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "proxy/http_head.h"
#include "proxy/http_relay.h"
#include "proxy/intercept.h"
#include "proxy/relay.h"
#include "proxy/upstream_connect.h"

namespace asio = boost::asio;
namespace beast = boost::beast;

namespace awf::proxy {
namespace {

// The verdict's question for CONNECT host:port.
VerdictRequest connect_verdict_request(const std::string& target, const std::string& host_field) {
  VerdictRequest request;
  request.entry = Entry::Connect;
  request.url = target;
  request.host_field = host_field.empty() ? target : host_field;
  request.scan.url = true;
  const auto authority = awf::http::parse_authority(target, 0);
  if (authority) {
    request.host = authority->host;
    request.port = authority->port;
  }
  if (!authority || authority->port == 0) {
    request.unreadable = Unreadable{400, "CONNECT target must be host:port", target};
  }
  return request;
}

// Answers 200 and takes what the client sent after its request head: the tunnel's first
// bytes. A tunnel never parses HTTP again, so the head buffer is given back (idle tunnels add
// up). False: the client is gone.
asio::awaitable<bool> establish(tcp::socket& client, beast::flat_buffer& buffer,
                                std::vector<std::uint8_t>& pending) {
  static constexpr char kEstablished[] = "HTTP/1.1 200 Connection established\r\n\r\n";
  auto [error, n] =
      co_await asio::async_write(client, asio::buffer(kEstablished, sizeof kEstablished - 1),
                                 asio::as_tuple(asio::use_awaitable));
  if (error) co_return false;
  const auto bytes = buffer.data();
  pending.assign(asio::buffers_begin(bytes), asio::buffers_end(bytes));
  buffer.consume(buffer.size());
  buffer.shrink_to_fit();
  co_return true;
}

// --ssl-bump: the tunnel's TLS ends at awf; each request in it is decided and recorded on its
// own, and the CONNECT record sums them up.
asio::awaitable<void> intercept_connect(GatewayContext& context, ConnectionScope& scope,
                                        tcp::socket& client, beast::flat_buffer& buffer,
                                        Attempt& attempt, std::uint16_t port) {
  attempt.status = 200;
  std::vector<std::uint8_t> pending;
  if (co_await establish(client, buffer, pending)) {
    const std::string refused =
        co_await serve_intercepted(context, scope.tracked(), client, std::move(pending),
                                   attempt.name, port, attempt, attempt.counts);
    if (!refused.empty()) {
      attempt.allowed = false;
      attempt.status = 403;
      attempt.reason = refused;
    }
  }
  record(context, attempt);
}

// A spliced tunnel to the connected `upstream`, its first TLS bytes checked.
asio::awaitable<void> tunnel(GatewayContext& context, ConnectionScope& scope, tcp::socket& client,
                             beast::flat_buffer& buffer, Upstream& upstream, bool tls_only,
                             Attempt& attempt) {
  TrackedSocket tracked_upstream(context.connections, &*upstream.socket);
  std::vector<std::uint8_t> pending;
  const bool established = co_await establish(client, buffer, pending);
  attempt.destination = upstream.endpoint;
  attempt.via_parent = upstream.via_parent;
  attempt.allowed = true;
  attempt.status = 200;
  if (established) {
    const std::string denied = co_await run_connect_tunnel(
        context, scope.tracked(), client, *upstream.socket, attempt.name, tls_only,
        std::move(pending), attempt.counts, &scope.process());
    if (attempt.counts.idle_timeout) attempt.reason += "; closed after the idle timeout";
    if (!denied.empty()) {
      // Nothing the client sent reached the origin: the record shows no destination.
      attempt.destination.reset();
      attempt.allowed = false;
      attempt.status = 403;
      attempt.reason = denied;
    }
  }
  record(context, attempt);
}

}  // namespace

asio::awaitable<void> serve_connect(GatewayContext& context, ConnectionScope& scope,
                                    tcp::socket& client, beast::flat_buffer& buffer,
                                    const std::string& target, Attempt& attempt) {
  attempt.kind = "connect";
  VerdictRequest question = connect_verdict_request(target, attempt.host_field);
  const std::uint16_t port = question.port;
  Verdict verdict = decide(context, std::move(question));
  take_verdict(attempt, verdict);
  if (!verdict.allowed()) {
    co_await refuse_verdict(context, client, attempt, verdict);
    co_return;
  }
  if (verdict.route == Route::Intercept) {
    co_await intercept_connect(context, scope, client, buffer, attempt, port);
    co_return;
  }
  Upstream upstream = co_await connect_routed(context, verdict, port);
  if (!upstream.socket) {
    take_connect_failure(attempt, upstream);
    co_await refuse_connect_failure(context, client, attempt, upstream);
    co_return;
  }
  co_await tunnel(context, scope, client, buffer, upstream, verdict.tls_only, attempt);
}

}  // namespace awf::proxy
