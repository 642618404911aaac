#include "proxy/gateway.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>
#include <list>
#include <thread>

#include "common/error.h"
#include "dns/stub_server.h"
#include "policy/host_access.h"
#include "proxy/gateway_context.h"
#include "proxy/handlers.h"
#include "proxy/loopback_watch.h"

namespace asio = boost::asio;

namespace awf::proxy {
namespace {

int socket_family(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return address.ss_family;
}

using Handler = asio::awaitable<void> (*)(GatewayContext&, tcp::socket);

// A client connection costs up to six descriptors (two sockets, two pipes when spliced).
std::size_t connection_limit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) < 0 || limit.rlim_cur == RLIM_INFINITY) return 16384;
  const rlim_t usable = limit.rlim_cur > 256 ? limit.rlim_cur - 256 : 0;
  return std::clamp<std::size_t>(usable / 6, 64, 16384);
}

// One event loop on its own thread. Every worker accepts on every proxy listener (each has
// its own descriptor for it), and a connection stays on the worker that accepted it.
struct Worker {
  Worker(const policy::Policy& policy, const GatewayOptions& options, dns::Resolver& resolver,
         audit::LogWriter& log, ConnectionBudget& budget)
      : context{io, policy, options, resolver, log, budget, {}, false} {}

  std::list<std::shared_ptr<tcp::acceptor>> acceptors;
  std::thread thread;
  std::atomic<bool> finished{false};
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> guard;
  GatewayContext context;
  // Destroyed before the context: handler frames still suspended in the loop are destroyed
  // while the context they refer to still exists.
  asio::io_context io{1};
  asio::steady_timer sweep_timer{io};
  asio::steady_timer stop_timer{io};
};

constexpr auto kSweepInterval = std::chrono::milliseconds(250);
constexpr auto kStopGrace = std::chrono::milliseconds(50);

// Block beats allow: a block rule that covers host.docker.internal leaves it to the policy.
GatewayOptions effective_options(GatewayOptions options, const policy::Policy& policy) {
  if (options.host_access && policy::blocks_host_access(policy)) options.host_access = false;
  return options;
}

dns::StubOptions stub_options(const GatewayOptions& options) {
  dns::StubOptions stub;
  stub.host_access = options.host_access;
  stub.dlp = options.dlp;
  stub.host_addresses = options.host_addresses;
  for (const peers::Peer& peer : options.peers) {
    dns::StubOptions::PeerName name;
    name.name = peer.name;
    std::transform(name.name.begin(), name.name.end(), name.name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (inet_pton(AF_INET, peer.address.c_str(), name.ipv4) == 1) stub.peers.push_back(name);
  }
  if (options.api_proxy.enabled) {
    // AWF's hostname for the API proxy: answered locally, so it never leaks upstream.
    stub.peers.push_back({"api-proxy", {127, 0, 0, 1}, "the API proxy"});
  }
  return stub;
}

// The handler of a proxy listener kind; nullptr for the other kinds (the socket finder is
// taken before, DNS and the trace sockets are served on the main loop) and for a listener
// whose feature is off.
Handler handler_for(sandbox::ListenerKind kind, const GatewayOptions& options) {
  using sandbox::ListenerKind;
  switch (kind) {
    case ListenerKind::ExplicitProxy:
      return &serve_explicit_proxy;
    case ListenerKind::TransparentHttp:
      return &serve_transparent_http;
    case ListenerKind::TransparentTls:
      return &serve_transparent_tls;
    case ListenerKind::Peer:
      return &serve_peer;
    case ListenerKind::ApiProxy:
      return options.api_proxy.enabled ? &serve_api_proxy : nullptr;
    // Created only for --enable-host-access; a block rule on the host closes them.
    case ListenerKind::HostPort:
      return options.host_access ? &serve_host_port : nullptr;
    default:
      return nullptr;
  }
}

// Enforces the deadlines handlers set on their sockets (header, ClientHello, connect).
asio::awaitable<void> sweep_loop(Worker& worker) {
  for (;;) {
    worker.sweep_timer.expires_after(kSweepInterval);
    const auto [ec] = co_await worker.sweep_timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec || worker.context.stopping) co_return;
    worker.context.connections.sweep(std::chrono::steady_clock::now());
  }
}

}  // namespace

struct Gateway::Impl : std::enable_shared_from_this<Impl> {
  asio::io_context& main_io;
  const GatewayOptions options;  // the workers' contexts refer to it
  dns::StubServer dns;
  LoopbackWatch loopback_watch;
  ConnectionBudget budget;
  std::vector<std::unique_ptr<Worker>> workers;
  std::shared_ptr<sandbox::PeerFinder> peers;

  Impl(asio::io_context& io, const policy::Policy& policy, dns::Resolver& resolver,
       audit::LogWriter& log, unsigned threads, GatewayOptions gateway_options)
      : main_io(io),
        options(effective_options(std::move(gateway_options), policy)),
        dns(io, policy, resolver, log, stub_options(options)),
        loopback_watch(io, log) {
    budget.limit = connection_limit();
    for (unsigned i = 0; i < threads; ++i) {
      workers.push_back(std::make_unique<Worker>(policy, options, resolver, log, budget));
    }
  }

