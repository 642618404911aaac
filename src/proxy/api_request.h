// The API proxy's request as the provider gets it, and the requests it refuses outright
// (api_proxy.cpp). Beast-heavy: include it in the API proxy's translation units only.
#pragma once

#include <boost/beast/http.hpp>
#include <optional>
#include <string>

#include "proxy/access_record.h"
#include "proxy/api_provider.h"
#include "proxy/gateway.h"
#include "proxy/http_relay.h"
#include "proxy/verdict.h"

namespace awf::proxy {

// awf's key, in the provider's header (or the one --*-api-auth-header names).
void inject_key(boost::beast::http::request<boost::beast::http::string_body>& request,
                const ProviderInfo& provider, const ApiRoute& route);

// awf's path, awf's Host, awf's key (in the provider's header or the one
// --*-api-auth-header names); every header the client chose to authenticate with removed;
// with --anthropic-auto-cache, an Anthropic /v1/messages body with AWF's cache breakpoints.
void rewrite_request(boost::beast::http::request<boost::beast::http::string_body>& request,
                     const ProviderInfo& provider, const ApiRoute& route,
                     const std::string& upstream_path);

// The verdict's question for a request to the provider: awf's target, the client's path.
VerdictRequest api_verdict_request(const ApiRoute& route, const Attempt& attempt,
                                   const std::string& upstream_path);

// What the records show of `route`'s endpoint: its authority, or "redacted.invalid" for a
// --openai-base-url-env endpoint (AWF's logs say "[REDACTED]").
std::string logged_authority(const ApiRoute& route);

// The URL a record shows for a request sent to `upstream_path`: https://, logged_authority(),
// the path without its query, and for a secret endpoint without its base path either.
std::string logged_url(const ApiRoute& route, std::string_view upstream_path);

// A --openai-base-url-env host is allowed by its route (it is in no allowlist, which the policy
// manifest would show): a policy denial of it becomes an allowed verdict.
void allow_secret_target(const ApiRoute& route, Verdict& verdict);

// GET /reflect as the run stands (api_reflect.h): the model lists fetched so far and the
// budgets' counts.
std::string live_reflect(const ApiProxyOptions& options);

// A request refused before its path is looked at: an absolute URI or CONNECT (the client
// cannot choose where its request goes), or a declared body over kApiBodyLimit.
std::optional<Refusal> check_request(
    const boost::beast::http::request_parser<boost::beast::http::string_body>& parser,
    const std::string& authority);

}  // namespace awf::proxy
