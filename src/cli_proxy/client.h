// The sandbox's `gh`: awf's own binary under that name (first on the command's PATH when the
// CLI proxy is on). Sends its arguments, working directory and stdin to the executor at
// AWF_CLI_PROXY_URL (POST /exec) and replays the answer: stdout, stderr, exit code.
#pragma once

namespace awf::cli_proxy {

// Whether argv[0] names the client ("gh", with or without a directory).
bool is_client_name(const char* argv0);

// Returns the exit code: gh's, or 1 with a "gh: ..." line when the proxy refused the call or
// could not be reached.
int run_client(int argc, char** argv);

}  // namespace awf::cli_proxy
