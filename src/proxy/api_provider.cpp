#include "proxy/api_provider.h"

#include <algorithm>
#include <stdexcept>

#include "proxy/http_head.h"
#include "proxy/upstream_proxy.h"

namespace awf::proxy {
namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return (x >= 'A' && x <= 'Z' ? x | 0x20 : x) == (y >= 'A' && y <= 'Z' ? y | 0x20 : y);
  });
}

// AWF gives the command its proxy's address; awf's listeners are on 127.0.0.1 in the sandbox
// (also named api-proxy there). No version suffix: AWF's base URLs have none.
std::string listener_url(const ProviderInfo& provider) {
  return "http://127.0.0.1:" + std::to_string(provider.port);
}

}  // namespace

// Base URLs follow AWF and each official SDK: the OpenAI SDKs (and Codex) read
// OPENAI_BASE_URL (AWF's has no /v1: the default target's base path adds it); Anthropic's
// SDKs read ANTHROPIC_BASE_URL (they add /v1/messages); the Gemini SDK and CLI read
// GOOGLE_GEMINI_BASE_URL (GEMINI_API_BASE_URL for older tools), also without a version;
// Copilot's CLI reads COPILOT_API_URL (COPILOT_PROVIDER_BASE_URL in its BYOK mode, which
// AWF's COPILOT_OFFLINE=true selects); the Gemini CLI reads GOOGLE_VERTEX_BASE_URL for Vertex.
// Gemini's key is GEMINI_API_KEY only: GOOGLE_API_KEY is Vertex's (as in AWF).
std::span<const ProviderInfo> providers() {
  static const std::array<ProviderInfo, kProviderCount> table = {{
      {Provider::OpenAi,
       "openai",
       kFirstApiPort,
       {"OPENAI_API_KEY", "CODEX_API_KEY"},
       "Authorization",
       true,
       "api.openai.com",
       true,
       "/v1/models",
       {{"OPENAI_API_KEY", "sk-placeholder-for-api-proxy"},
        {"CODEX_API_KEY", "sk-placeholder-for-api-proxy"}},
       {"OPENAI_BASE_URL"},
       "/v1",
       {}},
      {Provider::Anthropic,
       "anthropic",
       kFirstApiPort + 1,
       {"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"},
       "x-api-key",
       false,
       "api.anthropic.com",
       true,
       "/v1/models",
       {{"ANTHROPIC_API_KEY", "sk-ant-placeholder-key-for-credential-isolation"},
        {"ANTHROPIC_AUTH_TOKEN", "sk-ant-placeholder-key-for-credential-isolation"}},
       {"ANTHROPIC_BASE_URL"},
       "",
       {}},
      {Provider::Copilot,
       "copilot",
       kFirstApiPort + 2,
       {"COPILOT_GITHUB_TOKEN", "COPILOT_PROVIDER_API_KEY"},
       "Authorization",
       true,
       "api.githubcopilot.com",
       false,
       "/models",
       {{"COPILOT_GITHUB_TOKEN", "ghu_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"},
        {"COPILOT_TOKEN", "ghu_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}},
       {"COPILOT_API_URL", "COPILOT_PROVIDER_BASE_URL"},
       "",
       {{"COPILOT_OFFLINE", "true"}}},
      {Provider::Gemini,
       "gemini",
       kFirstApiPort + 3,
       {"GEMINI_API_KEY"},
       "x-goog-api-key",
       false,
       "generativelanguage.googleapis.com",
       true,
       "/v1beta/models",
       {{"GEMINI_API_KEY", "gemini-api-key-placeholder-for-credential-isolation"}},
       {"GOOGLE_GEMINI_BASE_URL", "GEMINI_API_BASE_URL"},
       "",
       {}},
      {Provider::Vertex,
       "vertex",
       kFirstApiPort + 4,
       {"GOOGLE_API_KEY"},
       "x-goog-api-key",
       false,
       "aiplatform.googleapis.com",
       true,
       "",
       {{"GOOGLE_API_KEY", "google-api-key-placeholder-for-credential-isolation"}},
       {"GOOGLE_VERTEX_BASE_URL"},
       "",
       {}},
  }};
  return table;
}

const ProviderInfo* provider_by_port(std::uint16_t port) {
  for (const ProviderInfo& provider : providers()) {
    if (provider.port == port) return &provider;
  }
  return nullptr;
}

std::string ApiTarget::authority() const {
  return http::format_authority(host, port, 443);
}

ApiTarget parse_api_target(std::string_view text) {
  std::string_view rest = text;
  if (const auto scheme = rest.find("://"); scheme != std::string_view::npos) {
    if (!equals_ignoring_case(rest.substr(0, scheme), "https")) {
      throw std::invalid_argument("only https:// targets: the key never travels in clear text");
    }
    rest.remove_prefix(scheme + 3);
  }
  if (rest.ends_with('/')) rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos) {
    throw std::invalid_argument(
        "a target is HOST or HOST:PORT, without a path (use the "
        "provider's --*-api-base-path for a path prefix)");
  }
  if (rest.find('@') != std::string_view::npos) {
    throw std::invalid_argument("a target has no user info");
  }
  if (rest.empty()) throw std::invalid_argument("no host");
  // The authority grammar is the proxy URL's: one parser for both.
  const ProxyUrl parsed = parse_proxy_url("http://" + std::string(rest));
  if (parsed.host.find(':') == std::string::npos &&
      (parsed.host.front() == '.' || parsed.host.back() == '.' ||
       parsed.host.find("..") != std::string::npos)) {
    throw std::invalid_argument("invalid host name '" + parsed.host + "' (empty label)");
  }
  const auto bracket = rest.rfind(']');
  const bool has_port =
      rest.find(':', bracket == std::string_view::npos ? 0 : bracket) != std::string_view::npos;
  return ApiTarget{parsed.host, has_port ? parsed.port : std::uint16_t{443}};
}

std::string normalize_base_path(std::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '?' || c == '#' || c == '\\') {
      throw std::invalid_argument(
          "a base path has no spaces, control characters, '?', '#' or "
          "'\\'");
    }
  }
  std::string path(text);
  if (!path.starts_with('/')) path.insert(path.begin(), '/');
  while (!path.empty() && path.back() == '/') path.pop_back();
  for (std::size_t start = 0; start < path.size();) {
    const std::size_t end = std::min(path.find('/', start + 1), path.size());
    const std::string_view segment = std::string_view(path).substr(start + 1, end - start - 1);
    if (segment == ".." || segment == ".") {
      throw std::invalid_argument("a base path has no '.' or '..' segments");
    }
    start = end;
  }
  return path;
}

