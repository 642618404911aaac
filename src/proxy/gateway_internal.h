// Shared by the gateway's translation units (Asio-heavy; keep it out of other modules).
#pragma once

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "audit/log_writer.h"
#include "dns/resolver.h"
#include "policy/policy.h"
#include "proxy/gateway.h"
#include "sandbox/peer_process.h"

namespace awf::proxy {

using boost::asio::ip::tcp;

// The open sockets of one worker, so stop() can close them (and their records get written),
// with optional deadlines: a per-worker sweeper closes a socket whose deadline passed. This
// replaces a timer per read or connect, which cost a timerfd update per request.
class ConnectionRegistry {
 public:
  using Clock = std::chrono::steady_clock;
  struct Entry {
    tcp::socket* socket;
    Clock::time_point deadline = Clock::time_point::max();
    bool expired = false;
    bool cancel_only = false;  // on expiry, cancel the pending operation but keep the socket
  };
  using Handle = std::list<Entry>::iterator;
  Handle add(tcp::socket* socket) { return entries_.insert(entries_.end(), Entry{socket}); }
  void remove(Handle handle) { entries_.erase(handle); }
  void close_all();
  bool empty() const { return entries_.empty(); }
  void sweep(Clock::time_point now);

 private:
  std::list<Entry> entries_;
};

// Client connections open across all workers, against a cap derived from the descriptor
// limit: past it, new connections are answered 503 (or closed) instead of exhausting awf.
struct ConnectionBudget {
  std::atomic<std::size_t> open{0};
  std::size_t limit = 4096;
};

struct GatewayContext {
  boost::asio::io_context& io;
  const policy::Policy& policy;
  const GatewayOptions& options;  // host_access already off when a block rule covers the host
  dns::Resolver& resolver;
  audit::LogWriter& log;
  ConnectionBudget& budget;
  ConnectionRegistry connections;
  bool stopping = false;
  sandbox::PeerFinder* peers = nullptr;  // names the process behind a client (may be null)
};

// Holds one unit of the budget for a handler's lifetime.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(ConnectionBudget& budget)
      : budget_(budget), admitted_(budget.open.fetch_add(1) < budget.limit) {}
  ~ConnectionSlot() { budget_.open.fetch_sub(1); }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  bool admitted() const { return admitted_; }

 private:
  ConnectionBudget& budget_;
  bool admitted_;
};

// Keeps a socket registered with the context while a handler runs.
class RegisteredSocket {
 public:
  RegisteredSocket(GatewayContext& context, tcp::socket* socket)
      : context_(context), handle_(context.connections.add(socket)) {}
  ~RegisteredSocket() { context_.connections.remove(handle_); }
  RegisteredSocket(const RegisteredSocket&) = delete;
  RegisteredSocket& operator=(const RegisteredSocket&) = delete;

  // Until clear_deadline(), the socket is closed once `timeout` has passed: the pending
  // operation fails and expired() tells that this was the reason. With Expiry::Cancel the
  // pending operation is cancelled instead and the socket stays open (to send an answer such
  // as 408 before closing): the handler must check expired() before each operation it starts,
  // as an expiry between two operations cancels nothing.
  enum class Expiry { Close, Cancel };
  void set_deadline(std::chrono::steady_clock::duration timeout, Expiry expiry = Expiry::Close) {
    handle_->deadline = std::chrono::steady_clock::now() + timeout;
    handle_->cancel_only = expiry == Expiry::Cancel;
    handle_->expired = false;
  }
  void clear_deadline() { handle_->deadline = std::chrono::steady_clock::time_point::max(); }
  bool expired() const { return handle_->expired; }

 private:
  GatewayContext& context_;
  ConnectionRegistry::Handle handle_;
};

struct Peer {
  std::string ip;  // no brackets
  std::uint16_t port = 0;
  std::string text() const;  // "ip:port" or "[v6]:port"
};
Peer remote_peer(const tcp::socket& socket);
Peer local_peer(const tcp::socket& socket);

// The process in the sandbox that holds the other end of a client connection (pid 0 when
// unknown): looked up once per accepted connection, at once, while the client surely still
// holds its socket. When the connection ends, the finder learns that the client's
// descriptor is probably free again (its next connection will likely reuse it).
class ClientProcess {
 public:
  explicit ClientProcess(GatewayContext& context) : context_(context) {}
  ~ClientProcess();
  ClientProcess(const ClientProcess&) = delete;
  ClientProcess& operator=(const ClientProcess&) = delete;

  boost::asio::awaitable<void> find(const tcp::socket& client);
  const sandbox::PeerProcess& get() const { return process_; }
  // awf passed the end of the stream to the client, which closes its socket next: the
  // finder can expect that descriptor back already (once; the destructor then does nothing).
  void release();

 private:
  GatewayContext& context_;
  sandbox::PeerProcess process_;
  bool released_ = false;
};

struct Upstream {
  std::optional<tcp::socket> socket;
  tcp::endpoint endpoint;
  int status = 0;      // 0 when connected, else the HTTP status to report (403, 502, 504)
  std::string reason;  // why it failed
  bool via_parent = false;  // a tunnel through the upstream proxy (`endpoint` is the parent's)
};

// Connects to the first of `candidates` that answers within the connect timeout; `upstream`
// carries what is known already (status and reason are set on failure).
boost::asio::awaitable<Upstream> connect_first(GatewayContext& context,
                                               std::vector<boost::asio::ip::address> candidates,
                                               std::uint16_t port, Upstream upstream);

