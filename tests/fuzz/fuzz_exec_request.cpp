// libFuzzer target: the CLI proxy's /exec request parser (bytes from the sandbox), and what the
// executor derives from a request: the subcommand rule, the variables taken, the log lines and
// the response; the client's response parser.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "cli_proxy/exec_protocol.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace awf::cli_proxy;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  try {
    const ExecRequest request = parse_exec_request(body);
    check(request.args.size() <= kMaxArgs && request.env.size() <= kMaxEnvEntries);
    refusal(request.args);
    for (const auto& [name, value] : allowed_env(request)) {
      check(is_allowed_variable(name) && value.find('\0') == std::string::npos);
    }
    const std::string ts = "2026-01-01T00:00:00.000Z";
    check(start_line(ts, request.args, request.cwd).back() == '\n');
    const ExecResult result{request.stdin_data, request.cwd, 3};
    check(done_line(ts, request.args, result, 1).back() == '\n');
    // The response the server would send reads back on the client (UTF-8 input unchanged).
    check(parse_exec_response(format_exec_response(result)).exit_code == 3);
    check(decode_base64(encode_base64(request.stdin_data)) == request.stdin_data);
  } catch (const std::invalid_argument&) {
  }
  try {
    parse_exec_response(body);
  } catch (const std::invalid_argument&) {
  }
  parse_error_message(body);
  decode_base64(body);
  return 0;
}
