#include "cli_proxy/exec_protocol.h"

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace awf::cli_proxy {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// Output that is not UTF-8 is shown as U+FFFD rather than refused.
std::string dump(const ordered_json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json parse_object(std::string_view body, const char* what) {
  json value = json::parse(body.begin(), body.end(), nullptr, false);
  if (value.is_discarded()) throw std::invalid_argument(std::string(what) + " is not JSON");
  if (!value.is_object()) throw std::invalid_argument(std::string(what) + " is not an object");
  return value;
}

std::vector<std::string> parse_args(const json& body) {
  const auto it = body.find("args");
  if (it == body.end() || !it->is_array()) throw std::invalid_argument("args must be an array");
  if (it->size() > kMaxArgs) {
    throw std::invalid_argument("args has more than " + std::to_string(kMaxArgs) + " entries");
  }
  std::vector<std::string> args;
  for (const json& arg : *it) {
    if (!arg.is_string()) throw std::invalid_argument("All args must be strings");
    args.push_back(arg.get<std::string>());
  }
  return args;
}

// An optional string member: absent and null are "".
std::string optional_string(const json& body, const char* name) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) return "";
  if (!it->is_string()) throw std::invalid_argument(std::string(name) + " must be a string");
  return it->get<std::string>();
}

std::vector<std::pair<std::string, std::string>> parse_env(const json& body) {
  std::vector<std::pair<std::string, std::string>> env;
  const auto it = body.find("env");
  if (it == body.end() || it->is_null()) return env;
  if (!it->is_object()) throw std::invalid_argument("env must be an object");
  if (it->size() > kMaxEnvEntries) {
    throw std::invalid_argument("env has more than " + std::to_string(kMaxEnvEntries) + " entries");
  }
  for (const auto& [name, value] : it->items()) {
    if (!value.is_string()) throw std::invalid_argument("env." + name + " must be a string");
    env.emplace_back(name, value.get<std::string>());
  }
  return env;
}

int sextet(char c) {
  const std::size_t at = kBase64Alphabet.find(c);
  return at == std::string_view::npos ? -1 : static_cast<int>(at);
}

ordered_json record(std::string_view timestamp, std::string_view event) {
  ordered_json line;
  line["timestamp"] = timestamp;
  line["_schema"] = kAccessSchema;
  line["event"] = event;
  return line;
}

std::string line_of(const ordered_json& value) {
  return dump(value) + "\n";
}

}  // namespace

ExecRequest parse_exec_request(std::string_view body) {
  if (body.size() > kMaxRequestBytes) throw std::invalid_argument("request body too large");
  const json parsed = parse_object(body, "the request body");
  ExecRequest request;
  request.args = parse_args(parsed);
  request.cwd = optional_string(parsed, "cwd");
  const std::string encoded = optional_string(parsed, "stdin");
  const std::optional<std::string> decoded = decode_base64(encoded);
  if (!decoded) throw std::invalid_argument("stdin must be base64");
  request.stdin_data = *decoded;
  request.env = parse_env(parsed);
  return request;
}

std::string format_exec_response(const ExecResult& result) {
  ordered_json body;
  body["stdout"] = result.stdout_data;
  body["stderr"] = result.stderr_data;
  body["exitCode"] = result.exit_code;
  return dump(body);
}

std::string format_error(std::string_view message) {
  ordered_json body;
  body["error"] = message;
  return dump(body);
}

ExecResult parse_exec_response(std::string_view body) {
  const json parsed = parse_object(body, "the CLI proxy's answer");
  ExecResult result;
  result.stdout_data = optional_string(parsed, "stdout");
  result.stderr_data = optional_string(parsed, "stderr");
  const auto code = parsed.find("exitCode");
  if (code == parsed.end() || !code->is_number_integer()) {
    throw std::invalid_argument("the CLI proxy's answer has no exitCode");
  }
  result.exit_code = static_cast<int>(std::clamp<std::int64_t>(code->get<std::int64_t>(), 0, 255));
  return result;
}

std::optional<std::string> parse_error_message(std::string_view body) {
  const json parsed = json::parse(body.begin(), body.end(), nullptr, false);
  if (!parsed.is_object()) return std::nullopt;
  const auto it = parsed.find("error");
  if (it == parsed.end() || !it->is_string()) return std::nullopt;
  return it->get<std::string>();
}

std::string format_exec_request(const std::vector<std::string>& args, std::string_view cwd,
                                std::string_view stdin_data) {
  ordered_json body;
  body["args"] = args;
  body["cwd"] = cwd;
  body["stdin"] = encode_base64(stdin_data);
  return dump(body);
}

std::optional<std::string> find_subcommand(const std::vector<std::string>& args) {
  std::size_t i = 0;
  while (i < args.size()) {
    const std::string& arg = args[i];
    if (arg.empty() || arg[0] != '-') return arg;
    const bool takes_next = arg.find('=') == std::string::npos && i + 1 < args.size() &&
                            (args[i + 1].empty() || args[i + 1][0] != '-');
    i += takes_next ? 2 : 1;
  }
  return std::nullopt;
}

