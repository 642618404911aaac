// Plain HTTP through the gateway: the explicit proxy (absolute-URI requests and CONNECT) and
// transparent port 80. Every request on a kept-alive connection is decided on its own.
// Beast is used here, in http_relay.cpp and in api_proxy.cpp only.
#include <boost/asio/buffers_iterator.hpp>

#include "policy/credential_scan.h"
#include "policy/domain_list.h"
#include "policy/host_access.h"
#include "proxy/gateway_internal.h"
#include "proxy/http_head.h"
#include "proxy/http_relay.h"
#include "proxy/request_head.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace awf::proxy {
namespace {

enum class Mode { Explicit, Transparent };

bool port_allowed(std::uint16_t port) {
  return port == 80 || port == 443;
}

// Answers a request whose upstream could not be reached (or resolved only to internal
// addresses, a 403) and records it.
asio::awaitable<void> refuse_unreachable(GatewayContext& context, tcp::socket& client,
                                         Outcome& outcome, const Upstream& upstream) {
  outcome.allowed = upstream.status != 403;
  outcome.status = upstream.status;
  outcome.reason = upstream.reason;
  co_await record_and_refuse(context, client, outcome);
}

struct RequestTarget {
  std::string host;  // as the client named it
  std::uint16_t port = 80;
  std::string origin_form;
  std::string url;
};

// Where a plain HTTP request goes, or the status and reason for refusing it.
struct TargetCheck {
  std::optional<RequestTarget> target;
  int status = 0;
  std::string reason;
  std::string host;  // the best-known host name when refused, for the record
};

TargetCheck check_target(const bhttp::request<bhttp::buffer_body>& request, Mode mode,
                         std::uint16_t dialled_port) {
  TargetCheck check;
  const std::string raw_target(request.target());
  const std::string host_header(request[bhttp::field::host]);
  std::optional<awf::http::Authority> host_value;
  if (!host_header.empty()) {
    host_value =
        awf::http::parse_authority(host_header, mode == Mode::Explicit ? 80 : dialled_port);
    if (!host_value) {
      check.status = 400;
      check.reason = "invalid Host header";
      return check;
    }
  }
  if (host_value) check.host = host_value->host;
  RequestTarget target;
  if (raw_target.starts_with('/')) {
    if (mode == Mode::Explicit) {
      check.status = 400;
      check.reason = "a proxy request needs an absolute URI (http://host/path)";
      return check;
    }
    if (!host_value) {
      check.status = 400;
      check.reason = "request without a Host header";
      return check;
    }
    target.host = host_value->host;
    target.port = dialled_port;
    target.origin_form = raw_target;
    target.url = "http://" + host_header + raw_target;
  } else {
    const auto uri = awf::http::parse_absolute_uri(raw_target);
    if (!uri) {
      check.status = 400;
      check.reason = "unsupported request target (only http:// URIs; use CONNECT for https)";
      return check;
    }
    // Both names must agree, or the origin could be told a different host than the one
    // that was decided on.
    check.host = uri->authority.host;
    if (host_value && !awf::http::same_host(host_value->host, uri->authority.host)) {
      check.status = 403;
      check.reason = "Host header '" + host_header + "' does not match the request URI host '" +
                     uri->authority.host + "'";
      return check;
    }
    target.host = uri->authority.host;
    target.port = mode == Mode::Explicit ? uri->authority.port : dialled_port;
    target.origin_form = uri->origin_form;
    target.url = raw_target;
  }
  check.target = target;
  return check;
}

std::string display_name(const std::string& host) {
  const std::string normalized = policy::normalize_host(host);
  return normalized.empty() ? host : normalized;
}

// --ssl-bump: the tunnel's TLS ends at awf; each request in it is decided and recorded on its
// own, and the CONNECT record sums them up.
asio::awaitable<void> intercept_connect(GatewayContext& context, RegisteredSocket& registered,
                                        tcp::socket& client, beast::flat_buffer& buffer,
                                        Outcome& outcome, std::uint16_t port) {
  static constexpr char kEstablished[] = "HTTP/1.1 200 Connection established\r\n\r\n";
  auto [error, n] =
      co_await asio::async_write(client, asio::buffer(kEstablished, sizeof kEstablished - 1),
                                 asio::as_tuple(asio::use_awaitable));
  outcome.allowed = true;
  outcome.status = 200;
  outcome.reason += "; intercepted (--ssl-bump)";
  if (!error) {
    const auto pending_bytes = buffer.data();
    std::vector<std::uint8_t> pending(asio::buffers_begin(pending_bytes),
                                      asio::buffers_end(pending_bytes));
    buffer.consume(buffer.size());
    const std::string refused =
        co_await serve_intercepted(context, registered, client, std::move(pending), outcome.name,
                                   port, outcome, outcome.counts);
    if (!refused.empty()) {
      outcome.allowed = false;
      outcome.status = 403;
      outcome.reason = refused;
    }
  }
  record_outcome(context, outcome);
}

asio::awaitable<void> handle_connect(GatewayContext& context, RegisteredSocket& registered,
                                     ClientProcess& process, tcp::socket& client,
                                     beast::flat_buffer& buffer,
                                     const bhttp::request<bhttp::buffer_body>& request,
                                     Outcome& outcome) {
  outcome.kind = "connect";
  const std::string target(request.target());
  outcome.url = target;
  if (outcome.host_field.empty()) outcome.host_field = target;
  // --enable-dlp: first, since every record below would hold the target.
  if (std::string refusal = dlp_refusal(context, target); !refusal.empty()) {
    outcome.url = policy::redact_credentials(target);
    outcome.host_field = policy::redact_credentials(outcome.host_field);
    const auto authority = awf::http::parse_authority(target, 0);
    outcome.name =
        authority ? policy::redact_credentials(display_name(authority->host)) : outcome.url;
    outcome.status = 403;
    outcome.reason = std::move(refusal);
    co_await record_and_refuse(context, client, outcome);
    co_return;
  }
  const auto authority = awf::http::parse_authority(target, 0);
  if (!authority || authority->port == 0) {
    outcome.name = target;
    outcome.status = 400;
    outcome.reason = "CONNECT target must be host:port";
    record_outcome(context, outcome);
    co_await reply_and_close(context, client, 400, "awf: " + outcome.reason + "\n");
    co_return;
  }
  outcome.name = display_name(authority->host);
  const bool to_host = context.options.host_access && policy::is_host_access_name(authority->host);
  if (to_host) {
    outcome.reason = kHostAccessReason;
    if (!policy::host_port_open(context.options.host_ports, authority->port)) {
      outcome.status = 403;
      outcome.reason = host_port_refusal(authority->port);
      co_await record_and_refuse(context, client, outcome);
      co_return;
    }
  } else {
    const policy::Decision decision =
        context.policy.decide(authority->host, policy::Protocol::Https);
    outcome.reason = decision.reason;
    outcome.rule = decision.rule_id;
    if (!decision.allowed || !port_allowed(authority->port)) {
      const bool policy_denial = !decision.allowed;
      if (decision.allowed) {
        outcome.reason = "port " + std::to_string(authority->port) + " is not allowed (80, 443)";
      }
      outcome.status = 403;
      co_await record_and_refuse(context, client, outcome, policy_denial);
      co_return;
    }
  }
  if (!to_host && intercepts(context, outcome.name, authority->port)) {
    co_await intercept_connect(context, registered, client, buffer, outcome, authority->port);
    co_return;
  }
  Upstream upstream;
  if (to_host) {
    upstream = co_await connect_host(context, authority->port);
  } else {
    upstream = co_await connect_upstream(context, outcome.name, authority->port);
  }
  if (!upstream.socket) {
    co_await refuse_unreachable(context, client, outcome, upstream);
    co_return;
  }
  RegisteredSocket registered_upstream(context, &*upstream.socket);
  static constexpr char kEstablished[] = "HTTP/1.1 200 Connection established\r\n\r\n";
  auto [error, n] =
      co_await asio::async_write(client, asio::buffer(kEstablished, sizeof kEstablished - 1),
                                 asio::as_tuple(asio::use_awaitable));
  outcome.destination = upstream.endpoint;
  outcome.via_parent = upstream.via_parent;
  outcome.allowed = true;
  outcome.status = 200;
  if (!error) {
    const auto pending_bytes = buffer.data();
    std::vector<std::uint8_t> pending(asio::buffers_begin(pending_bytes),
                                      asio::buffers_end(pending_bytes));
    // A tunnel never parses HTTP again: give the head buffer back (idle tunnels add up).
    buffer.consume(buffer.size());
    buffer.shrink_to_fit();
    const std::string denied =
        co_await run_connect_tunnel(context, registered, client, *upstream.socket, outcome.name,
                                    std::move(pending), outcome.counts, &process);
    if (outcome.counts.idle_timeout) outcome.reason += "; closed after the idle timeout";
    if (!denied.empty()) {
      // Nothing the client sent reached the origin: the record shows no destination.
      outcome.destination.reset();
      outcome.allowed = false;
      outcome.status = 403;
      outcome.reason = denied;
    }
  }
  record_outcome(context, outcome);
}

asio::awaitable<void> serve_http(GatewayContext& context, tcp::socket client, Mode mode) {
  RegisteredSocket registered(context, &client);
  const Peer client_peer = remote_peer(client);
  // Once per connection, not per request: every request on it comes from the same socket.
  ClientProcess process(context);
  co_await process.find(client);
  const ConnectionSlot slot(context.budget);
  if (!slot.admitted()) {
    Outcome outcome;
    outcome.kind = "http";
    outcome.transport = mode == Mode::Explicit ? "explicit" : "transparent";
    outcome.client = client_peer;
    outcome.process = process.get();
    outcome.status = 503;
    outcome.reason =
        "too many open connections (limit " + std::to_string(context.budget.limit) + ")";
    record_outcome(context, outcome);
    co_await reply_and_close(context, client, 503, "awf: " + outcome.reason + "\n");
    co_return;
  }
  const std::uint16_t dialled_port = local_peer(client).port;
  beast::flat_buffer buffer;
  beast::flat_buffer upstream_buffer;
  std::vector<char> chunk;
  std::optional<tcp::socket> upstream;
  std::optional<RegisteredSocket> upstream_registered;
  std::string upstream_key;
  tcp::endpoint upstream_endpoint;
  bool upstream_via_parent = false;

  for (;;) {
    bhttp::request_parser<bhttp::buffer_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(boost::none);
    Outcome outcome;
    outcome.kind = "http";
    outcome.transport = mode == Mode::Explicit ? "explicit" : "transparent";
    outcome.client = client_peer;
    outcome.process = process.get();
    // The whole head is read and checked strictly before Beast parses it.
    const HeadRead head = co_await read_request_head(registered, client, buffer);
    if (head.status == HeadRead::Status::Closed) co_return;
    if (head.status == HeadRead::Status::TimedOut && buffer.size() == 0) {
      co_return;  // an idle kept-alive connection: close quietly
    }
    outcome.started = std::chrono::steady_clock::now();
    if (const auto refusal = take_request_head(head, buffer, parser)) {
      outcome.status = refusal->status;
      outcome.reason = refusal->reason;
      record_outcome(context, outcome);
      // The answer and the drain after it are bounded in time as well, even for a client
      // that reads nothing (a full send buffer would hold the write forever).
      registered.set_deadline(kRefusalTime);
      co_await reply_and_close(context, client, refusal->status, "awf: " + refusal->reason + "\n");
      co_return;
    }
    auto& request = parser.get();
    outcome.method = std::string(request.method_string());
    outcome.user_agent = std::string(request[bhttp::field::user_agent]);
    outcome.host_field = std::string(request[bhttp::field::host]);
    if (request.method() == bhttp::verb::connect) {
      if (mode == Mode::Explicit) {
        co_await handle_connect(context, registered, process, client, buffer, request, outcome);
      } else {
        outcome.status = 405;
        outcome.reason = "CONNECT on a transparent port";
        record_outcome(context, outcome);
        co_await reply_and_close(context, client, 405, "awf: " + outcome.reason + "\n");
      }
      co_return;
    }

    const TargetCheck check = check_target(request, mode, dialled_port);
    // --enable-dlp: before anything is recorded, since every record would hold the URL.
    {
      const std::string url = check.target ? check.target->url : std::string(request.target());
      std::string refusal = dlp_refusal(context, url);
      if (refusal.empty()) refusal = dlp_refusal(context, outcome.host_field);
      if (!refusal.empty()) {
        const std::string host = check.target ? check.target->host : check.host;
        outcome.url = policy::redact_credentials(url);
        outcome.host_field = policy::redact_credentials(outcome.host_field);
        outcome.name = host.empty() ? outcome.url : policy::redact_credentials(display_name(host));
        outcome.status = 403;
        outcome.reason = std::move(refusal);
        co_await record_and_refuse(context, client, outcome);
        co_return;
      }
    }
    if (!check.target) {
      // No host known (no Host header, a target that is no http:// URI): no name. The
      // target is in `url`; it is never a name.
      outcome.name = check.host.empty() ? std::string() : display_name(check.host);
      outcome.url = std::string(request.target());
      outcome.status = check.status;
      outcome.reason = check.reason;
      record_outcome(context, outcome);
      co_await reply_and_close(context, client, check.status, "awf: " + check.reason + "\n");
      co_return;
    }
    const RequestTarget& target = *check.target;
    outcome.url = target.url;
    outcome.name = display_name(target.host);
    if (outcome.host_field.empty()) outcome.host_field = target.host;
    const bool to_host = context.options.host_access && policy::is_host_access_name(target.host);
    if (to_host) {
      outcome.reason = kHostAccessReason;
      if (!policy::host_port_open(context.options.host_ports, target.port)) {
        outcome.status = 403;
        outcome.reason = host_port_refusal(target.port);
        co_await record_and_refuse(context, client, outcome);
        co_return;
      }
    } else {
      const policy::Decision decision = context.policy.decide(target.host, policy::Protocol::Http);
      outcome.reason = decision.reason;
      outcome.rule = decision.rule_id;
      if (!decision.allowed || !port_allowed(target.port)) {
        const bool policy_denial = !decision.allowed;
        if (decision.allowed) {
          outcome.reason = "port " + std::to_string(target.port) + " is not allowed (80, 443)";
        }
        outcome.status = 403;
        co_await record_and_refuse(context, client, outcome, policy_denial);
        co_return;
      }
    }
    // A host with --allow-urls rules is reachable through those rules only, which need TLS.
    if (!to_host && context.options.bump.enabled &&
        policy::url_patterns_mention(context.options.bump.url_patterns, outcome.name)) {
      outcome.status = 403;
      outcome.reason =
          "plain HTTP to a host with --allow-urls rules (only https:// URLs can match)";
      co_await record_and_refuse(context, client, outcome);
      co_return;
    }
    const std::string allowed_reason = outcome.reason;

    const std::string key = outcome.name + ":" + std::to_string(target.port);
    if (!upstream || !upstream->is_open() || key != upstream_key) {
      upstream_registered.reset();
      upstream.reset();
      upstream_buffer.clear();
      Upstream connected;
      if (to_host) {
        connected = co_await connect_host(context, target.port);
      } else {
        connected = co_await connect_upstream(context, outcome.name, target.port);
      }
      if (!connected.socket) {
        co_await refuse_unreachable(context, client, outcome, connected);
        co_return;
      }
      upstream.emplace(std::move(*connected.socket));
      upstream_registered.emplace(context, &*upstream);
      upstream_key = key;
      upstream_endpoint = connected.endpoint;
      upstream_via_parent = connected.via_parent;
    }
    outcome.allowed = true;
    outcome.destination = upstream_endpoint;
    outcome.via_parent = upstream_via_parent;

    const bool client_keep_alive = request.keep_alive();
    const bool head_request = request.method() == bhttp::verb::head;
    request.target(target.origin_form);
    strip_hop_by_hop(request);
    if (request[bhttp::field::host].empty()) request.set(bhttp::field::host, target.host);
    if (auto error =
            co_await forward_message(client, buffer, parser, *upstream, chunk, outcome.counts.up)) {
      outcome.status = 502;
      outcome.reason = "sending the request upstream failed: " + error.message();
      co_await record_and_refuse(context, client, outcome);
      co_return;
    }

    // Interim (1xx) responses are relayed until the final one.
    bool keep_going = false;
    for (;;) {
      bhttp::response_parser<bhttp::buffer_body> response_parser;
      response_parser.header_limit(kHeaderLimit);
      response_parser.body_limit(boost::none);
      if (head_request) response_parser.skip(true);
      auto [response_error, n] = co_await bhttp::async_read_header(
          *upstream, upstream_buffer, response_parser, asio::as_tuple(asio::use_awaitable));
      if (response_error) {
        outcome.status = 502;
        outcome.reason = "no valid response from the origin: " + response_error.message();
        co_await record_and_refuse(context, client, outcome);
        co_return;
      }
      auto& response = response_parser.get();
      const int status = response.result_int();
      const bool interim = status >= 100 && status < 200;
      if (status == 101) {
        outcome.status = 502;
        outcome.reason = "protocol upgrades are not supported";
        record_outcome(context, outcome);
        co_await reply_and_close(context, client, 502, "awf: " + outcome.reason + "\n");
        co_return;
      }
      const bool upstream_reusable = response.keep_alive() && !response_parser.need_eof();
      strip_hop_by_hop(response);
      keep_going = client_keep_alive && !response_parser.need_eof();
      if (!interim) response.keep_alive(keep_going);
      if (auto error = co_await forward_message(*upstream, upstream_buffer, response_parser, client,
                                                chunk, outcome.counts.down)) {
        outcome.status = status;
        outcome.reason = allowed_reason + "; relay ended early: " + error.message();
        record_outcome(context, outcome);
        co_return;
      }
      if (interim) continue;
      outcome.status = status;
      if (!upstream_reusable) {
        upstream_registered.reset();
        upstream.reset();
      }
      break;
    }
    record_outcome(context, outcome);
    if (!keep_going) {
      boost::system::error_code ignored;
      client.shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
  }
}

}  // namespace

asio::awaitable<void> serve_explicit_proxy(GatewayContext& context, tcp::socket client) {
  co_await serve_http(context, std::move(client), Mode::Explicit);
}

asio::awaitable<void> serve_transparent_http(GatewayContext& context, tcp::socket client) {
  co_await serve_http(context, std::move(client), Mode::Transparent);
}

}  // namespace awf::proxy
