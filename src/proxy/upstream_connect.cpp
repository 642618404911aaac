// Connections from awf to where an allowed request goes: awf's own resolution of the name
// (never an address the client chose), the internal-address refusal, the upstream proxy.
#include "proxy/upstream_connect.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstring>

#include "policy/address_class.h"
#include "policy/host_access.h"
#include "policy/host_addresses.h"
#include "proxy/gateway.h"
#include "proxy/upstream_proxy.h"

namespace asio = boost::asio;

namespace awf::proxy {
namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(10);
// The upstream proxy's answer to CONNECT: its whole head within this time and size.
constexpr auto kParentAnswerTimeout = std::chrono::seconds(10);
constexpr std::size_t kMaxParentHead = 16 * 1024;

std::optional<std::string> internal_reason(const asio::ip::address& address) {
  if (address.is_v4()) {
    in_addr raw{};
    const auto bytes = address.to_v4().to_bytes();
    std::memcpy(&raw, bytes.data(), bytes.size());
    return policy::internal_address_reason(raw);
  }
  in6_addr raw{};
  const auto bytes = address.to_v6().to_bytes();
  std::memcpy(&raw, bytes.data(), bytes.size());
  return policy::internal_address_reason(raw);
}

// A daemon on 0.0.0.0 answers on the host's public addresses too: reaching one is reaching the
// host, which only --enable-host-access may open, per port.
bool host_port_open(const GatewayOptions& options, std::uint16_t port) {
  return options.host_access && policy::host_port_open(options.host_ports, port);
}

bool is_host_address(const policy::HostAddresses& host, const asio::ip::address& address) {
  if (address.is_v4()) {
    in_addr raw{};
    const auto bytes = address.to_v4().to_bytes();
    std::memcpy(&raw, bytes.data(), bytes.size());
    return host.contains(raw);
  }
  in6_addr raw{};
  const auto bytes = address.to_v6().to_bytes();
  std::memcpy(&raw, bytes.data(), bytes.size());
  return host.contains(raw);
}

}  // namespace