std::optional<std::string> refusal(const std::vector<std::string>& args) {
  // AWF's four, and gh's own names for `extension` (which AWF lets through): an installed
  // extension is a program gh would run outside the sandbox.
  static constexpr std::array<std::string_view, 6> kRefused = {"alias",     "auth",       "config",
                                                               "extension", "extensions", "ext"};
  const std::optional<std::string> subcommand = find_subcommand(args);
  if (!subcommand || std::find(kRefused.begin(), kRefused.end(), *subcommand) == kRefused.end()) {
    return std::nullopt;
  }
  return "Subcommand '" + *subcommand + "' is not permitted";
}

bool is_allowed_variable(std::string_view name) {
  static constexpr std::array<std::string_view, 12> kAllowed = {"GH_REPO",
                                                                "GH_PROMPT_DISABLED",
                                                                "GH_NO_UPDATE_NOTIFIER",
                                                                "GH_SPINNER_DISABLED",
                                                                "GH_FORCE_TTY",
                                                                "NO_COLOR",
                                                                "CLICOLOR",
                                                                "CLICOLOR_FORCE",
                                                                "GLAMOUR_STYLE",
                                                                "TZ",
                                                                "LANG",
                                                                "LC_ALL"};
  return std::find(kAllowed.begin(), kAllowed.end(), name) != kAllowed.end();
}

std::vector<std::pair<std::string, std::string>> allowed_env(const ExecRequest& request) {
  std::vector<std::pair<std::string, std::string>> env;
  for (const auto& entry : request.env) {
    // A NUL would cut the entry short in execve's array.
    if (is_allowed_variable(entry.first) && entry.second.find('\0') == std::string::npos) {
      env.push_back(entry);
    }
  }
  return env;
}

std::optional<std::string> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const int pad = (text[i + 3] == '=' ? 1 : 0) + (text[i + 2] == '=' ? 1 : 0);
    if (pad > 0 && !last) return std::nullopt;
    if (pad == 1 && text[i + 2] == '=') return std::nullopt;  // "x=y=" style
    int values[4] = {0, 0, 0, 0};
    for (int k = 0; k < 4 - pad; ++k) {
      values[k] = sextet(text[i + static_cast<std::size_t>(k)]);
      if (values[k] < 0) return std::nullopt;
    }
    const unsigned triple =
        (static_cast<unsigned>(values[0]) << 18) | (static_cast<unsigned>(values[1]) << 12) |
        (static_cast<unsigned>(values[2]) << 6) | static_cast<unsigned>(values[3]);
    out.push_back(static_cast<char>((triple >> 16) & 0xff));
    if (pad < 2) out.push_back(static_cast<char>((triple >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(triple & 0xff));
  }
  return out;
}

std::string encode_base64(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    const std::size_t left = bytes.size() - i;
    unsigned triple = static_cast<unsigned char>(bytes[i]) << 16;
    if (left > 1) triple |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (left > 2) triple |= static_cast<unsigned char>(bytes[i + 2]);
    out.push_back(kBase64Alphabet[(triple >> 18) & 63]);
    out.push_back(kBase64Alphabet[(triple >> 12) & 63]);
    out.push_back(left > 1 ? kBase64Alphabet[(triple >> 6) & 63] : '=');
    out.push_back(left > 2 ? kBase64Alphabet[triple & 63] : '=');
  }
  return out;
}

std::string denied_line(std::string_view timestamp, const std::vector<std::string>& args,
                        std::string_view error) {
  ordered_json line = record(timestamp, "exec_denied");
  line["args"] = args;
  line["error"] = error;
  return line_of(line);
}

std::string start_line(std::string_view timestamp, const std::vector<std::string>& args,
                       std::string_view cwd) {
  ordered_json line = record(timestamp, "exec_start");
  line["args"] = args;
  line["cwd"] = cwd.empty() ? ordered_json(nullptr) : ordered_json(cwd);
  return line_of(line);
}

std::string done_line(std::string_view timestamp, const std::vector<std::string>& args,
                      const ExecResult& result, long long duration_ms) {
  ordered_json line = record(timestamp, "exec_done");
  line["args"] = args;
  line["exitCode"] = result.exit_code;
  line["durationMs"] = duration_ms;
  line["stdoutBytes"] = result.stdout_data.size();
  line["stderrBytes"] = result.stderr_data.size();
  // As AWF: the start of stderr when gh failed, for debugging.
  if (result.exit_code != 0 && !result.stderr_data.empty()) {
    line["stderrPreview"] = result.stderr_data.substr(0, 500);
  }
  return line_of(line);
}

std::string error_line(std::string_view timestamp, std::string_view error) {
  ordered_json line = record(timestamp, "exec_error");
  line["error"] = error;
  return line_of(line);
}

}  // namespace awf::cli_proxy