  asio::awaitable<void> accept_loop(Worker& worker, std::shared_ptr<tcp::acceptor> acceptor,
                                    Handler handler) {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket =
          co_await acceptor->async_accept(asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (worker.context.stopping || ec == asio::error::operation_aborted) co_return;
        continue;  // EMFILE, ECONNABORTED: keep serving the others
      }
      boost::system::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      // A topology peer's port 80 or 443 arrives at the transparent listeners (a listener
      // of its own could not share the port with theirs): its own relay takes it.
      Handler serve = handler;
      if ((handler == &serve_transparent_http || handler == &serve_transparent_tls) &&
          dialled_peer(worker.context, socket) != nullptr) {
        serve = &serve_peer;
      }
      // The frame owns a reference to the gateway, so whatever it refers to outlives it.
      asio::co_spawn(
          worker.io,
          [self = shared_from_this(), &worker, serve, socket = std::move(socket)]() mutable
          -> asio::awaitable<void> { co_await serve(worker.context, std::move(socket)); },
          asio::detached);
    }
  }

  void add_listener(UniqueFd fd, Handler handler) {
    const tcp protocol = socket_family(fd.get()) == AF_INET6 ? tcp::v6() : tcp::v4();
    for (std::size_t i = 0; i < workers.size(); ++i) {
      Worker& worker = *workers[i];
      const int own = i + 1 == workers.size() ? fd.release() : fcntl(fd.get(), F_DUPFD_CLOEXEC, 0);
      if (own < 0) throw errno_error("dup listener");
      auto acceptor = std::make_shared<tcp::acceptor>(worker.io, protocol, own);
      worker.acceptors.push_back(acceptor);
      asio::co_spawn(
          worker.io,
          [self = shared_from_this(), &worker, acceptor, handler]() -> asio::awaitable<void> {
            co_await self->accept_loop(worker, acceptor, handler);
          },
          asio::detached);
    }
  }

  void start_threads() {
    for (auto& worker : workers) {
      Worker* w = worker.get();
      asio::co_spawn(
          w->io,
          [self = shared_from_this(), w]() -> asio::awaitable<void> { co_await sweep_loop(*w); },
          asio::detached);
      w->guard.emplace(w->io.get_executor());
      w->thread = std::thread([w, &main = main_io] {
        w->io.run();
        w->finished = true;
        // Wakes the main loop, which waits for finished() after stop().
        asio::post(main, [] {});
      });
    }
  }

  void join() {
    for (auto& worker : workers) {
      if (!worker->thread.joinable()) continue;
      worker->io.stop();
      worker->thread.join();
    }
  }
};

Gateway::Gateway(asio::io_context& io, const policy::Policy& policy, dns::Resolver& resolver,
                 audit::LogWriter& log, unsigned threads, GatewayOptions options)
    : impl_(std::make_shared<Impl>(io, policy, resolver, log, std::max(1u, threads),
                                   std::move(options))) {}

Gateway::~Gateway() {
  impl_->join();
  impl_->workers.clear();
}

void Gateway::serve(std::vector<sandbox::Listener> listeners) {
  using sandbox::ListenerKind;
  // First the process finder, so every handler can name its client from the start.
  for (sandbox::Listener& listener : listeners) {
    if (listener.kind != ListenerKind::SocketDiag || impl_->peers) continue;
    impl_->peers =
        std::make_shared<sandbox::PeerFinder>(std::move(listener.fd), listener.sandbox_init);
    for (auto& worker : impl_->workers) worker->context.peers = impl_->peers.get();
    impl_->dns.name_clients_with(impl_->peers);
  }
  for (sandbox::Listener& listener : listeners) {
    switch (listener.kind) {
      case ListenerKind::DnsUdp:
        impl_->dns.serve_udp(std::move(listener.fd));
        break;
      case ListenerKind::DnsTcp:
        impl_->dns.serve_tcp(std::move(listener.fd));
        break;
      case ListenerKind::LoopbackWatch:
        impl_->loopback_watch.serve(std::move(listener.fd));
        break;
      default:
        if (const Handler handler = handler_for(listener.kind, impl_->options)) {
          impl_->add_listener(std::move(listener.fd), handler);
        }
        break;
    }
  }
  impl_->start_threads();
}

void Gateway::stop() {
  impl_->dns.stop();
  impl_->loopback_watch.stop();
  for (auto& worker : impl_->workers) {
    Worker* w = worker.get();
    asio::post(w->io, [w] {
      w->context.stopping = true;
      w->sweep_timer.cancel();
      for (auto& acceptor : w->acceptors) {
        boost::system::error_code ignored;
        acceptor->close(ignored);
      }
      // What already arrived is still handled (a client's TLS alert, the last bytes of an
      // answer), so that its record says what happened; then every connection is closed.
      const auto close_connections = [w] {
        w->context.connections.close_all();
        w->guard.reset();
      };
      if (w->context.connections.empty()) {
        close_connections();
        return;
      }
      w->stop_timer.expires_after(kStopGrace);
      w->stop_timer.async_wait(
          [close_connections](const boost::system::error_code&) { close_connections(); });
    });
  }
}

bool Gateway::finished() const {
  for (const auto& worker : impl_->workers) {
    if (!worker->finished) return false;
  }
  return true;
}

void Gateway::join() {
  impl_->join();
}

}  // namespace awf::proxy
