// Byte relays: a tunnel copies both directions until both ended or it sat idle too long.
#include "proxy/relay.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>

#include "proxy/client_hello_read.h"
#include "proxy/splice.h"

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

namespace awf::proxy {
namespace {

// Agents stream for long stretches; only a tunnel with no byte either way for this long ends.
constexpr auto kTunnelIdleTimeout = std::chrono::minutes(30);

// One direction of a tunnel. End of stream is passed on as a half-close so the other
// direction can finish; an error ends both directions.
asio::awaitable<std::uint64_t> copy(tcp::socket& from, tcp::socket& to,
                                    std::chrono::steady_clock::time_point* activity) {
  const SpliceResult result = co_await splice_stream(from, to, std::nullopt, activity);
  boost::system::error_code ignored;
  if (result.eof && result.error == 0) {
    to.shutdown(tcp::socket::shutdown_send, ignored);
  } else {
    from.close(ignored);
    to.close(ignored);
  }
  co_return result.bytes;
}

// One direction of a tunnel; once either ended, the client has closed its socket or is
// about to (the process finder then expects its descriptor back).
asio::awaitable<std::uint64_t> copy_then_release(tcp::socket& from, tcp::socket& to,
                                                 std::chrono::steady_clock::time_point* activity,
                                                 ClientProcess* process) {
  const std::uint64_t bytes = co_await copy(from, to, activity);
  if (process != nullptr) process->release();
  co_return bytes;
}

// Completes when neither direction moved a byte for kTunnelIdleTimeout.
asio::awaitable<void> idle_watchdog(GatewayContext& context,
                                    const std::chrono::steady_clock::time_point& activity) {
  asio::steady_timer timer(context.io);
  for (;;) {
    const auto deadline = activity + kTunnelIdleTimeout;
    if (std::chrono::steady_clock::now() >= deadline) co_return;
    timer.expires_at(deadline);
    auto [ec] = co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
  }
}

// Runs both directions until they end or the tunnel sits idle too long (then both close).
asio::awaitable<RelayCounts> run_both(GatewayContext& context, tcp::socket& client,
                                      tcp::socket& upstream, asio::awaitable<std::uint64_t> up,
                                      asio::awaitable<std::uint64_t> down,
                                      std::chrono::steady_clock::time_point& activity, bool& idle) {
  RelayCounts counts;
  auto result = co_await ((std::move(up) && std::move(down)) || idle_watchdog(context, activity));
  if (result.index() == 0) {
    const auto [bytes_up, bytes_down] = std::get<0>(result);
    counts.up = bytes_up;
    counts.down = bytes_down;
  } else {
    idle = true;
    boost::system::error_code ignored;
    client.close(ignored);
    upstream.close(ignored);
  }
  co_return counts;
}

}  // namespace

asio::awaitable<RelayCounts> relay(GatewayContext& context, tcp::socket& client,
                                   tcp::socket& upstream,
                                   std::span<const std::uint8_t> client_first,
                                   ClientProcess* process) {
  RelayCounts counts;
  if (!client_first.empty()) {
    auto [error, n] =
        co_await asio::async_write(upstream, asio::buffer(client_first.data(), client_first.size()),
                                   asio::as_tuple(asio::use_awaitable));
    counts.up += n;
    if (error) co_return counts;
  }
  auto activity = std::chrono::steady_clock::now();
  bool idle = false;
  const RelayCounts both = co_await run_both(
      context, client, upstream, copy_then_release(client, upstream, &activity, process),
      copy_then_release(upstream, client, &activity, process), activity, idle);
  counts.up += both.up;
  counts.down += both.down;
  counts.idle_timeout = idle;
  co_return counts;
}

asio::awaitable<void> relay_and_record(GatewayContext& context, ConnectionScope& scope,
                                       tcp::socket& client, Upstream& upstream,
                                       std::span<const std::uint8_t> client_first,
                                       Attempt& attempt) {
  TrackedSocket tracked_upstream(context.connections, &*upstream.socket);
  attempt.allowed = true;
  attempt.status = 200;
  attempt.destination = upstream.endpoint;
  attempt.via_parent = upstream.via_parent;
  attempt.counts =
      co_await relay(context, client, *upstream.socket, client_first, &scope.process());
  if (attempt.counts.idle_timeout) attempt.reason += "; closed after the idle timeout";
  record(context, attempt);
}

asio::awaitable<std::string> run_connect_tunnel(GatewayContext& context,
                                                TrackedSocket& tracked_client, tcp::socket& client,
                                                tcp::socket& upstream, const std::string& host,
                                                bool tls_only, std::vector<std::uint8_t> pending,
                                                RelayCounts& counts, ClientProcess* process) {
  std::string denied;
  auto activity = std::chrono::steady_clock::now();
  // Client to upstream: the first bytes are inspected before anything is forwarded. The
  // upstream's bytes flow back meanwhile, since some protocols let the server speak first.
  auto inspect_then_copy = [&]() -> asio::awaitable<std::uint64_t> {
    bool closed = false;
    denied = co_await inspect_tunnel_start(tracked_client, client, host, tls_only, pending, closed);
    boost::system::error_code ignored;
    if (closed) {
      upstream.shutdown(tcp::socket::shutdown_send, ignored);
      co_return 0;
    }
    if (!denied.empty()) {
      client.close(ignored);
      upstream.close(ignored);
      co_return 0;
    }
    auto [error, n] = co_await asio::async_write(upstream, asio::buffer(pending),
                                                 asio::as_tuple(asio::use_awaitable));
    pending.clear();
    pending.shrink_to_fit();
    if (error) co_return n;
    co_return n + co_await copy_then_release(client, upstream, &activity, process);
  };
  bool idle = false;
  counts =
      co_await run_both(context, client, upstream, inspect_then_copy(),
                        copy_then_release(upstream, client, &activity, process), activity, idle);
  counts.idle_timeout = idle;
  co_return denied;
}

}  // namespace awf::proxy
