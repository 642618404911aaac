// The GitHub CLI proxy's server: AWF's cli-proxy HTTP interface (GET /health, POST /exec) on a
// listener the sandbox created (127.0.0.1:11000 in its network namespace), served from awf on
// threads of its own, since each /exec waits for gh. Every /exec is logged to access.jsonl.
#pragma once

#include <memory>

#include "cli_proxy/executor.h"
#include "common/unique_fd.h"

namespace awf::cli_proxy {

// gh calls that run at the same time; further requests wait for a free thread.
inline constexpr unsigned kThreads = 4;

class Server {
 public:
  // `log` is access.jsonl, open for appending.
  Server(UniqueFd listener, const Executor& executor, UniqueFd log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void start();
  // Stops accepting, ends open connections and joins the threads (a running gh is killed at
  // its deadline at the latest).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace awf::cli_proxy
