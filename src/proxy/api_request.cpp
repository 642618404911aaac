#include "proxy/api_request.h"

#include "proxy/anthropic_cache.h"
#include "proxy/api_budget.h"
#include "proxy/api_reflect.h"

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace awf::proxy {

void inject_key(bhttp::request<bhttp::string_body>& request, const ProviderInfo& provider,
                const ApiRoute& route) {
  const std::string_view key = route.key.view();
  if (!route.auth_header.empty()) {
    request.set(route.auth_header, key);
  } else {
    request.set(provider.key_header,
                provider.bearer ? "Bearer " + std::string(key) : std::string(key));
  }
}

namespace {

// --anthropic-auto-cache: the cache breakpoints in a /v1/messages body, and the beta flag that
// lets Anthropic honour their 1-hour TTL, merged into the agent's own anthropic-beta values.
// Before rewrite_request() prepares the payload, so Content-Length is the new body's.
void apply_auto_cache(bhttp::request<bhttp::string_body>& request, const ApiRoute& route) {
  if (route.cache_tail_ttl.empty() ||
      !is_auto_cache_request(request.method_string(), request.target())) {
    return;
  }
  if (std::optional<std::string> body = auto_cache_body(request.body(), route.cache_tail_ttl)) {
    request.body() = std::move(*body);
  }
  std::string betas;
  for (const auto& field : request) {
    if (!beast::iequals(field.name_string(), "anthropic-beta")) continue;
    if (!betas.empty()) betas += ',';
    betas += field.value();
  }
  request.set("anthropic-beta", with_extended_cache_beta(betas));
}

}  // namespace

// The request as the provider gets it: awf's path, awf's Host, awf's key, nothing the client
// chose to authenticate with.
void rewrite_request(bhttp::request<bhttp::string_body>& request, const ProviderInfo& provider,
                     const ApiRoute& route, const std::string& upstream_path) {
  const std::string upgrade(request[bhttp::field::upgrade]);
  strip_hop_by_hop(request);
  if (provider.id == Provider::Anthropic) apply_auto_cache(request, route);
  std::vector<std::string> credentials;
  for (const auto& field : request) {
    if (is_credential_header(field.name_string()) ||
        (!route.auth_header.empty() && beast::iequals(field.name_string(), route.auth_header))) {
      credentials.emplace_back(field.name_string());
    }
  }
  for (const std::string& name : credentials) request.erase(name);
  request.erase(bhttp::field::expect);  // answered by awf already
  request.target(upstream_path);
  request.set(bhttp::field::host, route.target.authority());
  inject_key(request, provider, route);
  if (!upgrade.empty()) {
    request.set(bhttp::field::connection, "Upgrade");
    request.set(bhttp::field::upgrade, upgrade);
  }
  request.prepare_payload();
}

// The verdict's question for a request to the provider: awf's target, the client's path.
VerdictRequest api_verdict_request(const ApiRoute& route, const Attempt& attempt,
                                   const std::string& upstream_path) {
  VerdictRequest request;
  request.entry = Entry::Api;
  request.host = route.target.host;
  request.port = route.target.port;
  request.url = attempt.url;
  request.host_field = attempt.host_field;
  request.scan.text = upstream_path;
  return request;
}

std::string logged_authority(const ApiRoute& route) {
  // A name, not AWF's "[REDACTED]": the access log's URL column must stay a URL (brackets
  // would read as an IPv6 literal), and .invalid never resolves.
  return route.secret_target ? "redacted.invalid" : route.target.authority();
}

std::string logged_url(const ApiRoute& route, std::string_view upstream_path) {
  std::string_view path = path_for_log(upstream_path);
  if (route.secret_target && path.starts_with(route.base_path)) {
    path.remove_prefix(route.base_path.size());
  }
  return "https://" + logged_authority(route) + std::string(path);
}

void allow_secret_target(const ApiRoute& route, Verdict& verdict) {
  if (!route.secret_target || verdict.denial != Denial::Policy) return;
  verdict.denial = Denial::None;
  verdict.status = 0;
  verdict.rule = 0;
  verdict.route = Route::Origin;
  verdict.reason = "the --openai-base-url-env endpoint";
}

std::string live_reflect(const ApiProxyOptions& options) {
  ModelLists models;
  for (std::size_t i = 0; i < models.size(); ++i) models[i] = options.catalogs->get(i);
  if (options.budget == nullptr) {
    return reflect_live(options.reflect, models, BudgetConfig{}, BudgetCounts{});
  }
  return reflect_live(options.reflect, models, options.budget->config(), options.budget->counts());
}

// A request awf refuses before it looks at the path: it must name a path (a client cannot
// choose where its request goes: an absolute URI or CONNECT would pretend it could, so it is
// refused rather than silently redirected), and its body must fit.
std::optional<Refusal> check_request(const bhttp::request_parser<bhttp::string_body>& parser,
                                     const std::string& authority) {
  const auto& request = parser.get();
  if (request.method() == bhttp::verb::connect || !std::string(request.target()).starts_with('/')) {
    return Refusal{
        400, "the API proxy takes paths only (GET /v1/...); it always forwards to " + authority};
  }
  if (parser.content_length() && *parser.content_length() > kApiBodyLimit) {
    return Refusal{413, "request body larger than " + std::to_string(kApiBodyLimit) + " bytes"};
  }
  return std::nullopt;
}

}  // namespace awf::proxy
