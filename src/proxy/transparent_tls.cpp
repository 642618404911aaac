// The transparent TLS listener (port 443 in the sandbox): a connection is decided by the name
// in its ClientHello, then spliced to awf's own resolution of that name (or intercepted).
#include "proxy/client_hello_read.h"
#include "proxy/connection_scope.h"
#include "proxy/handlers.h"
#include "proxy/intercept.h"
#include "proxy/relay.h"
#include "proxy/upstream_connect.h"

namespace asio = boost::asio;

namespace awf::proxy {
namespace {

// A transparent TLS connection is named by its ClientHello's SNI alone: the address the
// command dialled is only logged (awf connects to its own resolution of the name). Without
// an SNI there is no name to decide, so the connection is refused (unlike a CONNECT, which
// named its host before TLS started).
VerdictRequest tls_request(HelloRead read, const tls::ClientHello& hello, const Endpoint& dialled) {
  VerdictRequest request;
  request.entry = Entry::Tls;
  request.port = dialled.port;
  if (read != HelloRead::Complete || !hello.has_sni) {
    request.url = request.host_field = dialled.text();
    request.unreadable = Unreadable{
        403,
        read != HelloRead::Complete ? hello_failure(read)
                                    : "TLS ClientHello without SNI (the name is needed to decide)",
        dialled.ip};
    return request;
  }
  request.host = hello.sni;
  request.url = request.host_field = display_name(hello.sni) + ":" + std::to_string(dialled.port);
  request.scan.host = true;
  return request;
}

asio::awaitable<void> intercept_tls(GatewayContext& context, TrackedSocket& tracked,
                                    tcp::socket& client, std::vector<std::uint8_t> bytes,
                                    const Verdict& verdict, std::uint16_t port, Attempt& attempt) {
  attempt.status = 200;
  const std::string refused = co_await serve_intercepted(
      context, tracked, client, std::move(bytes), verdict.name, port, attempt, attempt.counts);
  if (!refused.empty()) {
    attempt.allowed = false;
    attempt.status = 403;
    attempt.reason = refused;
  }
  record(context, attempt);
}

}  // namespace

asio::awaitable<void> serve_transparent_tls(GatewayContext& context, tcp::socket client) {
  ConnectionScope scope(context, client);
  Attempt attempt;
  attempt.kind = "tls";
  attempt.transport = "transparent";
  attempt.method = "CONNECT";
  if (!co_await scope.open(attempt)) co_return;
  const Endpoint dialled = local_endpoint(client);
  std::vector<std::uint8_t> bytes;
  tls::ClientHello hello;
  const HelloRead read = co_await read_client_hello(scope.tracked(), client, bytes, hello);
  Verdict verdict = decide(context, tls_request(read, hello, dialled));
  take_verdict(attempt, verdict);
  if (!verdict.allowed()) {
    record(context, attempt);
    co_return;  // closing is the only answer a TLS client can get without a certificate
  }
  if (verdict.route == Route::Intercept) {
    co_await intercept_tls(context, scope.tracked(), client, std::move(bytes), verdict,
                           dialled.port, attempt);
    co_return;
  }
  Upstream upstream = co_await connect_routed(context, verdict, dialled.port);
  if (!upstream.socket) {
    take_connect_failure(attempt, upstream);
    record(context, attempt);
    co_return;
  }
  co_await relay_and_record(context, scope, client, upstream, bytes, attempt);
}

}  // namespace awf::proxy
