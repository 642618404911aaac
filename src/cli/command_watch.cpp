#include "cli/command_watch.h"

#include <signal.h>

#include <boost/asio/executor_work_guard.hpp>
#include <chrono>
#include <cstdio>

namespace asio = boost::asio;

namespace awf::cli {
namespace {

constexpr auto kFlushInterval = std::chrono::milliseconds(250);
constexpr auto kStopGrace = std::chrono::seconds(10);
constexpr auto kDrainTime = std::chrono::milliseconds(500);

}  // namespace

CommandWatch::CommandWatch(asio::io_context& io)
    : io_(io),
      signals_(io, SIGINT, SIGTERM, SIGHUP),
      flush_timer_(io),
      kill_timer_(io),
      agent_timer_(io) {
  signals_.add(SIGCHLD);
}

CommandEnd CommandWatch::wait(sandbox::Sandbox& sandbox, audit::LogWriter& log,
                              unsigned timeout_minutes) {
  sandbox_ = &sandbox;
  log_ = &log;
  schedule_flush();
  wait_signal();
  if (timeout_minutes > 0) start_agent_timer(timeout_minutes);
  io_.run();
  return end_;
}

void CommandWatch::schedule_flush() {
  flush_timer_.expires_after(kFlushInterval);
  flush_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    log_->flush();
    schedule_flush();
  });
}

void CommandWatch::wait_signal() {
  signals_.async_wait([this](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGCHLD) {
      if (auto code = sandbox_->try_wait()) {
        end_.exit_code = *code;
        io_.stop();
        return;
      }
    } else {
      // Forwarded to the command through the init; if it does not end, it is killed.
      if (end_.interrupted_by == 0) end_.interrupted_by = signal;
      stop_command(signal);
    }
    wait_signal();
  });
}

void CommandWatch::start_agent_timer(unsigned minutes) {
  agent_timer_.expires_after(std::chrono::minutes(minutes));
  agent_timer_.async_wait([this, minutes](const boost::system::error_code& ec) {
    if (ec) return;
    end_.timed_out = true;
    std::fprintf(stderr, "awf: --agent-timeout of %u minute(s) reached: stopping the command\n",
                 minutes);
    stop_command(SIGTERM);
  });
}

// `signal` now, SIGKILL after kStopGrace.
void CommandWatch::stop_command(int signal) {
  sandbox_->forward_signal(signal);
  kill_timer_.expires_after(kStopGrace);
  kill_timer_.async_wait([this](const boost::system::error_code& timer_error) {
    if (!timer_error) sandbox_->forward_signal(SIGKILL);
  });
}

void CommandWatch::close(proxy::Gateway& gateway) {
  gateway.stop();
  flush_timer_.cancel();
  kill_timer_.cancel();
  agent_timer_.cancel();
  signals_.cancel();
  const auto deadline = std::chrono::steady_clock::now() + kDrainTime;
  // The workers finish their connections (the resolver's loop keeps serving them). The
  // guard makes run_one_for wait rather than return at once when the loop has no work (a
  // busy loop that took a core from the workers it waited for); each worker posts to this
  // loop when it finishes.
  {
    const auto waiting = asio::make_work_guard(io_);
    while (!gateway.finished() && std::chrono::steady_clock::now() < deadline) {
      io_.restart();
      io_.run_one_for(std::chrono::milliseconds(5));
    }
  }
  gateway.join();
}

}  // namespace awf::cli
