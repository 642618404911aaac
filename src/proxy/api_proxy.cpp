// The API proxy (--enable-api-proxy): plain HTTP from the command on 127.0.0.1:10000..10004,
// forwarded to the provider's configured target over verified TLS with the real key injected.
// The command holds only a placeholder, so a compromised agent cannot take the key elsewhere,
// and it cannot steer the key either: the destination is fixed by awf, never by the request.
#include <boost/asio/experimental/awaitable_operators.hpp>

#include "policy/credential_scan.h"
#include "proxy/api_budget.h"
#include "proxy/api_provider.h"
#include "proxy/api_request.h"
#include "proxy/api_usage.h"
#include "proxy/client_tls.h"
#include "proxy/connection_scope.h"
#include "proxy/handlers.h"
#include "proxy/http_exchange.h"
#include "proxy/model_policy.h"
#include "proxy/upstream_connect.h"
#include "proxy/usage_log.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using namespace boost::asio::experimental::awaitable_operators;

namespace awf::proxy {
namespace {

constexpr auto kBodyTimeout = std::chrono::seconds(120);

// One direction of an upgraded connection: what `from` already buffered, then raw bytes.
template <class From, class To>
asio::awaitable<void> pump(From& from, beast::flat_buffer& buffered, To& to, std::uint64_t& count) {
  if (buffered.size() > 0) {
    auto [error, n] =
        co_await asio::async_write(to, buffered.data(), asio::as_tuple(asio::use_awaitable));
    if (error) co_return;
    count += n;
    buffered.consume(n);
  }
  std::vector<char> chunk(kBodyChunk);
  for (;;) {
    auto [read_error, n] =
        co_await from.async_read_some(asio::buffer(chunk), asio::as_tuple(asio::use_awaitable));
    if (read_error) co_return;
    auto [write_error, written] = co_await asio::async_write(to, asio::buffer(chunk.data(), n),
                                                             asio::as_tuple(asio::use_awaitable));
    if (write_error) co_return;
    count += written;
  }
}

// After a 101: raw bytes both ways (WebSocket) until either side ends. No idle bound, unlike
// a tunnel: the only peer is the provider awf's configuration names (never a destination the
// command chose), realtime sessions may sit silent for long, and the provider closes idle
// ones itself; the connection still counts against the budget and ends at stop().
asio::awaitable<void> relay_upgraded(tcp::socket& client, beast::flat_buffer& client_buffer,
                                     TlsUpstream& provider, RelayCounts& counts) {
  co_await (pump(client, client_buffer, *provider.stream, counts.up) ||
            pump(*provider.stream, provider.buffer, client, counts.down));
}

// /health and /reflect: answered by awf itself (no provider contact, no key needed).
asio::awaitable<bool> write_json(tcp::socket& client, std::string body, bool keep_alive) {
  bhttp::response<bhttp::string_body> response{bhttp::status::ok, 11};
  response.set(bhttp::field::content_type, "application/json");
  response.set(bhttp::field::cache_control, "no-store");
  response.body() = std::move(body) + "\n";
  response.keep_alive(keep_alive);
  response.prepare_payload();
  auto [error, n] =
      co_await bhttp::async_write(client, response, asio::as_tuple(asio::use_awaitable));
  co_return !error;
}

// The relay's body observer for the API proxy: the response body, piece by piece, to the
// usage parser of the response being relayed (if it is accounted).
struct UsageFeed {
  std::optional<UsageObserver>* observer;
  void operator()(std::string_view bytes) const {
    if (*observer) (*observer)->feed(bytes);
  }
};

// The API proxy as an exchange front end (http_exchange.h).
class ApiFrontEnd : public SocketClientSide {
 public:
  using Body = bhttp::string_body;
  using Parser = bhttp::request_parser<Body>;

