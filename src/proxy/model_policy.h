// The API proxy's model policy (AWF's apiProxy.models, allowedModels, disallowedModels,
// requestedModel): which model a request names, what an alias stands for, and whether the
// model may be used. Pure: the request's bytes in, a decision out. No I/O.
#pragma once

#include <array>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace awf::proxy {

struct ModelAlias {
  std::string name;                   // as configured ("agent")
  std::vector<std::string> patterns;  // "name", "provider/name" or an alias; '*' globs
};

struct ModelPolicy {
  std::vector<ModelAlias> aliases;      // apiProxy.models, in the file's order
  std::vector<std::string> allowed;     // apiProxy.allowedModels: empty allows every model
  std::vector<std::string> disallowed;  // apiProxy.disallowedModels
  std::string requested_model;          // apiProxy.requestedModel ("" unset)
  std::string aliases_json;             // apiProxy.models as given, for /reflect ("" unset)

  // Nothing to look at in a request: its body is not parsed.
  bool inactive() const { return aliases.empty() && allowed.empty() && disallowed.empty(); }
};

// The config file's apiProxy section (JSON text, "" for none). Throws std::invalid_argument
// naming the key (config.apiProxy.models.NAME, ...) for a value of the wrong shape.
ModelPolicy parse_model_policy(std::string_view api_proxy_json);

// AWF's model glob: '*' matches any run of characters, everything else itself, ignoring
// ASCII case.
bool model_glob_match(std::string_view pattern, std::string_view name);

// The model an alias stands for on `provider`, or nullopt when `model` is no alias or none of
// its patterns gives a permitted model name; among the candidates, AWF's order: highest version
// first. With the provider's model list (`catalog`), patterns match its names ('*' globs
// included) as in AWF; without one, only the names of patterns without '*' are candidates.
std::optional<std::string> resolve_model_alias(const ModelPolicy& policy, std::string_view provider,
                                               std::string_view model,
                                               const std::vector<std::string>* catalog = nullptr);

// `model` is an alias whose patterns for `provider` include a '*' glob: only the provider's
// model list can say what it stands for.
bool alias_needs_catalog(const ModelPolicy& policy, std::string_view provider,
                         std::string_view model);

// The model names of a provider's model list (untrusted JSON): OpenAI's, Anthropic's and
// Copilot's {"data":[{"id"}]}, Gemini's {"models":[{"name":"models/ID"}]}. Only plain names
// (letters, digits, '.', '_', '@', '+', '-'): one goes into a request. Empty when none.
std::vector<std::string> parse_model_list(std::string_view json);

// The providers' model lists, fetched once per run when an alias needs one (shared by the
// gateway's threads), indexed like providers().
class ModelCatalogs {
 public:
  // nullopt: not fetched yet. A failed fetch is stored as an empty list (not tried again).
  std::optional<std::vector<std::string>> get(std::size_t provider) const;
  void put(std::size_t provider, std::vector<std::string> models);

 private:
  mutable std::mutex mutex_;
  std::array<std::optional<std::vector<std::string>>, 8> lists_;
};

struct ModelRefusal {
  std::string model;
  std::string reason;  // AWF's: "disallowed", "not_allowed" or "dynamic_model_unverifiable"
};

// AWF's rules: a disallowed match wins; with an allowlist, a model must match it; "auto" (the
// provider picks at run time) is refused under a denylist unless allowed by name.
std::optional<ModelRefusal> check_model(const ModelPolicy& policy, std::string_view model);

// AWF's 403 body: {"error":{"type":"model_policy_violation","message",...,"model","reason"}}.
std::string model_refusal_json(const ModelRefusal& refusal);

// Where a request names its model.
struct RequestModel {
  std::string model;
  bool in_path = false;  // Gemini/Vertex: .../models/NAME:verb (else the JSON body's "model")
};

// The model of a request: the top-level string "model" of a JSON object body (for POST, PUT
// and PATCH, as AWF reads it), else the NAME of a .../models/NAME[:verb] path (percent-
// decoded). nullopt when it names none.
std::optional<RequestModel> request_model(std::string_view method, std::string_view path,
                                          std::string_view body);

// The request with its model replaced (the body's "model" re-serialized, key order kept; or
// the path's NAME segment). `body`/`path` are changed in place; a body nesting deeper than
// kMaxRewriteDepth (api_usage.h) is left as it is.
void replace_request_model(const RequestModel& where, std::string_view model, std::string& path,
                           std::string& body);

}  // namespace awf::proxy
