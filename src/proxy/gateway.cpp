#include "proxy/gateway.h"

#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <list>

#include "dns/stub_server.h"
#include "proxy/gateway_internal.h"

namespace asio = boost::asio;

namespace awf::proxy {
namespace {

int socket_family(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return address.ss_family;
}

}  // namespace

struct Gateway::Impl : std::enable_shared_from_this<Impl> {
  GatewayContext context;
  dns::StubServer dns;
  std::list<std::shared_ptr<tcp::acceptor>> acceptors;

  Impl(asio::io_context& io, const policy::Policy& policy, dns::Resolver& resolver,
       audit::LogWriter& log)
      : context{io, policy, resolver, log, {}, false}, dns(io, policy, resolver, log) {}

  using Handler = asio::awaitable<void> (*)(GatewayContext&, tcp::socket);

  asio::awaitable<void> accept_loop(std::shared_ptr<tcp::acceptor> acceptor, Handler handler) {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket =
          co_await acceptor->async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (context.stopping || ec == asio::error::operation_aborted) co_return;
        continue;  // EMFILE, ECONNABORTED: keep serving the others
      }
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      // The handler's frame owns a reference to the gateway: frames still suspended when
      // awf shuts down are destroyed with the event loop, after the Gateway object.
      asio::co_spawn(
          context.io,
          [self = shared_from_this(), handler,
           socket = std::move(socket)]() mutable -> asio::awaitable<void> {
            co_await handler(self->context, std::move(socket));
          },
          asio::detached);
    }
  }

  void add_acceptor(UniqueFd fd, Handler handler) {
    const tcp protocol = socket_family(fd.get()) == AF_INET6 ? tcp::v6() : tcp::v4();
    auto acceptor = std::make_shared<tcp::acceptor>(context.io, protocol, fd.release());
    acceptors.push_back(acceptor);
    asio::co_spawn(
        context.io,
        [self = shared_from_this(), acceptor, handler]() -> asio::awaitable<void> {
          co_await self->accept_loop(acceptor, handler);
        },
        asio::detached);
  }
};

Gateway::Gateway(asio::io_context& io, const policy::Policy& policy, dns::Resolver& resolver,
                 audit::LogWriter& log)
    : impl_(std::make_shared<Impl>(io, policy, resolver, log)) {}

Gateway::~Gateway() = default;

void Gateway::serve(std::vector<sandbox::Listener> listeners) {
  using sandbox::ListenerKind;
  for (sandbox::Listener& listener : listeners) {
    switch (listener.kind) {
      case ListenerKind::ExplicitProxy:
        impl_->add_acceptor(std::move(listener.fd), &serve_explicit_proxy);
        break;
      case ListenerKind::TransparentHttp:
        impl_->add_acceptor(std::move(listener.fd), &serve_transparent_http);
        break;
      case ListenerKind::TransparentTls:
        impl_->add_acceptor(std::move(listener.fd), &serve_transparent_tls);
        break;
      case ListenerKind::DnsUdp:
        impl_->dns.serve_udp(std::move(listener.fd));
        break;
      case ListenerKind::DnsTcp:
        impl_->dns.serve_tcp(std::move(listener.fd));
        break;
    }
  }
}

void Gateway::stop() {
  impl_->context.stopping = true;
  for (auto& acceptor : impl_->acceptors) {
    boost::system::error_code ignored;
    acceptor->close(ignored);
  }
  impl_->context.connections.close_all();
  impl_->dns.stop();
}

}  // namespace awf::proxy