  ApiFrontEnd(GatewayContext& context, ConnectionScope& scope, tcp::socket& client,
              const ProviderInfo& provider, Attempt base)
      : SocketClientSide(context, scope.tracked(), client, std::move(base)),
        provider_(provider),
        route_(context.options.api_proxy.routes[static_cast<std::size_t>(provider.id)]),
        authority_(logged_authority(route_)) {}

  ssl::stream<tcp::socket>& origin() { return *provider_connection_.stream; }
  beast::flat_buffer& origin_buffer() { return provider_connection_.buffer; }
  std::string origin_label() const { return authority_; }
  void drop_origin() { provider_connection_.reset(); }

  asio::awaitable<Sent> send(Parser& parser, std::optional<Refusal> refusal, Attempt& attempt);
  asio::awaitable<bool> switching(ResponseParser& parser, Attempt& attempt);
  UsageFeed body_observer();
  void exchanged(Attempt& attempt) {
    answered(attempt);
    account(attempt);
  }
  // AWF keeps a streamed response's usage when the connection ends early (an agent that
  // hangs up after the last event it needs).
  void relay_ended(Attempt& attempt) {
    answered(attempt);
    if (usage_ && usage_->streaming()) account(attempt);
  }

 private:
  asio::awaitable<void> refuse_early(const Parser& parser, const Refusal& refusal,
                                     Attempt& attempt);
  asio::awaitable<Sent> answer_locally(const Parser& parser, const Verdict& verdict,
                                       Attempt& attempt);
  asio::awaitable<bool> read_body(Parser& parser, Attempt& attempt);
  asio::awaitable<bool> within_rate_limits(const Parser& parser, Attempt& attempt);
  asio::awaitable<bool> within_budgets(const bhttp::request<Body>& request, Attempt& attempt);
  void steer(bhttp::request<Body>& request, Attempt& attempt);
  asio::awaitable<bool> apply_model_policy(bhttp::request<Body>& request, Attempt& attempt,
                                           std::string& upstream_path);
  asio::awaitable<std::vector<std::string>> fetch_model_list(const Attempt& request_attempt);
  asio::awaitable<std::optional<std::vector<std::string>>> model_list(std::string_view model,
                                                                      const Attempt& attempt);
  asio::awaitable<bool> send_to_provider(Sent& sent, Attempt& attempt,
                                         bhttp::request<Body>& request);
  void prepare_usage(bhttp::request<Body>& request);
  void account(const Attempt& attempt);
  void answered(const Attempt& attempt);

