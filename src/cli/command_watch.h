// awf's event loop while the command runs: it writes the logs out on a timer, passes
// SIGINT/SIGTERM/SIGHUP on to the command (SIGKILL when it outlives them), stops it at
// --agent-timeout, and ends when the sandbox's init is reaped.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <optional>

#include "audit/log_writer.h"
#include "proxy/gateway.h"
#include "sandbox/sandbox.h"

namespace awf::cli {

struct CommandEnd {
  std::optional<int> exit_code;  // the sandbox's; none when the loop ended otherwise
  int interrupted_by = 0;        // the first signal passed on, 0 when none
  bool timed_out = false;        // --agent-timeout stopped the command
};

class CommandWatch {
 public:
  // Takes the signals from here on: before the sandbox is cloned, so that its init inherits
  // no surprises (it installs its own).
  explicit CommandWatch(boost::asio::io_context& io);

  // Runs the loop until the command has ended.
  CommandEnd wait(sandbox::Sandbox& sandbox, audit::LogWriter& log, unsigned timeout_minutes);

  // The command is gone: closes every connection so that its record is written, and lets
  // the workers finish for a short while.
  void close(proxy::Gateway& gateway);

 private:
  void schedule_flush();
  void wait_signal();
  void start_agent_timer(unsigned minutes);
  void stop_command(int signal);

  boost::asio::io_context& io_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer flush_timer_;
  boost::asio::steady_timer kill_timer_;
  boost::asio::steady_timer agent_timer_;
  sandbox::Sandbox* sandbox_ = nullptr;
  audit::LogWriter* log_ = nullptr;
  CommandEnd end_;
};

}  // namespace awf::cli
