// --difc-proxy-host/--difc-proxy-ca-cert, the I/O half of the GitHub CLI proxy: takes the
// GitHub token out of awf's environment, prepares the executor (the real gh, its private
// directory and CA bundle), probes the DIFC proxy, and says what the sandbox needs (the `gh`
// client on PATH, AWF_CLI_PROXY_URL, a listener on 127.0.0.1:11000).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/environment.h"
#include "cli/options.h"
#include "cli_proxy/executor.h"
#include "cli_proxy/server.h"
#include "sandbox/listeners.h"
#include "sandbox/mounts.h"

namespace awf::cli {

// Where the client is shown in the sandbox (awf's binary, read-only); first on PATH.
inline constexpr std::string_view kCliProxyBinDir = "/run/awf/cli-proxy";

// A directory of awf's for gh (HOME, GH_CONFIG_DIR, cwd, the CA bundle), removed at exit:
// /tmp/awf-gh-<awf's pid>-XXXXXX, so that the next run removes one a SIGKILLed awf left.
class GhHome {
 public:
  GhHome();
  ~GhHome();
  GhHome(const GhHome&) = delete;
  GhHome& operator=(const GhHome&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct CliProxySetup {
  std::unique_ptr<GhHome> home;  // null when the proxy is off
  std::unique_ptr<cli_proxy::Executor> executor;
  std::vector<EnvEntry> env;              // AWF_CLI_PROXY_URL for the command
  std::vector<sandbox::BindMount> binds;  // the client, as gh
  bool enabled() const { return executor != nullptr; }
};

// Off without --difc-proxy-host. Otherwise: the token (GH_TOKEN, else GITHUB_TOKEN) is copied
// into a SecretText and every GitHub token variable is zeroed in awf's environment block;
// then gh is found, the bundle written and `gh api rate_limit` probed (retried). Must run
// while awf is single-threaded. Throws UsageError (a missing token, gh or CA file) or
// SetupError (the probe never succeeded).
CliProxySetup setup_cli_proxy(const Options& options);

// Puts the client's directory first on the command's PATH (`env`: KEY=VALUE entries).
void prepend_cli_proxy_path(std::vector<std::string>& env);

// Takes the CliProxy listener out of `listeners` and serves it, logging to
// <logs_dir>/cli-proxy-logs/access.jsonl (owned by the invoking user). Null when the proxy
// is off.
std::unique_ptr<cli_proxy::Server> serve_cli_proxy(const CliProxySetup& setup,
                                                   std::vector<sandbox::Listener>& listeners,
                                                   const std::string& logs_dir);

}  // namespace awf::cli