asio::awaitable<Upstream> connect_first(GatewayContext& context,
                                        std::vector<asio::ip::address> candidates,
                                        std::uint16_t port, Upstream upstream) {
  std::string last_error = "no address";
  for (const asio::ip::address& address : candidates) {
    tcp::socket socket(context.io);
    const tcp::endpoint endpoint(address, port);
    boost::system::error_code error;
    bool timed_out = false;
    {
      TrackedSocket connecting(context.connections, &socket);
      connecting.set_deadline(kConnectTimeout);
      std::tie(error) =
          co_await socket.async_connect(endpoint, asio::as_tuple(asio::use_awaitable));
      timed_out = connecting.expired();
    }
    if (timed_out) {
      last_error = "connect to " + endpoint.address().to_string() + " timed out";
      upstream.failure = ConnectFailure::TimedOut;
      continue;
    }
    if (error) {
      last_error = "connect to " + endpoint.address().to_string() + ": " + error.message();
      upstream.failure = ConnectFailure::Unreachable;
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    upstream.socket.emplace(std::move(socket));
    upstream.endpoint = endpoint;
    upstream.failure = ConnectFailure::None;
    co_return upstream;
  }
  upstream.reason = last_error;
  if (!upstream.failed()) upstream.failure = ConnectFailure::Unreachable;
  co_return upstream;
}

namespace {

// Reads the parent's answer head, and not one byte past it (what follows belongs to the
// origin). Returns "" or why it failed.
asio::awaitable<std::string> read_parent_answer(GatewayContext& context, tcp::socket& socket,
                                                std::string& head) {
  TrackedSocket tracked(context.connections, &socket);
  tracked.set_deadline(kParentAnswerTimeout);
  char chunk[4096];
  for (;;) {
    const auto [wait_error] =
        co_await socket.async_wait(tcp::socket::wait_read, asio::as_tuple(asio::use_awaitable));
    if (tracked.expired()) co_return "upstream proxy sent no answer within 10 s";
    if (wait_error) co_return "upstream proxy connection failed: " + wait_error.message();
    boost::system::error_code error;
    const std::size_t n = socket.receive(asio::buffer(chunk), tcp::socket::message_peek, error);
    if (error || n == 0) {
      co_return "upstream proxy closed the connection before answering" +
          (error && error != asio::error::eof ? ": " + error.message() : std::string());
    }
    const std::size_t before = head.size();
    head.append(chunk, n);
    const std::size_t end = parent_head_end(head);
    const std::size_t take = end != 0 ? end - before : n;
    head.resize(before + take);
    asio::read(socket, asio::buffer(chunk, take), error);  // already there: does not block
    if (error) co_return "upstream proxy connection failed: " + error.message();
    if (end != 0) co_return "";
    if (head.size() > kMaxParentHead) co_return "upstream proxy answer head too large";
  }
}

// Through the upstream proxy: connect to it and ask for a tunnel to `name`:`port`.
asio::awaitable<Upstream> connect_via_parent(GatewayContext& context, const std::string& name,
                                             std::uint16_t port) {
  const ProxyUrl& parent = *context.options.parent;
  Upstream upstream;
  upstream.via_parent = true;
  upstream.failure = ConnectFailure::Unreachable;
  std::vector<asio::ip::address> candidates;
  boost::system::error_code parse_error;
  const asio::ip::address literal = asio::ip::make_address(parent.host, parse_error);
  if (!parse_error) {
    candidates.push_back(literal);
  } else {
    dns::ResolveResult resolved = co_await context.resolver.resolve(parent.host);
    if (!resolved.error.empty()) {
      upstream.reason =
          "upstream proxy unreachable: cannot resolve " + parent.host + ": " + resolved.error;
      co_return upstream;
    }
    // The user named this host: its address is not refused, internal or not.
    candidates = std::move(resolved.addresses);
  }
  Upstream connected =
      co_await connect_first(context, std::move(candidates), parent.port, Upstream());
  if (!connected.socket) {
    upstream.reason = "upstream proxy unreachable: " + connected.reason;
    co_return upstream;
  }
  tcp::socket& socket = *connected.socket;
  const std::string request = connect_request(parent, name, port);
  std::string failure;
  {
    TrackedSocket tracked(context.connections, &socket);
    tracked.set_deadline(kParentAnswerTimeout);
    const auto [error, n] = co_await asio::async_write(socket, asio::buffer(request),
                                                       asio::as_tuple(asio::use_awaitable));
    if (error) failure = "upstream proxy connection failed: " + error.message();
  }
  std::string head;
  if (failure.empty()) failure = co_await read_parent_answer(context, socket, head);
  if (failure.empty()) {
    const std::optional<int> status = parent_status(head);
    if (!status) {
      failure = "upstream proxy sent no HTTP answer";
    } else if (*status < 200 || *status > 299) {
      failure = "upstream proxy answered " + std::to_string(*status);
    }
  }
  if (!failure.empty()) {
    upstream.reason = std::move(failure);
    co_return upstream;
  }
  upstream.socket.emplace(std::move(socket));
  upstream.endpoint = connected.endpoint;
  upstream.failure = ConnectFailure::None;
  co_return upstream;
}

}  // namespace

asio::awaitable<Upstream> connect_upstream(GatewayContext& context, const std::string& name,
                                           std::uint16_t port) {
  if (context.options.parent && !context.options.no_proxy.matches(name)) {
    co_return co_await connect_via_parent(context, name, port);
  }
  Upstream upstream;
  std::vector<asio::ip::address> candidates;
  boost::system::error_code parse_error;
  const asio::ip::address literal = asio::ip::make_address(name, parse_error);
  if (!parse_error) {
    // The policy allowed this exact address: the user named it explicitly.
    candidates.push_back(literal);
  } else {
    dns::ResolveResult resolved = co_await context.resolver.resolve(name);
    if (!resolved.error.empty()) {
      upstream.failure = ConnectFailure::Unreachable;
      upstream.reason = "cannot resolve: " + resolved.error;
      co_return upstream;
    }
    std::string refused;
    std::string refused_host;
    const auto host = context.options.host_addresses && !host_port_open(context.options, port)
                          ? context.options.host_addresses()
                          : nullptr;
    for (const asio::ip::address& address : resolved.addresses) {
      if (auto why = internal_reason(address)) {
        if (refused.empty()) refused = address.to_string() + " (" + *why + ")";
        continue;
      }
      if (host && is_host_address(*host, address)) {
        if (refused_host.empty()) refused_host = address.to_string();
        continue;
      }
      candidates.push_back(address);
    }
    if (candidates.empty()) {
      upstream.failure = ConnectFailure::InternalAddress;
      upstream.reason = refused.empty()
                            ? "resolves to " + std::string(policy::kHostAddressReason) + " " +
                                  refused_host
                            : "resolves to internal address " + refused;
      co_return upstream;
    }
  }
  co_return co_await connect_first(context, std::move(candidates), port, std::move(upstream));
}

asio::awaitable<Upstream> connect_docker_host(GatewayContext& context, std::uint16_t port) {
  // Not an address anyone chose: the host's own loopback, which only awf can reach.
  std::vector<asio::ip::address> loopback;
  loopback.emplace_back(asio::ip::address_v4::loopback());
  Upstream upstream = co_await connect_first(context, std::move(loopback), port, Upstream());
  if (!upstream.socket) upstream.reason = std::string(kHostAccessReason) + "; " + upstream.reason;
  co_return upstream;
}

int Upstream::status() const {
  switch (failure) {
    case ConnectFailure::None:
      return 0;
    case ConnectFailure::InternalAddress:
      return denial_status(Denial::InternalAddress);
    case ConnectFailure::Unreachable:
      return 502;
    case ConnectFailure::TimedOut:
      return 504;
  }
  return 502;
}

asio::awaitable<Upstream> connect_routed(GatewayContext& context, const Verdict& verdict,
                                         std::uint16_t port) {
  // (Not a conditional expression: GCC 12 destroys a co_await operand of one twice.)
  if (verdict.route == Route::DockerHost) co_return co_await connect_docker_host(context, port);
  co_return co_await connect_upstream(context, verdict.name, port);
}

void take_connect_failure(Attempt& attempt, const Upstream& upstream) {
  attempt.allowed = !upstream.denied();
  attempt.status = upstream.status();
  attempt.reason = upstream.reason;
}

}  // namespace awf::proxy
