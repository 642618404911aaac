// Fuzzes the model policy on what a sandboxed client sends (untrusted): the request path and
// body the model is read from, and the rewrite that puts an alias's model in. Invariants: a
// body model is read only from a JSON object; after the rewrite the request names the new
// model where it named the old one; a literal pattern matches itself; a refusal's body is
// JSON with AWF's type; an alias resolved with a model list (the body read as one) picks a
// name of the list.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "proxy/api_usage.h"
#include "proxy/model_policy.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

const awf::proxy::ModelPolicy& policy() {
  static const awf::proxy::ModelPolicy parsed = awf::proxy::parse_model_policy(
      R"({"models": {"agent": ["openai/gpt-5", "copilot/claude-sonnet-4.6", "small"],
                     "small": ["openai/gpt-5-mini", "gemini/gemini-2.5-flash"],
                     "wild": ["openai/gpt-*", "copilot/*sonnet*", "gemini/*"]},
          "allowedModels": ["gpt-*", "claude-*", "gemini-*", "auto"],
          "disallowedModels": ["*opus*", "*preview*"]})");
  return parsed;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace awf::proxy;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  // The first line is the request path, the rest its body.
  const auto newline = text.find('\n');
  std::string path(text.substr(0, newline));
  std::string body(newline == std::string_view::npos ? std::string_view()
                                                     : text.substr(newline + 1));

  // The body doubles as a provider's model list (untrusted too): names are never empty.
  const std::vector<std::string> listed = parse_model_list(body);
  for (const std::string& name : listed) check(!name.empty());

  const auto where = request_model("POST", path, body);
  if (!where) return 0;
  if (!where->in_path) {
    check(nlohmann::json::parse(body, nullptr, false).is_object());
  }
  if (const auto refusal = check_model(policy(), where->model)) {
    const auto json = nlohmann::json::parse(model_refusal_json(*refusal), nullptr, false);
    check(json.is_object() && json["error"]["type"] == "model_policy_violation");
  }
  if (where->model.find('*') == std::string::npos) {
    check(model_glob_match(where->model, where->model));
  }
  for (const char* provider : {"openai", "copilot", "gemini"}) {
    const std::vector<std::string>* catalog = listed.empty() ? nullptr : &listed;
    const auto resolved = resolve_model_alias(policy(), provider, where->model, catalog);
    if (!resolved) continue;
    check(!check_model(policy(), *resolved));
    if (catalog != nullptr) {
      check(std::find(listed.begin(), listed.end(), *resolved) != listed.end());
    }
    std::string new_path = path;
    std::string new_body = body;
    replace_request_model(*where, *resolved, new_path, new_body);
    const auto again = request_model("POST", new_path, new_body);
    if (!where->in_path && !json_nesting_within(body, kMaxRewriteDepth)) {
      check(new_body == body);  // too deep to re-serialise: left as it is
      continue;
    }
    check(again && again->model == *resolved && again->in_path == where->in_path);
  }
  return 0;
}
