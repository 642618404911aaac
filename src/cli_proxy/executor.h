// The GitHub CLI proxy's executor: runs the real gh outside the sandbox, as the invoking user,
// with the token, GH_HOST and the CA bundle awf chose. argv only, never a shell; output bounded
// per stream (kMaxOutputBytes) and the call bounded in time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli_proxy/exec_protocol.h"
#include "common/secret_text.h"

namespace awf::cli_proxy {

struct ExecutorConfig {
  std::string gh_path;           // absolute: found on awf's PATH before the run
  std::vector<std::string> env;  // KEY=VALUE, everything but the token
  SecretText token;              // GH_TOKEN and GH_ENTERPRISE_TOKEN for gh
  // gh's cwd: a private directory of awf's, never the request's cwd. A directory the agent can
  // write may hold a .git/config whose settings (core.fsmonitor, core.sshCommand) the git
  // that gh runs would execute outside the sandbox. AWF's executor ignores the cwd as well.
  std::string workdir;
  uid_t uid = 0;  // who gh runs as when awf is root
  gid_t gid = 0;
  std::chrono::milliseconds timeout{30000};  // AWF's default
};

class Executor {
 public:
  explicit Executor(ExecutorConfig config) : config_(std::move(config)) {}

  // Runs gh with `args`, the request's allowed variables `extra_env` (which never replace the
  // executor's own) and `stdin_data`. A call over the time limit or the output limit is killed
  // (with its process group) and answers exit code 1 with a message on stderr. Safe to call
  // from several threads. `timeout` replaces the configured one (the start-up probe's).
  ExecResult run(const std::vector<std::string>& args,
                 const std::vector<std::pair<std::string, std::string>>& extra_env,
                 std::string_view stdin_data,
                 std::optional<std::chrono::milliseconds> timeout = std::nullopt) const;

  const ExecutorConfig& config() const { return config_; }

 private:
  ExecutorConfig config_;
};

}  // namespace awf::cli_proxy
