#include "proxy/connection_scope.h"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstring>

namespace asio = boost::asio;

namespace awf::proxy {
namespace {

void copy_address(const asio::ip::address& address, std::array<std::uint8_t, 16>& out) {
  if (address.is_v4()) {
    const auto bytes = address.to_v4().to_bytes();
    std::memcpy(out.data(), bytes.data(), bytes.size());
  } else {
    const auto bytes = address.to_v6().to_bytes();
    std::memcpy(out.data(), bytes.data(), bytes.size());
  }
}

}  // namespace

asio::awaitable<void> ClientProcess::find(const tcp::socket& client) {
  sandbox::PeerFinder* peers = context_.peers;
  if (peers == nullptr) co_return;
  boost::system::error_code remote_error;
  boost::system::error_code local_error;
  const tcp::endpoint remote = client.remote_endpoint(remote_error);
  const tcp::endpoint local = client.local_endpoint(local_error);
  if (remote_error || local_error) co_return;
  sandbox::SocketTuple tuple;
  tuple.ipv6 = remote.address().is_v6();
  copy_address(remote.address(), tuple.client_address);
  tuple.client_port = remote.port();
  copy_address(local.address(), tuple.server_address);
  tuple.server_port = local.port();
  const std::uint32_t inode = peers->socket_inode(tuple);
  // A client that closed a connection and opened this one at once most likely got the
  // closed one's descriptor back, but awf may not have handled that close yet: before
  // reading every descriptor of the sandbox, let the loop run a little (the client waits
  // for its answer meanwhile, so its socket stays).
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (std::optional<sandbox::PeerProcess> found = peers->find_quickly(inode, attempt > 0)) {
      process_ = std::move(*found);
      co_return;
    }
    if (attempt == 0) {
      co_await asio::post(context_.io, asio::use_awaitable);
    } else {
      asio::steady_timer timer(context_.io);
      timer.expires_after(std::chrono::microseconds(500));
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
  }
  process_ = peers->find(inode);
}

ClientProcess::~ClientProcess() {
  release();
}

void ClientProcess::release() {
  if (context_.peers == nullptr || released_) return;
  released_ = true;
  context_.peers->release(process_);
}

ConnectionScope::ConnectionScope(GatewayContext& context, tcp::socket& client)
    : context_(context),
      client_(client),
      tracked_(context.connections, &client),
      slot_(context.budget),
      process_(context) {}

asio::awaitable<bool> ConnectionScope::open(Attempt& attempt) {
  attempt.client = remote_endpoint(client_);
  // Admission first, the process lookup only after it: the lookup may read every descriptor
  // of the sandbox (a /proc walk), and a flood of connections over the budget must not make
  // awf pay that walk once per connection it is about to refuse anyway.
  if (!slot_.admitted()) {
    attempt.status = 503;
    attempt.reason =
        "too many open connections (limit " + std::to_string(context_.budget.limit) + ")";
    record(context_, attempt);
    co_return false;
  }
  // No traffic without a record (audit/log_writer.h): while the logs cannot be written, a new
  // connection is refused and counted for the exit message (its record could not be written).
  if (!context_.log.recording()) {
    context_.log.note_refused_unrecorded();
    attempt.status = 503;
    attempt.reason = "the logs cannot be written (awf's stderr says why)";
    co_return false;
  }
  co_await process_.find(client_);
  attempt.process = process_.get();
  co_return true;
}

}  // namespace awf::proxy
