// The API proxy (--enable-api-proxy): plain HTTP from the command on 127.0.0.1:10000..10003,
// forwarded to the provider's configured target over verified TLS with the real key injected.
// The command holds only a placeholder, so a compromised agent cannot take the key elsewhere,
// and it cannot steer the key either: the destination is fixed by awf, never by the request.
#include <boost/asio/experimental/awaitable_operators.hpp>

#include "policy/credential_scan.h"
#include "proxy/api_provider.h"
#include "proxy/client_tls.h"
#include "proxy/http_relay.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using namespace boost::asio::experimental::awaitable_operators;

namespace awf::proxy {
namespace {

constexpr auto kBodyTimeout = std::chrono::seconds(120);

// After a 101: raw bytes both ways (WebSocket) until either side ends.
asio::awaitable<void> relay_upgraded(tcp::socket& client, beast::flat_buffer& client_buffer,
                                     TlsUpstream& provider, RelayCounts& counts) {
  auto client_to_provider = [&]() -> asio::awaitable<void> {
    if (client_buffer.size() > 0) {
      auto [error, n] = co_await asio::async_write(*provider.stream, client_buffer.data(),
                                                   asio::as_tuple(asio::use_awaitable));
      if (error) co_return;
      counts.up += n;
      client_buffer.consume(n);
    }
    std::vector<char> chunk(kBodyChunk);
    for (;;) {
      auto [read_error, n] =
          co_await client.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
      if (read_error) co_return;
      auto [write_error, written] = co_await asio::async_write(
          *provider.stream, asio::buffer(chunk.data(), n), asio::as_tuple(asio::use_awaitable));
      if (write_error) co_return;
      counts.up += written;
    }
  };
  auto provider_to_client = [&]() -> asio::awaitable<void> {
    if (provider.buffer.size() > 0) {
      auto [error, n] = co_await asio::async_write(client, provider.buffer.data(),
                                                   asio::as_tuple(asio::use_awaitable));
      if (error) co_return;
      counts.down += n;
      provider.buffer.consume(n);
    }
    std::vector<char> chunk(kBodyChunk);
    for (;;) {
      auto [read_error, n] = co_await provider.stream->async_read_some(
          asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
      if (read_error) co_return;
      auto [write_error, written] = co_await asio::async_write(
          client, asio::buffer(chunk.data(), n), asio::as_tuple(asio::use_awaitable));
      if (write_error) co_return;
      counts.down += written;
    }
  };
  co_await (client_to_provider() || provider_to_client());
}

// The request as the provider gets it: awf's path, awf's Host, awf's key, nothing the client
// chose to authenticate with.
void rewrite_request(bhttp::request<bhttp::string_body>& request, const ProviderInfo& provider,
                     const ApiRoute& route, const std::string& upstream_path) {
  const std::string upgrade(request[bhttp::field::upgrade]);
  strip_hop_by_hop(request);
  std::vector<std::string> credentials;
  for (const auto& field : request) {
    if (is_credential_header(field.name_string())) credentials.emplace_back(field.name_string());
  }
  for (const std::string& name : credentials) request.erase(name);
  request.erase(bhttp::field::expect);  // answered by awf already
  request.target(upstream_path);
  request.set(bhttp::field::host, route.target.authority());
  const std::string_view key = route.key.view();
  request.set(provider.key_header,
              provider.bearer ? "Bearer " + std::string(key) : std::string(key));
  if (!upgrade.empty()) {
    request.set(bhttp::field::connection, "Upgrade");
    request.set(bhttp::field::upgrade, upgrade);
  }
  request.prepare_payload();
}

asio::awaitable<bool> write_health(tcp::socket& client, const ProviderInfo& provider,
                                   bool configured, bool keep_alive) {
  bhttp::response<bhttp::string_body> response{bhttp::status::ok, 11};
  response.set(bhttp::field::content_type, "application/json");
  response.set(bhttp::field::cache_control, "no-store");
  response.body() = health_json(provider, configured) + "\n";
  response.keep_alive(keep_alive);
  response.prepare_payload();
  auto [error, n] =
      co_await bhttp::async_write(client, response, asio::as_tuple(asio::use_awaitable));
  co_return !error;
}

}  // namespace

asio::awaitable<void> serve_api_proxy(GatewayContext& context, tcp::socket client) {
  RegisteredSocket registered(context, &client);
  const Peer client_peer = remote_peer(client);
  ClientProcess process(context);
  co_await process.find(client);
  const ProviderInfo* provider = provider_by_port(local_peer(client).port);
  if (!provider) co_return;  // not one of awf's listeners
  const ApiRoute& route = context.options.api_proxy.routes[static_cast<std::size_t>(provider->id)];
  const std::string authority = route.target.authority();
  const auto new_outcome = [&] {
    Outcome outcome;
    outcome.kind = "api";
    outcome.transport = "api-proxy";
    outcome.provider = std::string(provider->name);
    outcome.client = client_peer;
    outcome.process = process.get();
    outcome.name = route.target.host;
    outcome.host_field = authority;
    return outcome;
  };
  const ConnectionSlot slot(context.budget);
  if (!slot.admitted()) {
    Outcome outcome = new_outcome();
    outcome.status = 503;
    outcome.reason =
        "too many open connections (limit " + std::to_string(context.budget.limit) + ")";
    record_outcome(context, outcome);
    co_await reply_and_close(context, client, 503, "awf: " + outcome.reason + "\n");
    co_return;
  }

  beast::flat_buffer buffer;
  std::vector<char> chunk;
  TlsUpstream connection;
  for (;;) {
    Outcome outcome = new_outcome();
    const HeadRead head = co_await read_request_head(registered, client, buffer);
    if (head.status == HeadRead::Status::Closed) co_return;
    if (head.status == HeadRead::Status::TimedOut && buffer.size() == 0) co_return;
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(kHeaderLimit);
    // The limit is applied once the head is in: a Content-Length over it is answered 413
    // (below), not refused as a malformed head.
    parser.body_limit(boost::none);
    std::optional<std::string> refusal;
    int refusal_status = 400;
    outcome.started = std::chrono::steady_clock::now();
    if (auto head_refusal = take_request_head(head, buffer, parser)) {
      refusal = std::move(head_refusal->reason);
      refusal_status = head_refusal->status;
    }
    auto& request = parser.get();
    const std::string target(request.target());
    if (!refusal) {
      outcome.method = std::string(request.method_string());
      outcome.user_agent = std::string(request[bhttp::field::user_agent]);
      // A client cannot choose where its request goes: an absolute URI or CONNECT would
      // pretend it could, so it is refused rather than silently redirected.
      if (request.method() == bhttp::verb::connect || !target.starts_with('/')) {
        refusal =
            "the API proxy takes paths only (GET /v1/...); it always forwards to " + authority;
      } else if (parser.content_length() && *parser.content_length() > kApiBodyLimit) {
        refusal = "request body larger than " + std::to_string(kApiBodyLimit) + " bytes";
        refusal_status = 413;
      }
    }
    if (refusal) {
      outcome.url =
          target.starts_with('/')
              ? "https://" + authority +
                    std::string(path_for_log(upstream_target(*provider, route.base_path, target)))
              : target;
      // --enable-dlp: a refused request's URL is recorded without the credential it carries.
      if (!dlp_refusal(context, outcome.url).empty()) {
        outcome.url = policy::redact_credentials(outcome.url);
      }
      outcome.status = refusal_status;
      outcome.reason = *refusal;
      record_outcome(context, outcome);
      registered.set_deadline(kRefusalTime);
      co_await reply_and_close(context, client, refusal_status, "awf: " + *refusal + "\n");
      co_return;
    }
    const std::string upstream_path = upstream_target(*provider, route.base_path, target);
    outcome.url = "https://" + authority + std::string(path_for_log(upstream_path));
    // --enable-dlp: before any record holds the path (the provider gets it, the log does not).
    if (std::string dlp = dlp_refusal(context, upstream_path); !dlp.empty()) {
      outcome.url = policy::redact_credentials(outcome.url);
      outcome.status = 403;
      outcome.reason = std::move(dlp);
      co_await record_and_refuse(context, client, outcome);
      co_return;
    }

    // The health check answers from awf itself: no provider contact, no key needed.
    if (request.method() == bhttp::verb::get && path_for_log(target) == "/health" &&
        parser.is_done()) {
      if (!co_await write_health(client, *provider, !route.key.empty(), request.keep_alive()) ||
          !request.keep_alive()) {
        co_return;
      }
      continue;
    }
    if (route.key.empty()) {
      outcome.status = 503;
      outcome.reason = "no key for the " + std::string(provider->name) + " API proxy";
      record_outcome(context, outcome);
      co_await reply_and_close(context, client, 503, missing_key_message(*provider));
      co_return;
    }
    const policy::Decision decision =
        context.policy.decide(route.target.host, policy::Protocol::Https);
    outcome.reason = decision.reason;
    outcome.rule = decision.rule_id;
    if (!decision.allowed) {
      outcome.status = 403;
      co_await record_and_refuse(context, client, outcome, true);
      co_return;
    }

    // The body is read whole (at most kApiBodyLimit) before the provider is contacted.
    parser.body_limit(kApiBodyLimit);
    if (!parser.is_done()) {
      if (beast::iequals(request[bhttp::field::expect], "100-continue")) {
        static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
        co_await asio::async_write(client, asio::buffer(kContinue, sizeof kContinue - 1),
                                   asio::as_tuple(asio::use_awaitable));
      }
      registered.set_deadline(kBodyTimeout);
      auto [body_error, n] =
          co_await bhttp::async_read(client, buffer, parser, asio::as_tuple(asio::use_awaitable));
      const bool expired = registered.expired();
      registered.clear_deadline();
      if (body_error) {
        const bool too_large = body_error == bhttp::error::body_limit;
        outcome.status = too_large ? 413 : 400;
        outcome.reason =
            too_large ? "request body larger than " + std::to_string(kApiBodyLimit) + " bytes"
            : expired
                ? "request body not received within " + std::to_string(kBodyTimeout.count()) + " s"
                : "request body incomplete: " + body_error.message();
        record_outcome(context, outcome);
        if (!client.is_open()) co_return;
        registered.set_deadline(kRefusalTime);
        co_await reply_and_close(context, client, outcome.status, "awf: " + outcome.reason + "\n");
        co_return;
      }
    }
    const bool client_keep_alive = request.keep_alive();
    const bool head_request = request.method() == bhttp::verb::head;
    const bool upgrade_requested = !request[bhttp::field::upgrade].empty();
    rewrite_request(request, *provider, route, upstream_path);

    // A kept-alive provider connection may have been closed by the provider meanwhile: one
    // retry on a fresh connection when nothing came back on the old one.
    std::optional<ResponseParser> response_parser;
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = connection.open();
      if (!reused) {
        const Upstream upstream =
            co_await connect_tls(context, *context.options.api_proxy.tls, route.target.host,
                                 route.target.port, connection);
        if (upstream.status != 0) {
          outcome.allowed = upstream.status != 403;
          outcome.status = upstream.status;
          outcome.reason = upstream.reason;
          co_await record_and_refuse(context, client, outcome);
          co_return;
        }
      }
      outcome.destination = connection.endpoint;
      outcome.via_parent = connection.via_parent;
      auto [write_error, written] = co_await bhttp::async_write(
          *connection.stream, request, asio::as_tuple(asio::use_awaitable));
      boost::system::error_code read_error;
      if (!write_error) {
        read_error = co_await read_response_head(*connection.stream, connection.buffer,
                                                 response_parser, head_request);
      }
      if (!write_error && !read_error) {
        outcome.counts.up = written;
        break;
      }
      connection.reset();
      response_parser.reset();
      if (reused && attempt == 0) continue;
      outcome.allowed = true;
      outcome.status = 502;
      outcome.reason = "no valid response from " + authority + ": " +
                       (write_error ? write_error : read_error).message();
      co_await record_and_refuse(context, client, outcome);
      co_return;
    }
    outcome.allowed = true;

    // Interim (1xx) responses are relayed until the final one.
    bool keep_going = false;
    for (;;) {
      auto& response = response_parser->get();
      const int status = response.result_int();
      if (status == 101 && upgrade_requested) {
        bhttp::serializer<false, bhttp::buffer_body> serializer{response};
        auto [error, n] = co_await bhttp::async_write_header(client, serializer,
                                                             asio::as_tuple(asio::use_awaitable));
        outcome.status = 101;
        if (!error) {
          outcome.counts.down += n;
          co_await relay_upgraded(client, buffer, connection, outcome.counts);
        }
        record_outcome(context, outcome);
        co_return;
      }
      const bool interim = status >= 100 && status < 200;
      const bool provider_reusable = response.keep_alive() && !response_parser->need_eof();
      strip_hop_by_hop(response);
      keep_going = client_keep_alive && !response_parser->need_eof() && status != 101;
      if (!interim) response.keep_alive(keep_going);
      if (auto error =
              co_await forward_message(*connection.stream, connection.buffer, *response_parser,
                                       client, chunk, outcome.counts.down)) {
        // A provider that ends a close-delimited body without close_notify is common.
        if (error != ssl::error::stream_truncated || !response_parser->need_eof()) {
          outcome.status = status;
          outcome.reason += "; relay ended early: " + error.message();
          record_outcome(context, outcome);
          co_return;
        }
      }
      if (interim) {
        if (const auto header_error = co_await read_response_head(
                *connection.stream, connection.buffer, response_parser, head_request)) {
          outcome.status = 502;
          outcome.reason = "no valid response from " + authority + ": " + header_error.message();
          co_await record_and_refuse(context, client, outcome);
          co_return;
        }
        continue;
      }
      outcome.status = status;
      if (!provider_reusable) connection.reset();
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

}  // namespace awf::proxy
