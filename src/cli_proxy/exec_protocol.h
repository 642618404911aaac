// The GitHub CLI proxy's wire protocol (AWF's cli-proxy: POST /exec, GET /health) and the
// executor's rules, pure logic: the /exec request parser and the response formatter, the
// refused subcommands, the protected variables and the access.jsonl records. The bytes come
// from the sandbox, so every field is bounded and strictly typed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace awf::cli_proxy {

// AWF's CLI_PROXY_PORT: the executor listens on 127.0.0.1:11000 in the sandbox.
inline constexpr std::uint16_t kPort = 11000;
// As AWF's server: request bodies over 1 MiB are refused (413).
inline constexpr std::size_t kMaxRequestBytes = 1024 * 1024;
inline constexpr std::size_t kMaxArgs = 1024;
inline constexpr std::size_t kMaxEnvEntries = 256;
// gh's output kept per stream, as AWF's maxBuffer (10 MiB).
inline constexpr std::size_t kMaxOutputBytes = 10 * 1024 * 1024;

struct ExecRequest {
  std::vector<std::string> args;  // gh's arguments, without "gh"
  std::string cwd;                // "" when absent or null (logged only: see ExecutorConfig)
  std::string stdin_data;         // decoded from base64 ("" when absent, null or "")
  std::vector<std::pair<std::string, std::string>> env;  // in request order
};

// {args:[string...], cwd?:string|null, stdin?:base64|null, env?:{name:string}|null}; other
// members are ignored (AWF's client may add some). Throws std::invalid_argument with a
// message naming the field.
ExecRequest parse_exec_request(std::string_view body);

struct ExecResult {
  std::string stdout_data, stderr_data;
  int exit_code = 1;
};

// {"stdout":..., "stderr":..., "exitCode":N}; bytes that are not UTF-8 become U+FFFD (as
// AWF's Node server decodes gh's output).
std::string format_exec_response(const ExecResult& result);
// {"error": message}, the body of a 4xx/5xx answer.
std::string format_error(std::string_view message);
// The client's side of both. Throws std::invalid_argument for anything else.
ExecResult parse_exec_response(std::string_view body);
std::optional<std::string> parse_error_message(std::string_view body);
// The /exec request the client sends.
std::string format_exec_request(const std::vector<std::string>& args, std::string_view cwd,
                                std::string_view stdin_data);

// gh's subcommand as AWF finds it: the first argument that is not a flag, where a flag
// without '=' followed by a non-flag takes that as its value. nullopt for flags only.
std::optional<std::string> find_subcommand(const std::vector<std::string>& args);
// "Subcommand 'auth' is not permitted" for alias, auth, config and extension (they change gh
// itself, or read its credentials) and extension's other names (ext, extensions), nullopt
// otherwise.
std::optional<std::string> refusal(const std::vector<std::string>& args);

// Whether the request's env may set `name`. AWF refuses GH_HOST, GH_TOKEN, GITHUB_TOKEN and
// the trust stores and lets the rest through; here gh runs outside the sandbox as the user,
// where a variable can make it or the git it runs read configuration or start programs of the
// agent's choosing (GH_CONFIG_DIR, HOME, PATH, pagers, editors, browsers, GIT_*, LD_*), or
// send the token elsewhere (proxies). So only variables that shape gh's output and its repo
// choice are taken: GH_REPO, colour, prompt, locale and time zone.
bool is_allowed_variable(std::string_view name);
// The request's entries that are applied, in order.
std::vector<std::pair<std::string, std::string>> allowed_env(const ExecRequest& request);

// Strict base64 (RFC 4648, padding required, no whitespace). nullopt when malformed.
std::optional<std::string> decode_base64(std::string_view text);
std::string encode_base64(std::string_view bytes);

// access.jsonl lines (with '\n') as AWF's access-log.js writes them: timestamp (ISO 8601 UTC,
// milliseconds), _schema, event, then the event's fields.
inline constexpr std::string_view kAccessSchema = "cli-proxy-access/v0.28.0";
std::string denied_line(std::string_view timestamp, const std::vector<std::string>& args,
                        std::string_view error);
std::string start_line(std::string_view timestamp, const std::vector<std::string>& args,
                       std::string_view cwd);
std::string done_line(std::string_view timestamp, const std::vector<std::string>& args,
                      const ExecResult& result, long long duration_ms);
std::string error_line(std::string_view timestamp, std::string_view error);

}  // namespace awf::cli_proxy