// --enable-host-access: the reason recorded for what reaches the host.
inline constexpr char kHostAccessReason[] = "host access (--enable-host-access)";

// Connects to the host's own 127.0.0.1:`port` (awf runs in the host's network namespace):
// what host.docker.internal stands for. Only for --enable-host-access.
boost::asio::awaitable<Upstream> connect_host(GatewayContext& context, std::uint16_t port);

// "port N of the host is not open ..." for a host-access port outside the allowed set.
std::string host_port_refusal(std::uint16_t port);

// --enable-dlp: the reason to refuse a request because `text` (a URL, a CONNECT target, a
// name) carries a credential-shaped string, or "" (also when DLP is off).
std::string dlp_refusal(const GatewayContext& context, std::string_view text);

// Resolves `name` with awf's own resolver (or takes the allowed IP literal as is), refuses
// internal addresses, and connects. Never uses an address the client chose. With an upstream
// proxy (and `name` not in no_proxy), connects to the parent instead (its own address is not
// refused: it is usually a private one) and asks it for `CONNECT name:port`: on a 2xx answer
// the socket is a tunnel to the origin; the parent resolves `name`, awf does not.
boost::asio::awaitable<Upstream> connect_upstream(GatewayContext& context,
                                                  const std::string& name, std::uint16_t port);

struct RelayCounts {
  std::uint64_t up = 0;    // client -> upstream
  std::uint64_t down = 0;  // upstream -> client
  bool idle_timeout = false;
};

// Copies bytes both ways until both directions ended (or the tunnel sat idle too long);
// `client_first` is sent upstream first.
boost::asio::awaitable<RelayCounts> relay(GatewayContext& context, tcp::socket& client,
                                          tcp::socket& upstream,
                                          std::span<const std::uint8_t> client_first,
                                          ClientProcess* process = nullptr);

// CONNECT: after the 200, inspects the first client bytes (TLS SNI must equal `host`) while
// the upstream's bytes already flow back. Returns "" or the reason the tunnel was closed.
boost::asio::awaitable<std::string> run_connect_tunnel(GatewayContext& context,
                                                       RegisteredSocket& registered_client,
                                                       tcp::socket& client, tcp::socket& upstream,
                                                       const std::string& host,
                                                       std::vector<std::uint8_t> pending,
                                                       RelayCounts& counts,
                                                       ClientProcess* process = nullptr);

// Handlers, one per listener kind.
boost::asio::awaitable<void> serve_explicit_proxy(GatewayContext& context, tcp::socket client);
boost::asio::awaitable<void> serve_transparent_http(GatewayContext& context, tcp::socket client);
boost::asio::awaitable<void> serve_transparent_tls(GatewayContext& context, tcp::socket client);
// A HostPort listener (172.17.0.1:<port>): relayed raw to the host's 127.0.0.1:<port>.
boost::asio::awaitable<void> serve_host_port(GatewayContext& context, tcp::socket client);
// A Peer listener, or a transparent one dialled at a peer's address (--topology-attach):
// relayed raw to where the container serves that port.
boost::asio::awaitable<void> serve_peer(GatewayContext& context, tcp::socket client);
// The peer whose address and port `client` dialled (nullptr: none).
const peers::Peer* dialled_peer(const GatewayContext& context, const tcp::socket& client);
// An ApiProxy listener (127.0.0.1:10000..10003): the provider is the one of the local port.
boost::asio::awaitable<void> serve_api_proxy(GatewayContext& context, tcp::socket client);

// Log helpers shared by the handlers.
struct Outcome {
  std::string kind;       // "http", "connect", "tls", "host", "api", "peer"
  std::string transport;  // "explicit", "transparent", "api-proxy"
  Peer client;
  sandbox::PeerProcess process;  // who made it
  std::string host_field;  // Host header / authority for access.log
  std::string name;        // normalized decided name (or as sent when invalid)
  std::string method;
  std::string url;
  std::string user_agent;
  int status = 0;
  bool allowed = false;
  std::string reason;
  std::uint32_t rule = 0;  // policy::Decision::rule_id of the deciding rule
  std::optional<tcp::endpoint> destination;
  bool via_parent = false;  // `destination` is the upstream proxy's address
  RelayCounts counts;
  std::string provider;  // kind "api"
  // HTTP requests: when the request head was complete (the record gets the duration).
  std::optional<std::chrono::steady_clock::time_point> started;
};
void record_outcome(GatewayContext& context, const Outcome& outcome);

// --ssl-bump: whether the connection to an allowed `name`:`port` is intercepted (a URL pattern
// mentions the name; port 443 only).
bool intercepts(const GatewayContext& context, const std::string& name, std::uint16_t port);

// Terminates the client's TLS with a leaf for `host` (`pending`: bytes already read from the
// client, replayed first), then decides and relays each request (one record each, kind
// "intercept", built from `base`). Adds the relayed bytes to `counts`. Returns "" or the
// reason the session was refused (a rejected certificate, an SNI that is not `host`).
boost::asio::awaitable<std::string> serve_intercepted(GatewayContext& context,
                                                      RegisteredSocket& registered,
                                                      tcp::socket& client,
                                                      std::vector<std::uint8_t> pending,
                                                      const std::string& host, std::uint16_t port,
                                                      const Outcome& base, RelayCounts& counts);

// "awf: blocked 'x': reason. To allow it: --allow-domains x"
std::string denial_message(const std::string& name, const std::string& reason, bool policy_denial);

}  // namespace awf::proxy