  const ProviderInfo& provider_;
  const ApiRoute& route_;
  const std::string authority_;
  TlsUpstream provider_connection_;
  bool upgrade_requested_ = false;
  bool inference_ = false;  // the request being relayed is a model call (api_budget.h)
  // Usage accounting of the request being relayed (when context.options.api_proxy.usage).
  std::optional<UsageObserver> usage_;
  std::string request_id_;
  std::string usage_path_;
  const std::string* request_body_ = nullptr;  // in the exchange loop's parser meanwhile
};

// What the record needs from the request, taken before it is rewritten. The provider is
// asked for an uncompressed answer: awf reads usage from the body it relays.
void ApiFrontEnd::prepare_usage(bhttp::request<Body>& request) {
  usage_.reset();
  if (!context_.options.api_proxy.usage) return;
  const std::string_view id = request["X-Request-Id"];
  request_id_ = valid_request_id(id) ? std::string(id) : random_request_id();
  usage_path_ = std::string(path_for_log(std::string(request.target())));
  request_body_ = &request.body();
}

// Called for each response head relayed (interim ones too): the final one's body is read.
UsageFeed ApiFrontEnd::body_observer() {
  usage_.reset();
  if (context_.options.api_proxy.usage && response_) {
    const auto& head = response_->get();
    if (const std::optional<bool> streaming = usage_streaming(
            head[bhttp::field::content_type], head[bhttp::field::content_encoding])) {
      usage_.emplace(*streaming);
    }
  }
  return UsageFeed{&usage_};
}

// AWF's rule: a record for each 2xx response that reported usage.
void ApiFrontEnd::account(const Attempt& attempt) {
  if (!usage_) return;
  UsageObserver& observed = *usage_;
  observed.finish();
  if (attempt.status >= 200 && attempt.status < 300 && observed.found()) {
    UsageRecord record;
    record.timestamp_ms = audit::now_ms();
    record.request_id = request_id_;
    record.provider = std::string(provider_.name);
    record.model = observed.model();
    if (record.model.empty() && request_body_) record.model = model_of_request(*request_body_);
    if (record.model.empty()) record.model = record.provider;
    record.path = usage_path_;
    record.status = attempt.status;
    record.streaming = observed.streaming();
    record.usage = observed.usage();
    if (attempt.started) {
      record.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - *attempt.started)
                               .count();
    }
    record.response_bytes = observed.bytes();
    context_.options.api_proxy.usage->write(std::move(record));
  }
  usage_.reset();
}

// The provider's answer to the request just relayed, for the budgets: model calls answered 2xx
// (maxRuns) and 401/403 answers (maxPermissionDenied).
void ApiFrontEnd::answered(const Attempt& attempt) {
  if (ApiBudget* budget = context_.options.api_proxy.budget.get()) {
    budget->answered(inference_, attempt.status);
  }
  inference_ = false;
}

// A request refused before the provider is contacted: the record shows where it would have
// gone (--enable-dlp: without the credential it carries).
asio::awaitable<void> ApiFrontEnd::refuse_early(const Parser& parser, const Refusal& refusal,
                                                Attempt& attempt) {
  const std::string target(parser.get().target());
  attempt.url = target.starts_with('/')
                    ? logged_url(route_, upstream_target(provider_, route_.base_path, target))
                    : target;
  if (context_.options.dlp && !credential_refusal(attempt.url).empty()) {
    attempt.url = policy::redact_credentials(attempt.url);
  }
  co_await refuse_head(context_, tracked_, client_, attempt, refusal);
}

// What awf answers itself, and the verdict's denials. Relay: none of them applies.
asio::awaitable<Sent> ApiFrontEnd::answer_locally(const Parser& parser, const Verdict& verdict,
                                                  Attempt& attempt) {
  const auto& request = parser.get();
  Sent sent;
  // --enable-dlp: before any record holds the path (the provider gets it, the log does not).
  if (verdict.denial == Denial::Credential) {
    attempt.url = verdict.url;
    attempt.status = verdict.status;
    attempt.reason = verdict.reason;
    co_await refuse_verdict(context_, client_, attempt, verdict);
    co_return sent;
  }
  // The health check and AWF's /reflect (on every port) answer from awf itself.
  const std::string_view path = path_for_log(request.target());
  if (request.method() == bhttp::verb::get && (path == "/health" || path == "/reflect") &&
      parser.is_done()) {
    std::string body = path == "/health" ? health_json(provider_, !route_.key.empty())
                                         : live_reflect(context_.options.api_proxy);
    const bool written = co_await write_json(client_, std::move(body), request.keep_alive());
    if (written && request.keep_alive()) sent.step = Sent::Step::Next;
    co_return sent;
  }
  if (route_.key.empty()) {
    attempt.status = 503;
    attempt.reason = "no key for the " + std::string(provider_.name) + " API proxy";
    record(context_, attempt);
    co_await reply_and_close(context_, client_, 503, missing_key_message(provider_));
    co_return sent;
  }
  attempt.reason = verdict.reason;
  attempt.rule = verdict.rule;
  if (!verdict.allowed()) {
    attempt.status = verdict.status;
    co_await refuse_verdict(context_, client_, attempt, verdict);
    co_return sent;
  }
  sent.step = Sent::Step::Relay;
  co_return sent;
}

// The body is read whole (at most kApiBodyLimit) before the provider is contacted.
asio::awaitable<bool> ApiFrontEnd::read_body(Parser& parser, Attempt& attempt) {
  parser.body_limit(kApiBodyLimit);
  if (parser.is_done()) co_return true;
  if (beast::iequals(parser.get()[bhttp::field::expect], "100-continue")) {
    static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
    co_await asio::async_write(client_, asio::buffer(kContinue, sizeof kContinue - 1),
                               asio::as_tuple(asio::use_awaitable));
  }
  TrackedSocket& tracked = tracked_;
  tracked.set_deadline(kBodyTimeout);
  auto [body_error, n] =
      co_await bhttp::async_read(client_, buffer_, parser, asio::as_tuple(asio::use_awaitable));
  const bool expired = tracked.expired();
  tracked.clear_deadline();
  if (!body_error) co_return true;
  const bool too_large = body_error == bhttp::error::body_limit;
  attempt.status = too_large ? 413 : 400;
  attempt.reason =
      too_large ? "request body larger than " + std::to_string(kApiBodyLimit) + " bytes"
      : expired ? "request body not received within " + std::to_string(kBodyTimeout.count()) + " s"
                : "request body incomplete: " + body_error.message();
  record(context_, attempt);
  if (!client_.is_open()) co_return false;
  tracked.set_deadline(kRefusalTime);
  co_await reply_and_close(context_, client_, attempt.status, plain_refusal_text(attempt.reason));
  co_return false;
}

// apiProxy.models/allowedModels/disallowedModels on the request awf has read whole: an alias
// becomes the model it stands for (in the body or the Gemini/Vertex path), then a model the
// policy refuses is answered with AWF's 403 body, before the provider is contacted.
asio::awaitable<bool> ApiFrontEnd::apply_model_policy(bhttp::request<Body>& request,
                                                      Attempt& attempt,
                                                      std::string& upstream_path) {
  const ModelPolicy& policy = context_.options.api_proxy.models;
  if (policy.inactive()) co_return true;
  std::string target(request.target());
  const std::optional<RequestModel> where =
      request_model(request.method_string(), target, request.body());
  if (!where) co_return true;
  std::string model = where->model;
  const std::optional<std::vector<std::string>> catalog = co_await model_list(model, attempt);
  if (const auto resolved =
          resolve_model_alias(policy, provider_.name, model, catalog ? &*catalog : nullptr);
      resolved && *resolved != model) {
    replace_request_model(*where, *resolved, target, request.body());
    request.target(target);
    upstream_path = upstream_target(provider_, route_.base_path, target);
    attempt.url = logged_url(route_, upstream_path);
    attempt.reason += (attempt.reason.empty() ? "" : "; ") + std::string("model alias '") + model +
                      "' -> '" + *resolved + "'";
    model = *resolved;
  }
  const std::optional<ModelRefusal> refusal = check_model(policy, model);
  if (!refusal) co_return true;
  attempt.status = 403;
  attempt.reason = "model policy: '" + refusal->model + "' refused (" + refusal->reason + ")";
  record(context_, attempt);
  co_await reply_and_close(context_, client_, 403, model_refusal_json(*refusal),
                           "application/json");
  co_return false;
}

// The provider's model list for resolving `model`'s alias: fetched once per run when an alias
// has glob patterns (AWF fetches it at start), then kept. nullopt: none to use (an empty or
// failed list leaves the aliases' literal names).
asio::awaitable<std::optional<std::vector<std::string>>> ApiFrontEnd::model_list(
    std::string_view model, const Attempt& attempt) {
  const std::size_t index = static_cast<std::size_t>(provider_.id);
  ModelCatalogs& catalogs = *context_.options.api_proxy.catalogs;
  std::optional<std::vector<std::string>> catalog = catalogs.get(index);
  if (!catalog && !provider_.models_path.empty() &&
      alias_needs_catalog(context_.options.api_proxy.models, provider_.name, model)) {
    catalog = co_await fetch_model_list(attempt);
    catalogs.put(index, *catalog);
  }
  if (catalog && catalog->empty()) catalog.reset();
  co_return catalog;
}

// One GET of the provider's model list with awf's key, on the connection the request goes
// on next; recorded like a request of the command's (it is made for one). Empty on failure.
asio::awaitable<std::vector<std::string>> ApiFrontEnd::fetch_model_list(
    const Attempt& request_attempt) {
  static constexpr std::uint64_t kModelListLimit = 8 * 1024 * 1024;
  Attempt fetch = request_attempt;
  const std::string path =
      upstream_target(provider_, route_.base_path, std::string(provider_.models_path));
  fetch.method = "GET";
  fetch.url = logged_url(route_, path);
  fetch.reason = "model list for apiProxy.models";
  fetch.counts = {};
  std::vector<std::string> models;
  if (!provider_connection_.open()) {
    const Upstream upstream =
        co_await connect_tls(context_, *context_.options.api_proxy.tls, route_.target.host,
                             route_.target.port, provider_connection_);
    if (upstream.failed()) {
      take_connect_failure(fetch, upstream);
      record(context_, fetch);
      co_return models;
    }
  }
  bhttp::request<Body> request{bhttp::verb::get, path, 11};
  request.set(bhttp::field::host, route_.target.authority());
  if (provider_.id == Provider::Anthropic) request.set("anthropic-version", "2023-06-01");
  inject_key(request, provider_, route_);
  request.prepare_payload();
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(kModelListLimit);
  auto [write_error, written] =
      co_await bhttp::async_write(origin(), request, asio::as_tuple(asio::use_awaitable));
  boost::system::error_code read_error = write_error;
  if (!write_error) {
    auto [error, n] = co_await bhttp::async_read(origin(), origin_buffer(), parser,
                                                 asio::as_tuple(asio::use_awaitable));
    read_error = error;
    fetch.counts.down = n;
  }
  fetch.counts.up = written;
  if (!route_.secret_target) fetch.destination = provider_connection_.endpoint;
  if (read_error) {
    provider_connection_.reset();
    fetch.status = 502;
    fetch.reason += ": " + read_error.message();
  } else {
    fetch.allowed = true;
    fetch.status = parser.get().result_int();
    if (!parser.get().keep_alive()) provider_connection_.reset();
    if (fetch.status == 200) models = parse_model_list(parser.get().body());
  }
  record(context_, fetch);
  co_return models;
}

// --rate-limit-*: a request over a limit gets AWF's 429 (JSON body, Retry-After and
// X-RateLimit-* headers, which the SDKs' retry logic reads); it is not sent and not counted.
asio::awaitable<bool> ApiFrontEnd::within_rate_limits(const Parser& parser, Attempt& attempt) {
  RateLimiter* limiter = context_.options.api_proxy.rate_limiter.get();
  if (limiter == nullptr) co_return true;
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  const std::optional<RateRefusal> refusal =
      limiter->admit(provider_.name, parser.get().body().size(), now.count());
  if (!refusal) co_return true;
  attempt.status = 429;
  attempt.reason = "rate limit of " + std::to_string(refusal->limit) + " " +
                   std::string(rate_limit_name(refusal->kind)) + " for " +
                   std::string(provider_.name) + " reached (--rate-limit-*); retry after " +
                   std::to_string(refusal->retry_after) + " s";
  record(context_, attempt);
  const ExtraHeaders headers = {{"Retry-After", std::to_string(refusal->retry_after)},
                                {"X-RateLimit-Limit", std::to_string(refusal->limit)},
                                {"X-RateLimit-Remaining", std::to_string(refusal->remaining)},
                                {"X-RateLimit-Reset", std::to_string(refusal->reset_at)}};
  co_await reply_and_close(context_, client_, 429, rate_limit_body(provider_.name, *refusal),
                           "application/json", headers);
  co_return false;
}

// The run's budgets (maxRuns, maxAiCredits, ...): a request once a budget is spent gets AWF's
// answer (its status and JSON error, X-Request-ID); it is not sent, and its record names the
// budget. Checked after the model policy, so the model is the one the provider would get.
asio::awaitable<bool> ApiFrontEnd::within_budgets(const bhttp::request<Body>& request,
                                                  Attempt& attempt) {
  const ApiBudget* budget = context_.options.api_proxy.budget.get();
  if (budget == nullptr) co_return true;
  const std::string target(request.target());
  std::optional<RequestModel> model;
  if (budget->reads_model()) model = request_model(request.method_string(), target, request.body());
  const std::optional<BudgetRefusal> refusal = budget->check(
      provider_.name, model ? std::optional<std::string_view>(model->model) : std::nullopt);
  if (!refusal) {
    inference_ = is_inference_request(request.method_string(), target);
    co_return true;
  }
  attempt.status = refusal->status;
  attempt.reason = refusal->reason;
  record(context_, attempt);
  const std::string_view id = request["X-Request-Id"];
  const ExtraHeaders headers = {
      {"X-Request-ID", valid_request_id(id) ? std::string(id) : random_request_id()}};
  co_await reply_and_close(context_, client_, refusal->status, refusal->body, "application/json",
                           headers);
  co_return false;
}

// --enable-token-steering: AWF's warnings, once a threshold of --agent-timeout's run time or of
// maxEffectiveTokens is crossed, go into the next POST or PUT as system instructions (in AWF's
// order: time, then tokens), each noted in the record's reason.
void ApiFrontEnd::steer(bhttp::request<Body>& request, Attempt& attempt) {
  ApiBudget* budget = context_.options.api_proxy.budget.get();
  if (budget == nullptr || !budget->config().token_steering) return;
  if (request.method() != bhttp::verb::post && request.method() != bhttp::verb::put) return;
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch());
  const std::pair<std::optional<std::string>, const char*> warnings[] = {
      {budget->take_time_warning(now.count()), "time steering: warning at "},
      {budget->take_steering_message(), "token steering: warning at "}};
  for (const auto& [message, what] : warnings) {
    if (!message) continue;
    // As in AWF, a warning that does not fit the body's shape is not given again.
    std::optional<std::string> body =
        inject_steering_message(request.body(), provider_.name, *message);
    if (!body) continue;
    request.body() = std::move(*body);
    const std::size_t used = message->find("used ") + 5;
    attempt.reason +=
        (attempt.reason.empty() ? "" : "; ") + std::string(what) +
        message->substr(used, message->find('%') - used + 1) + " of " +
        (message->find("run time") != std::string::npos ? "--agent-timeout"
                                                        : "apiProxy.maxEffectiveTokens") +
        " injected";
  }
}

