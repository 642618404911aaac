// Upstream connections, byte relays, and the TLS paths (CONNECT tunnels, transparent TLS).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <array>
#include <chrono>
#include <cstring>

#include "policy/address_class.h"
#include "policy/credential_scan.h"
#include "policy/domain_list.h"
#include "policy/host_access.h"
#include "proxy/client_hello.h"
#include "proxy/gateway_internal.h"
#include "proxy/splice.h"
#include "proxy/upstream_proxy.h"

namespace asio = boost::asio;
using namespace boost::asio::experimental::awaitable_operators;

namespace awf::proxy {
namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(10);
constexpr auto kHelloTimeout = std::chrono::seconds(10);
// The upstream proxy's answer to CONNECT: its whole head within this time and size.
constexpr auto kParentAnswerTimeout = std::chrono::seconds(10);
constexpr std::size_t kMaxParentHead = 16 * 1024;
// Agents stream for long stretches; only a tunnel with no byte either way for this long ends.
constexpr auto kTunnelIdleTimeout = std::chrono::minutes(30);

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

Peer peer_of(const tcp::endpoint& endpoint) {
  Peer peer;
  asio::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  peer.ip = address.to_string();
  peer.port = endpoint.port();
  return peer;
}

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
                                      std::chrono::steady_clock::time_point& activity,
                                      bool& idle) {
  RelayCounts counts;
  auto result =
      co_await ((std::move(up) && std::move(down)) || idle_watchdog(context, activity));
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

std::string Peer::text() const {
  return ip.find(':') != std::string::npos ? "[" + ip + "]:" + std::to_string(port)
                                           : ip + ":" + std::to_string(port);
}

Peer remote_peer(const tcp::socket& socket) {
  boost::system::error_code ec;
  const tcp::endpoint endpoint = socket.remote_endpoint(ec);
  return ec ? Peer{} : peer_of(endpoint);
}

Peer local_peer(const tcp::socket& socket) {
  boost::system::error_code ec;
  const tcp::endpoint endpoint = socket.local_endpoint(ec);
  return ec ? Peer{} : peer_of(endpoint);
}

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

ClientProcess::~ClientProcess() { release(); }

void ClientProcess::release() {
  if (context_.peers == nullptr || released_) return;
  released_ = true;
  context_.peers->release(process_);
}

void ConnectionRegistry::close_all() {
  for (Entry& entry : entries_) {
    boost::system::error_code ignored;
    entry.socket->close(ignored);
  }
}

void ConnectionRegistry::sweep(Clock::time_point now) {
  for (Entry& entry : entries_) {
    if (entry.expired || entry.deadline > now) continue;
    entry.expired = true;
    boost::system::error_code ignored;
    if (entry.cancel_only) {
      entry.socket->cancel(ignored);
    } else {
      entry.socket->close(ignored);
    }
  }
}

std::string denial_message(const std::string& name, const std::string& reason,
                           bool policy_denial) {
  std::string message = "awf: blocked '" + name + "': " + reason + ".";
  if (policy_denial) message += " To allow it: --allow-domains " + name;
  return message + "\n";
}

void record_outcome(GatewayContext& context, const Outcome& outcome) {
  audit::AccessRecord access;
  access.time_ms = audit::now_ms();
  access.client_ip = outcome.client.ip;
  access.client_port = outcome.client.port;
  access.host = outcome.host_field;
  std::optional<Peer> destination;
  if (outcome.destination) {
    destination = peer_of(*outcome.destination);
    access.dest_ip = destination->ip;
    access.dest_port = destination->port;
  }
  access.http_version = "1.1";
  access.method = outcome.method;
  access.status = outcome.status;
  access.squid_status = audit::squid_code(outcome.kind, outcome.allowed);
  access.hierarchy = !outcome.destination ? "HIER_NONE"
                     : outcome.via_parent ? "FIRSTUP_PARENT"
                                          : "HIER_DIRECT";
  access.url = outcome.url;
  access.user_agent = outcome.user_agent;
  context.log.write_access(access);

  audit::AuditRecord audit;
  audit.time_ms = access.time_ms;
  audit.kind = outcome.kind;
  audit.transport = outcome.transport;
  audit.client = outcome.client.text();
  audit.name = outcome.name;
  audit.host = access.host;
  if (destination) audit.destination = destination->text();
  audit.decision = outcome.allowed ? "allow" : "deny";
  audit.reason = outcome.reason;
  if (outcome.destination && outcome.via_parent && context.options.parent) {
    audit.reason += "; via upstream proxy " + context.options.parent->authority();
  }
  audit.method = outcome.method;
  audit.url = outcome.url;
  audit.status = outcome.status;
  audit.bytes_up = outcome.counts.up;
  audit.bytes_down = outcome.counts.down;
  audit.rule = outcome.rule;
  audit.pid = outcome.process.pid;
  audit.command = outcome.process.command;
  audit.provider = outcome.provider;
  if (outcome.started) {
    audit.duration_ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                              *outcome.started)
            .count());
  }
  context.log.write_audit(audit);
  // The API proxy's refusals other than the policy's (no key, a bad request) name no domain
  // the user could allow.
  if (!outcome.allowed && (outcome.kind != "api" || outcome.status == 403)) {
    context.log.note_denied(outcome.name);
  }
}

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
      RegisteredSocket connecting(context, &socket);
      connecting.set_deadline(kConnectTimeout);
      std::tie(error) =
          co_await socket.async_connect(endpoint, asio::as_tuple(asio::use_awaitable));
      timed_out = connecting.expired();
    }
    if (timed_out) {
      last_error = "connect to " + endpoint.address().to_string() + " timed out";
      upstream.status = 504;
      continue;
    }
    if (error) {
      last_error = "connect to " + endpoint.address().to_string() + ": " + error.message();
      upstream.status = 502;
      continue;
    }
    boost::system::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    upstream.socket.emplace(std::move(socket));
    upstream.endpoint = endpoint;
    upstream.status = 0;
    co_return upstream;
  }
  upstream.reason = last_error;
  if (upstream.status == 0) upstream.status = 502;
  co_return upstream;
}

