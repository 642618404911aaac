// Plain HTTP through the gateway: the explicit proxy (absolute-URI requests and CONNECT) and
// transparent port 80. Every request on a kept-alive connection is decided on its own.
#include "proxy/connection_scope.h"
#include "proxy/explicit_connect.h"
#include "proxy/handlers.h"
#include "proxy/http_exchange.h"
#include "proxy/http_head.h"
#include "proxy/upstream_connect.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace awf::proxy {
namespace {

enum class Mode { Explicit, Transparent };

struct RequestTarget {
  std::string host;  // as the client named it
  std::uint16_t port = 80;
  std::string origin_form;
  std::string url;
};

// Where a plain HTTP request goes, or why it cannot be read.
struct TargetCheck {
  std::optional<RequestTarget> target;
  Refusal refusal;
  std::string host;  // the best-known host name when refused, for the record
};

TargetCheck check_target(const bhttp::request<bhttp::buffer_body>& request, Mode mode,
                         std::uint16_t dialled_port) {
  TargetCheck check;
  const std::string_view raw_target(request.target().data(), request.target().size());
  const std::string_view host_header(request[bhttp::field::host].data(),
                                     request[bhttp::field::host].size());
  std::optional<awf::http::Authority> host_value;
  if (!host_header.empty()) {
    host_value =
        awf::http::parse_authority(host_header, mode == Mode::Explicit ? 80 : dialled_port);
    if (!host_value) {
      check.refusal.status = 400;
      check.refusal.reason = "invalid Host header";
      return check;
    }
  }
  if (host_value) check.host = host_value->host;
  RequestTarget target;
  if (raw_target.starts_with('/')) {
    if (mode == Mode::Explicit) {
      check.refusal.status = 400;
      check.refusal.reason = "a proxy request needs an absolute URI (http://host/path)";
      return check;
    }
    if (!host_value) {
      check.refusal.status = 400;
      check.refusal.reason = "request without a Host header";
      return check;
    }
    target.host = host_value->host;
    target.port = dialled_port;
    target.origin_form = raw_target;
    target.url = "http://";
    target.url.append(host_header).append(raw_target);
  } else {
    auto uri = awf::http::parse_absolute_uri(raw_target);
    if (!uri) {
      check.refusal.status = 400;
      check.refusal.reason =
          "unsupported request target (only http:// URIs; use CONNECT for https)";
      return check;
    }
    // Both names must agree, or the origin could be told a different host than the one
    // that was decided on.
    check.host = uri->authority.host;
    if (host_value && !awf::http::same_host(host_value->host, uri->authority.host)) {
      check.refusal.status = 403;
      check.refusal.reason = "Host header '" + std::string(host_header) +
                             "' does not match the request URI host '" + uri->authority.host + "'";
      return check;
    }
    target.host = std::move(uri->authority.host);
    target.port = mode == Mode::Explicit ? uri->authority.port : dialled_port;
    target.origin_form = std::move(uri->origin_form);
    target.url = raw_target;
  }
  check.target = std::move(target);
  return check;
}

// The verdict's question for a plain HTTP request: the target as check_target read it (its
// URL moves into the question: the record takes it from the verdict).
VerdictRequest http_verdict_request(TargetCheck& check, std::string_view raw_target,
                                    const std::string& host_header) {
  VerdictRequest request;
  request.entry = Entry::Http;
  request.url = check.target ? std::move(check.target->url) : std::string(raw_target);
  request.host_field = host_header;
  request.host = check.target ? check.target->host : check.host;
  if (check.target) request.port = check.target->port;
  request.scan.url = request.scan.host_field = true;
  if (!check.target) {
    // No host known (no Host header, a target that is no http:// URI): no name. The target
    // is in `url`; it is never a name.
    request.unreadable = Unreadable{check.refusal.status, check.refusal.reason,
                                    check.host.empty() ? std::string() : display_name(check.host)};
  }
  return request;
}

// The origin connection of a client connection, kept across its requests. Keyed by the
// decided name and port: a request reuses it only when its own name is the one the
// connection was opened for, so no request reaches a server awf connected to for another
// name (a shared server's virtual hosts would answer for a name whose resolution awf never
// made, and an allowed name's connection would carry another name's requests).
struct OriginConnection {
  std::optional<tcp::socket> socket;
  std::optional<TrackedSocket> tracked;
  std::string key;  // "name:port"
  tcp::endpoint endpoint;
  bool via_parent = false;
  beast::flat_buffer buffer;

  bool serves(const std::string& wanted) const {
    return socket && socket->is_open() && key == wanted;
  }
  void reset() {
    tracked.reset();
    socket.reset();
  }
  void adopt(GatewayContext& context, Upstream& upstream, std::string new_key) {
    buffer.clear();
    socket.emplace(std::move(*upstream.socket));
    tracked.emplace(context.connections, &*socket);
    key = std::move(new_key);
    endpoint = upstream.endpoint;
    via_parent = upstream.via_parent;
  }
};

// The proxy as an exchange front end (http_exchange.h).
class ProxyFrontEnd : public SocketClientSide {
 public:
  using Body = bhttp::buffer_body;