// A kept-alive provider connection may have been closed by the provider meanwhile: one retry
// on a fresh connection when nothing came back on the old one.
asio::awaitable<bool> ApiFrontEnd::send_to_provider(Sent& sent, Attempt& attempt,
                                                    bhttp::request<Body>& request) {
  for (int attempt_number = 0; attempt_number < 2; ++attempt_number) {
    const bool reused = provider_connection_.open();
    if (!reused) {
      const Upstream upstream =
          co_await connect_tls(context_, *context_.options.api_proxy.tls, route_.target.host,
                               route_.target.port, provider_connection_);
      if (upstream.failed()) {
        take_connect_failure(attempt, upstream);
        co_await refuse_connect_failure(context_, client_, attempt, upstream);
        co_return false;
      }
    }
    if (!route_.secret_target) attempt.destination = provider_connection_.endpoint;
    attempt.via_parent = provider_connection_.via_parent;
    auto [write_error, written] =
        co_await bhttp::async_write(origin(), request, asio::as_tuple(asio::use_awaitable));
    boost::system::error_code read_error;
    if (!write_error) {
      read_error =
          co_await read_response_head(origin(), origin_buffer(), response_, sent.head_request);
    }
    if (!write_error && !read_error) {
      attempt.counts.up = written;
      co_return true;
    }
    provider_connection_.reset();
    response_.reset();
    if (reused && attempt_number == 0) continue;
    attempt.allowed = true;
    attempt.status = 502;
    attempt.reason = "no valid response from " + authority_ + ": " +
                     (write_error ? write_error : read_error).message();
    co_await refuse(attempt);
    co_return false;
  }
  co_return false;
}