bool is_credential_header(std::string_view name) {
  for (std::string_view credential : {"authorization", "proxy-authorization", "x-api-key",
                                      "x-goog-api-key", "api-key", "cookie", "cookie2"}) {
    if (equals_ignoring_case(name, credential)) return true;
  }
  return false;
}

std::string upstream_target(const ProviderInfo& provider, std::string_view base_path,
                            std::string_view target) {
  if (!target.starts_with('/')) return "";
  const std::string_view path = target.substr(0, target.find('?'));
  const bool prefixed = !base_path.empty() && path.starts_with(base_path) &&
                        (path.size() == base_path.size() || path[base_path.size()] == '/');
  std::string out(prefixed ? "" : base_path);
  const auto question = target.find('?');
  out += target.substr(0, question);
  if (question == std::string_view::npos) return out;
  std::string_view query = target.substr(question + 1);
  // Google's SDKs may also send the key as a query parameter: the header carries it instead.
  if (provider.key_header != "x-goog-api-key") {
    out += '?';
    out += query;
    return out;
  }
  std::string kept;
  while (true) {
    const auto amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    const std::string_view name = param.substr(0, param.find('='));
    if (name != "key" && name != "apiKey" && name != "api_key") {
      if (!kept.empty()) kept += '&';
      kept += param;
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  if (!kept.empty()) out += "?" + kept;
  return out;
}

std::string_view path_for_log(std::string_view target) {
  return target.substr(0, target.find('?'));
}

std::string health_json(const ProviderInfo& provider, bool configured) {
  return std::string(R"({"status":"healthy","provider":")") + std::string(provider.name) +
         R"(","configured":)" + (configured ? "true" : "false") + "}";
}

std::string key_variable_names(const ProviderInfo& provider) {
  std::string names;
  for (const std::string_view name : provider.key_variables) {
    if (!names.empty()) names += " or ";
    names += name;
  }
  return names;
}

std::string missing_key_message(const ProviderInfo& provider) {
  return "awf: the " + std::string(provider.name) + " API proxy has no key: set " +
         key_variable_names(provider) + " in awf's environment\n";
}

std::vector<std::pair<std::string, std::string>> sandbox_variables(const ProviderInfo& provider) {
  std::vector<std::pair<std::string, std::string>> variables;
  for (const std::string_view name : provider.base_url_variables) {
    variables.emplace_back(std::string(name), listener_url(provider));
  }
  for (const auto& [name, value] : provider.placeholders) {
    variables.emplace_back(std::string(name), std::string(value));
  }
  for (const auto& [name, value] : provider.extra_variables) {
    variables.emplace_back(std::string(name), std::string(value));
  }
  return variables;
}

}  // namespace awf::proxy
