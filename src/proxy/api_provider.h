// The LLM providers of the API proxy (--enable-api-proxy) and the pure rules around them:
// which variables hold a provider's key, how the key is sent, where requests go, what the
// command sees instead of the key. No I/O.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace awf::proxy {

enum class Provider : std::uint8_t { OpenAi, Anthropic, Copilot, Gemini, Vertex };

inline constexpr std::size_t kProviderCount = 5;

struct ProviderInfo {
  Provider id;
  std::string_view name;                        // "openai": logs, /health, flag names
  std::uint16_t port;                           // listener on 127.0.0.1 inside the sandbox
  std::vector<std::string_view> key_variables;  // awf's environment, first non-empty wins
  std::string_view key_header;                  // header that carries the key upstream
  bool bearer;                                  // the header's value is "Bearer <key>"
  std::string_view default_target;
  bool has_base_path_flag;       // --<name>-api-base-path exists
  std::string_view models_path;  // the provider's model list (AWF's /reflect models_url), or ""
  // What the command's environment gets instead of the key (when the provider has one).
  std::vector<std::pair<std::string_view, std::string_view>> placeholders;
  std::vector<std::string_view> base_url_variables;
  // The base path of the default target when none is given (AWF: "/v1" for OpenAI, whose
  // clients may send unversioned paths such as Codex's /responses).
  std::string_view default_base_path;
  // Further variables the command gets with the base URLs (AWF's COPILOT_OFFLINE=true).
  std::vector<std::pair<std::string_view, std::string_view>> extra_variables;
};

// The providers, in port order (10000..10004).
std::span<const ProviderInfo> providers();
const ProviderInfo* provider_by_port(std::uint16_t port);

inline constexpr std::uint16_t kFirstApiPort = 10000;
// AWF's limit: a larger request body is answered 413 without contacting the provider.
inline constexpr std::uint64_t kApiBodyLimit = 10 * 1024 * 1024;

struct ApiTarget {
  std::string host;  // lower-case name or IP literal (no brackets)
  std::uint16_t port = 443;
  // "host", "host:port" or "[v6]:port" for Host headers and log URLs (port only when not 443).
  std::string authority() const;
};

// --<provider>-api-target: HOST or HOST:PORT, IPv6 in brackets. An https:// prefix and a
// trailing '/' are tolerated; http:// (keys never travel in clear), a path, user info, a
// query or an invalid name are refused with std::invalid_argument.
ApiTarget parse_api_target(std::string_view text);

// --<provider>-api-base-path: "" or "/a/b" (a leading '/' is added, trailing ones dropped).
// Refuses '?', '#', '..' segments, spaces and control characters (std::invalid_argument).
std::string normalize_base_path(std::string_view text);

// Request headers the client may not choose: any credential it sends is dropped (the real one
// is injected), so is anything that would reach the provider's cookie jar.
bool is_credential_header(std::string_view name);

// The path sent upstream: base path + the client's origin-form target (AWF: a target that
// already starts with the base path is not prefixed twice). For Gemini and Vertex,
// a `key=`/`apiKey=`/`api_key=` query parameter (the SDKs' other way of sending the key) is
// removed: the header carries it.
// Returns "" when `target` is not origin-form (does not start with '/').
std::string upstream_target(const ProviderInfo& provider, std::string_view base_path,
                            std::string_view target);

// The target without its query, for logs: a query may carry data the log should not keep.
std::string_view path_for_log(std::string_view target);

// {"status":"healthy","provider":"openai","configured":true}
std::string health_json(const ProviderInfo& provider, bool configured);

// The 503 body for a provider whose key is missing: names the variables to set.
std::string missing_key_message(const ProviderInfo& provider);

// The variables of missing_key_message, for messages: "A", "A or B".
std::string key_variable_names(const ProviderInfo& provider);

// KEY=VALUE entries the command gets for a configured provider: base URLs pointing at the
// listener and placeholder keys, so SDKs start and send their requests to awf.
std::vector<std::pair<std::string, std::string>> sandbox_variables(const ProviderInfo& provider);

}  // namespace awf::proxy