asio::awaitable<Sent> ApiFrontEnd::send(Parser& parser, std::optional<Refusal> refusal,
                                        Attempt& attempt) {
  auto& request = parser.get();
  if (!refusal) {
    attempt.method = std::string(request.method_string());
    attempt.user_agent = std::string(request[bhttp::field::user_agent]);
    refusal = check_request(parser, authority_);
  }
  if (refusal) {
    co_await refuse_early(parser, *refusal, attempt);
    co_return Sent{};
  }
  std::string upstream_path =
      upstream_target(provider_, route_.base_path, std::string(request.target()));
  attempt.url = logged_url(route_, upstream_path);
  Verdict verdict = decide(context_, api_verdict_request(route_, attempt, upstream_path));
  allow_secret_target(route_, verdict);
  Sent sent = co_await answer_locally(parser, verdict, attempt);
  if (sent.step != Sent::Step::Relay) co_return sent;
  if (!co_await read_body(parser, attempt)) co_return Sent{};
  if (!co_await apply_model_policy(request, attempt, upstream_path)) co_return Sent{};
  if (!co_await within_rate_limits(parser, attempt)) co_return Sent{};
  if (!co_await within_budgets(request, attempt)) co_return Sent{};
  steer(request, attempt);
  sent.head_request = request.method() == bhttp::verb::head;
  sent.client_keep_alive = request.keep_alive();
  upgrade_requested_ = !request[bhttp::field::upgrade].empty();
  prepare_usage(request);
  rewrite_request(request, provider_, route_, upstream_path);
  if (context_.options.api_proxy.usage) request.set(bhttp::field::accept_encoding, "identity");
  if (!co_await send_to_provider(sent, attempt, request)) co_return Sent{};
  attempt.allowed = true;
  co_return sent;
}