  ProxyFrontEnd(GatewayContext& context, ConnectionScope& scope, tcp::socket& client, Mode mode,
                Attempt base)
      : SocketClientSide(context, scope.tracked(), client, std::move(base)),
        scope_(scope),
        mode_(mode),
        dialled_port_(local_endpoint(client).port) {}

  tcp::socket& origin() { return *origin_.socket; }
  beast::flat_buffer& origin_buffer() { return origin_.buffer; }
  std::string origin_label() const { return "the origin"; }
  void drop_origin() { origin_.reset(); }

  asio::awaitable<Sent> send(bhttp::request_parser<Body>& parser, std::optional<Refusal> refusal,
                             Attempt& attempt);

  asio::awaitable<bool> switching(ResponseParser&, Attempt& attempt) {
    attempt.status = 502;
    attempt.reason = "protocol upgrades are not supported";
    co_await refuse(attempt);
    co_return true;
  }

 private:
  asio::awaitable<bool> take_over_connect(const bhttp::request<Body>& request, Attempt& attempt);
  asio::awaitable<bool> reach_origin(const Verdict& verdict, std::uint16_t port, Attempt& attempt);

  ConnectionScope& scope_;
  const Mode mode_;
  const std::uint16_t dialled_port_;
  OriginConnection origin_;
};

// CONNECT (explicit proxy only): the tunnel takes the connection over. True when handled.
asio::awaitable<bool> ProxyFrontEnd::take_over_connect(const bhttp::request<Body>& request,
                                                       Attempt& attempt) {
  if (request.method() != bhttp::verb::connect) co_return false;
  if (mode_ == Mode::Explicit) {
    co_await serve_connect(context_, scope_, client_, buffer_, std::string(request.target()),
                           attempt);
  } else {
    attempt.status = 405;
    attempt.reason = "CONNECT on a transparent port";
    co_await refuse(attempt);
  }
  co_return true;
}

asio::awaitable<bool> ProxyFrontEnd::reach_origin(const Verdict& verdict, std::uint16_t port,
                                                  Attempt& attempt) {
  const std::string key = attempt.name + ":" + std::to_string(port);
  if (!origin_.serves(key)) {
    origin_.reset();
    Upstream connected = co_await connect_routed(context_, verdict, port);
    if (!connected.socket) {
      take_connect_failure(attempt, connected);
      co_await refuse_connect_failure(context_, client_, attempt, connected);
      co_return false;
    }
    origin_.adopt(context_, connected, key);
  }
  attempt.allowed = true;
  attempt.destination = origin_.endpoint;
  attempt.via_parent = origin_.via_parent;
  co_return true;
}

asio::awaitable<Sent> ProxyFrontEnd::send(bhttp::request_parser<Body>& parser,
                                          std::optional<Refusal> refusal, Attempt& attempt) {
  if (refusal) {
    co_await refuse_head(context_, scope_.tracked(), client_, attempt, *refusal);
    co_return Sent{};
  }
  auto& request = parser.get();
  attempt.method = std::string(request.method_string());
  attempt.user_agent = std::string(request[bhttp::field::user_agent]);
  attempt.host_field = std::string(request[bhttp::field::host]);
  if (co_await take_over_connect(request, attempt)) co_return Sent{};
  TargetCheck check = check_target(request, mode_, dialled_port_);
  Verdict verdict = decide(
      context_, http_verdict_request(check, {request.target().data(), request.target().size()},
                                     attempt.host_field));
  take_verdict(attempt, verdict);
  if (!verdict.allowed()) {
    co_await refuse_verdict(context_, client_, attempt, verdict);
    co_return Sent{};
  }
  const RequestTarget& target = *check.target;
  if (attempt.host_field.empty()) attempt.host_field = target.host;
  if (!co_await reach_origin(verdict, target.port, attempt)) co_return Sent{};
  Sent sent;
  sent.step = Sent::Step::Relay;
  sent.head_request = request.method() == bhttp::verb::head;
  sent.client_keep_alive = request.keep_alive();
  request.target(target.origin_form);
  strip_hop_by_hop(request);
  if (request[bhttp::field::host].empty()) request.set(bhttp::field::host, target.host);
  if (auto error =
          co_await forward_message(client_, buffer_, parser, origin(), chunk_, attempt.counts.up)) {
    attempt.status = 502;
    attempt.reason = "sending the request upstream failed: " + error.message();
    co_await refuse(attempt);
    co_return Sent{};
  }
  co_return sent;
}

asio::awaitable<void> serve_http(GatewayContext& context, tcp::socket client, Mode mode) {
  ConnectionScope scope(context, client);
  Attempt base;
  base.kind = "http";
  base.transport = mode == Mode::Explicit ? "explicit" : "transparent";
  if (!co_await scope.open(base)) {
    co_await reply_and_close(context, client, 503, plain_refusal_text(base.reason));
    co_return;
  }
  ProxyFrontEnd front(context, scope, client, mode, std::move(base));
  co_await serve_exchanges(front);
}

}  // namespace

asio::awaitable<void> serve_explicit_proxy(GatewayContext& context, tcp::socket client) {
  co_await serve_http(context, std::move(client), Mode::Explicit);
}

asio::awaitable<void> serve_transparent_http(GatewayContext& context, tcp::socket client) {
  co_await serve_http(context, std::move(client), Mode::Transparent);
}

}  // namespace awf::proxy