namespace {

// Reads the parent's answer head, and not one byte past it (what follows belongs to the
// origin). Returns "" or why it failed.
asio::awaitable<std::string> read_parent_answer(GatewayContext& context, tcp::socket& socket,
                                                std::string& head) {
  RegisteredSocket registered(context, &socket);
  registered.set_deadline(kParentAnswerTimeout);
  char chunk[4096];
  for (;;) {
    const auto [wait_error] =
        co_await socket.async_wait(tcp::socket::wait_read, asio::as_tuple(asio::use_awaitable));
    if (registered.expired()) co_return "upstream proxy sent no answer within 10 s";
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
  upstream.status = 502;
  std::vector<asio::ip::address> candidates;
  boost::system::error_code parse_error;
  const asio::ip::address literal = asio::ip::make_address(parent.host, parse_error);
  if (!parse_error) {
    candidates.push_back(literal);
  } else {
    dns::ResolveResult resolved = co_await context.resolver.resolve(parent.host);
    if (!resolved.error.empty()) {
      upstream.reason = "upstream proxy unreachable: cannot resolve " + parent.host + ": " +
                        resolved.error;
      co_return upstream;
    }
    // The user named this host: its address is not refused, internal or not.
    candidates = std::move(resolved.addresses);
  }
  Upstream connected = co_await connect_first(context, std::move(candidates), parent.port, Upstream());
  if (!connected.socket) {
    upstream.reason = "upstream proxy unreachable: " + connected.reason;
    co_return upstream;
  }
  tcp::socket& socket = *connected.socket;
  const std::string request = connect_request(parent, name, port);
  std::string failure;
  {
    RegisteredSocket registered(context, &socket);
    registered.set_deadline(kParentAnswerTimeout);
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
  upstream.status = 0;
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
      upstream.status = 502;
      upstream.reason = "cannot resolve: " + resolved.error;
      co_return upstream;
    }
    std::string refused;
    for (const asio::ip::address& address : resolved.addresses) {
      if (auto why = internal_reason(address)) {
        if (refused.empty()) refused = address.to_string() + " (" + *why + ")";
        continue;
      }
      candidates.push_back(address);
    }
    if (candidates.empty()) {
      upstream.status = 403;
      upstream.reason = "resolves to internal address " + refused;
      co_return upstream;
    }
  }
  co_return co_await connect_first(context, std::move(candidates), port, std::move(upstream));
}

asio::awaitable<Upstream> connect_host(GatewayContext& context, std::uint16_t port) {
  // Not an address anyone chose: the host's own loopback, which only awf can reach.
  std::vector<asio::ip::address> loopback;
  loopback.emplace_back(asio::ip::address_v4::loopback());
  Upstream upstream = co_await connect_first(context, std::move(loopback), port, Upstream());
  if (!upstream.socket) upstream.reason = std::string(kHostAccessReason) + "; " + upstream.reason;
  co_return upstream;
}

std::string host_port_refusal(std::uint16_t port) {
  return "port " + std::to_string(port) +
         " of the host is not open (--enable-host-access opens 80, 443 and --allow-host-ports)";
}

std::string dlp_refusal(const GatewayContext& context, std::string_view text) {
  if (!context.options.dlp) return "";
  const auto credential = policy::find_credential(text);
  if (!credential) return "";
  return "request carries a credential-shaped string (" + std::string(*credential) +
         "); --enable-dlp";
}

asio::awaitable<RelayCounts> relay(GatewayContext& context, tcp::socket& client,
                                   tcp::socket& upstream,
                                   std::span<const std::uint8_t> client_first,
                                   ClientProcess* process) {
  RelayCounts counts;
  if (!client_first.empty()) {
    auto [error, n] = co_await asio::async_write(
        upstream, asio::buffer(client_first.data(), client_first.size()),
        asio::as_tuple(asio::use_awaitable));
    counts.up += n;
    if (error) co_return counts;
  }
  auto activity = std::chrono::steady_clock::now();
  bool idle = false;
  const RelayCounts both =
      co_await run_both(context, client, upstream,
                        copy_then_release(client, upstream, &activity, process),
                        copy_then_release(upstream, client, &activity, process), activity, idle);
  counts.up += both.up;
  counts.down += both.down;
  counts.idle_timeout = idle;
  co_return counts;
}

namespace {

enum class HelloRead { Complete, NotTls, Malformed, Closed, TimedOut };

// Reads from `client` into `bytes` until the ClientHello is complete (or clearly is not one).
asio::awaitable<HelloRead> read_client_hello(RegisteredSocket& registered, tcp::socket& client,
                                             std::vector<std::uint8_t>& bytes,
                                             tls::ClientHello& hello) {
  registered.set_deadline(kHelloTimeout);
  std::uint8_t chunk[16 * 1024];
  for (;;) {
    if (!bytes.empty()) {
      hello = tls::parse_client_hello(bytes);
      switch (hello.status) {
        case tls::HelloStatus::Complete: registered.clear_deadline(); co_return HelloRead::Complete;
        case tls::HelloStatus::NotTls: co_return HelloRead::NotTls;
        case tls::HelloStatus::Malformed: co_return HelloRead::Malformed;
        case tls::HelloStatus::NeedMore: break;
      }
    }
    const auto [error, n] =
        co_await client.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
    if (error) co_return registered.expired() ? HelloRead::TimedOut : HelloRead::Closed;
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
}

std::string hello_failure(HelloRead read) {
  switch (read) {
    case HelloRead::NotTls: return "not a TLS ClientHello";
    case HelloRead::Malformed: return "malformed TLS ClientHello";
    case HelloRead::Closed: return "client closed before its ClientHello";
    case HelloRead::TimedOut: return "no ClientHello within 10 s";
    case HelloRead::Complete: break;
  }
  return "";
}

}  // namespace

namespace {

// The first bytes a CONNECT client sends: returns "" to go on, or the reason to close. Its
// own frame (with the read buffer) is gone once the tunnel starts relaying.
asio::awaitable<std::string> inspect_tunnel_start(RegisteredSocket& registered_client,
                                                  tcp::socket& client, const std::string& host,
                                                  std::vector<std::uint8_t>& pending,
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
  if (pending[0] != 0x16) co_return "";  // not TLS: nothing more to check
  // A TLS handshake record: the SNI must name the CONNECT host.
  tls::ClientHello hello;
  const HelloRead read = co_await read_client_hello(registered_client, client, pending, hello);
  if (read != HelloRead::Complete) co_return hello_failure(read);
  if (hello.has_sni && policy::normalize_host(hello.sni) != host) {
    co_return "TLS SNI '" + hello.sni + "' does not match CONNECT host '" + host + "'";
  }
  co_return "";
}

}  // namespace

asio::awaitable<std::string> run_connect_tunnel(GatewayContext& context,
                                                RegisteredSocket& registered_client,
                                                tcp::socket& client, tcp::socket& upstream,
                                                const std::string& host,
                                                std::vector<std::uint8_t> pending,
                                                RelayCounts& counts, ClientProcess* process) {
  std::string denied;
  auto activity = std::chrono::steady_clock::now();
  // Client to upstream: the first bytes are inspected before anything is forwarded. The
  // upstream's bytes flow back meanwhile, since some protocols let the server speak first.
  auto inspect_then_copy = [&]() -> asio::awaitable<std::uint64_t> {
    bool closed = false;
    denied = co_await inspect_tunnel_start(registered_client, client, host, pending, closed);
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
  counts = co_await run_both(context, client, upstream, inspect_then_copy(),
                             copy_then_release(upstream, client, &activity, process), activity, idle);
  counts.idle_timeout = idle;
  co_return denied;
}

asio::awaitable<void> serve_transparent_tls(GatewayContext& context, tcp::socket client) {
  RegisteredSocket registered(context, &client);
  Outcome outcome;
  outcome.kind = "tls";
  outcome.transport = "transparent";
  outcome.client = remote_peer(client);
  ClientProcess process(context);
  co_await process.find(client);
  outcome.process = process.get();
  outcome.method = "CONNECT";
  const ConnectionSlot slot(context.budget);
  if (!slot.admitted()) {
    outcome.status = 503;
    outcome.reason = "too many open connections (limit " +
                     std::to_string(context.budget.limit) + ")";
    record_outcome(context, outcome);
    co_return;
  }
  // The address the command dialled is only logged: awf connects to its own resolution.
  const Peer dialled = local_peer(client);
  const std::uint16_t port = dialled.port;

  std::vector<std::uint8_t> bytes;
  tls::ClientHello hello;
  const HelloRead read = co_await read_client_hello(registered, client, bytes, hello);
  if (read != HelloRead::Complete || !hello.has_sni) {
    outcome.name = dialled.ip;
    outcome.host_field = dialled.text();
    outcome.url = dialled.text();
    outcome.status = 403;
    outcome.reason = read != HelloRead::Complete
                         ? hello_failure(read)
                         : "TLS ClientHello without SNI (the name is needed to decide)";
    record_outcome(context, outcome);
    co_return;
  }
  const std::string name = policy::normalize_host(hello.sni);
  outcome.name = name.empty() ? hello.sni : name;
  outcome.host_field = outcome.name + ":" + std::to_string(port);
  outcome.url = outcome.host_field;
  if (std::string refusal = dlp_refusal(context, hello.sni); !refusal.empty()) {
    outcome.name = policy::redact_credentials(outcome.name);
    outcome.host_field = outcome.url = policy::redact_credentials(outcome.url);
    outcome.status = 403;
    outcome.reason = std::move(refusal);
    record_outcome(context, outcome);
    co_return;
  }
  const bool to_host = context.options.host_access && policy::is_host_access_name(hello.sni);
  if (to_host) {
    outcome.reason = kHostAccessReason;
    if (!policy::host_port_open(context.options.host_ports, port)) {
      outcome.status = 403;
      outcome.reason = host_port_refusal(port);
      record_outcome(context, outcome);
      co_return;
    }
  } else {
    const policy::Decision decision = context.policy.decide(hello.sni, policy::Protocol::Https);
    outcome.reason = decision.reason;
    outcome.rule = decision.rule_id;
    if (!decision.allowed) {
      outcome.status = 403;
      record_outcome(context, outcome);
      co_return;  // closing is the only answer a TLS client can get without a certificate
    }
  }
  if (!to_host && intercepts(context, name, port)) {
    outcome.allowed = true;
    outcome.status = 200;
    outcome.reason += "; intercepted (--ssl-bump)";
    const std::string refused = co_await serve_intercepted(context, registered, client, bytes,
                                                           name, port, outcome, outcome.counts);
    if (!refused.empty()) {
      outcome.allowed = false;
      outcome.status = 403;
      outcome.reason = refused;
    }
    record_outcome(context, outcome);
    co_return;
  }
  // (Not a conditional expression: GCC 12 destroys a co_await operand of one twice.)
  Upstream upstream;
  if (to_host) {
    upstream = co_await connect_host(context, port);
  } else {
    upstream = co_await connect_upstream(context, name, port);
  }
  if (!upstream.socket) {
    outcome.allowed = upstream.status != 403;  // 403: internal address, a denial
    outcome.status = upstream.status;
    outcome.reason = upstream.reason;
    record_outcome(context, outcome);
    co_return;
  }
  RegisteredSocket registered_upstream(context, &*upstream.socket);
  outcome.allowed = true;
  outcome.status = 200;
  outcome.destination = upstream.endpoint;
  outcome.via_parent = upstream.via_parent;
  outcome.counts = co_await relay(context, client, *upstream.socket, bytes, &process);
  if (outcome.counts.idle_timeout) outcome.reason += "; closed after the idle timeout";
  record_outcome(context, outcome);
}

asio::awaitable<void> serve_host_port(GatewayContext& context, tcp::socket client) {
  RegisteredSocket registered(context, &client);
  Outcome outcome;
  outcome.kind = "host";
  outcome.transport = "transparent";
  outcome.client = remote_peer(client);
  ClientProcess process(context);
  co_await process.find(client);
  outcome.process = process.get();
  const std::uint16_t port = local_peer(client).port;
  outcome.name = std::string(policy::kHostAccessName);
  outcome.host_field = outcome.name + ":" + std::to_string(port);
  outcome.url = outcome.host_field;
  const ConnectionSlot slot(context.budget);
  if (!slot.admitted()) {
    outcome.status = 503;
    outcome.reason = "too many open connections (limit " +
                     std::to_string(context.budget.limit) + ")";
    record_outcome(context, outcome);
    co_return;
  }
  // The listener exists only for an allowed port; checked again all the same.
  if (!context.options.host_access || !policy::host_port_open(context.options.host_ports, port)) {
    outcome.status = 403;
    outcome.reason = host_port_refusal(port);
    record_outcome(context, outcome);
    co_return;
  }
  Upstream upstream = co_await connect_host(context, port);
  if (!upstream.socket) {
    outcome.allowed = true;  // allowed, but the host's port did not answer
    outcome.status = upstream.status;
    outcome.reason = upstream.reason;
    record_outcome(context, outcome);
    co_return;
  }
  RegisteredSocket registered_upstream(context, &*upstream.socket);
  outcome.allowed = true;
  outcome.status = 200;
  outcome.reason = kHostAccessReason;
  outcome.destination = upstream.endpoint;
  // Any protocol: the bytes are relayed as they are, like a CONNECT tunnel.
  outcome.counts = co_await relay(context, client, *upstream.socket, {}, &process);
  if (outcome.counts.idle_timeout) outcome.reason += "; closed after the idle timeout";
  record_outcome(context, outcome);
}

}  // namespace awf::proxy