// A 101 the client asked for: the connection becomes the provider's WebSocket. One it did
// not ask for is relayed as an interim response.
asio::awaitable<bool> ApiFrontEnd::switching(ResponseParser& parser, Attempt& attempt) {
  if (!upgrade_requested_) co_return false;
  bhttp::serializer<false, bhttp::buffer_body> serializer{parser.get()};
  auto [error, n] =
      co_await bhttp::async_write_header(client_, serializer, asio::as_tuple(asio::use_awaitable));
  attempt.status = 101;
  if (!error) {
    attempt.counts.down += n;
    co_await relay_upgraded(client_, buffer_, provider_connection_, attempt.counts);
  }
  record(context_, attempt);
  co_return true;
}

}  // namespace

asio::awaitable<void> serve_api_proxy(GatewayContext& context, tcp::socket client) {
  ConnectionScope scope(context, client);
  const ProviderInfo* provider = provider_by_port(local_endpoint(client).port);
  if (!provider) co_return;  // not one of awf's listeners
  const ApiRoute& route = context.options.api_proxy.routes[static_cast<std::size_t>(provider->id)];
  Attempt base;
  base.kind = "api";
  base.transport = "api-proxy";
  base.provider = std::string(provider->name);
  base.name = route.secret_target ? logged_authority(route) : route.target.host;
  base.host_field = logged_authority(route);
  if (!co_await scope.open(base)) {
    co_await reply_and_close(context, client, 503, plain_refusal_text(base.reason));
    co_return;
  }
  ApiFrontEnd front(context, scope, client, *provider, std::move(base));
  co_await serve_exchanges(front);
}

}  // namespace awf::proxy
