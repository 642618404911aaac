#include "cli_proxy/executor.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/unique_fd.h"

namespace awf::cli_proxy {
namespace {

using Clock = std::chrono::steady_clock;

struct Pipe {
  UniqueFd read, write;
};

Pipe make_pipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return {};
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// The child's environment: the executor's own entries win over the request's.
std::vector<std::string> child_env(const ExecutorConfig& config,
                                   const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> env = config.env;
  for (const auto& [name, value] : extra) {
    const std::string prefix = name + "=";
    const bool taken = std::any_of(env.begin(), env.end(), [&](const std::string& entry) {
      return entry.compare(0, prefix.size(), prefix) == 0;
    });
    if (!taken) env.push_back(prefix + value);
  }
  return env;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& text : strings) out.push_back(text.data());
  out.push_back(nullptr);
  return out;
}

// In the forked child of a threaded process: async-signal-safe calls only, up to execve.
[[noreturn]] void exec_child(const ExecutorConfig& config, char* const* argv, char* const* envp,
                             int in, int out, int err) {
  setpgid(0, 0);  // a timeout kills gh and whatever it started
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(126);
  // awf's descriptors (the sandbox's listeners, logs, client sockets) stay with awf.
  close_range(3, ~0U, 0);
  // Under sudo gh runs as the user who called it, never as root.
  if (geteuid() == 0 && config.uid != 0) {
    if (setgroups(0, nullptr) < 0 || setgid(config.gid) < 0 || setuid(config.uid) < 0) {
      _exit(126);
    }
  }
  if (chdir(config.workdir.c_str()) < 0) _exit(126);
  execve(argv[0], argv, envp);
  _exit(127);
}

// Feeds stdin and collects both streams until gh closes them, the deadline passes or a stream
// goes over the limit. Returns "" or what went wrong.
std::string exchange(UniqueFd& in, UniqueFd& out, UniqueFd& err, std::string_view input,
                     ExecResult& result, Clock::time_point deadline) {
  std::size_t written = 0;
  if (input.empty()) in.reset();
  for (const UniqueFd* fd : {&in, &out, &err}) {
    if (fd->get() >= 0) fcntl(fd->get(), F_SETFL, O_NONBLOCK);
  }
  char buffer[65536];
  while (out.get() >= 0 || err.get() >= 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return "timed out";
    pollfd fds[3] = {{in.get(), POLLOUT, 0}, {out.get(), POLLIN, 0}, {err.get(), POLLIN, 0}};
    if (poll(fds, 3, static_cast<int>(left.count())) < 0 && errno != EINTR) return "poll failed";
    if (fds[0].revents != 0) {
      const ssize_t n = write(in.get(), input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<std::size_t>(n);
      if (n < 0 && errno != EAGAIN) written = input.size();  // gh closed its stdin
      if (written == input.size()) in.reset();
    }
    UniqueFd* streams[2] = {&out, &err};
    std::string* sinks[2] = {&result.stdout_data, &result.stderr_data};
    for (int i = 0; i < 2; ++i) {
      if (fds[i + 1].revents == 0) continue;
      const ssize_t n = read(streams[i]->get(), buffer, sizeof buffer);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        streams[i]->reset();
      } else if (n > 0) {
        if (sinks[i]->size() + static_cast<std::size_t>(n) > kMaxOutputBytes) {
          return "output over " + std::to_string(kMaxOutputBytes) + " bytes";
        }
        sinks[i]->append(buffer, static_cast<std::size_t>(n));
      }
    }
  }
  return "";
}

int wait_for(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

}  // namespace

ExecResult Executor::run(const std::vector<std::string>& args,
                         const std::vector<std::pair<std::string, std::string>>& extra_env,
                         std::string_view stdin_data,
                         std::optional<std::chrono::milliseconds> timeout) const {
  ExecResult result;
  std::vector<std::string> argv_text{config_.gh_path};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<std::string> env_text = child_env(config_, extra_env);
  // gh takes GH_TOKEN for github.com and GH_ENTERPRISE_TOKEN for any other host, such as
  // the DIFC proxy's localhost:P.
  const std::size_t token_entries = env_text.size();
  env_text.push_back("GH_TOKEN=" + std::string(config_.token.view()));
  env_text.push_back("GH_ENTERPRISE_TOKEN=" + std::string(config_.token.view()));
  const std::vector<char*> argv = pointers(argv_text);
  const std::vector<char*> envp = pointers(env_text);
  Pipe in = make_pipe(), out = make_pipe(), err = make_pipe();
  pid_t pid = -1;
  if (in.read.get() >= 0 && out.read.get() >= 0 && err.read.get() >= 0) pid = fork();
  if (pid == 0) {
    exec_child(config_, argv.data(), envp.data(), in.read.get(), out.write.get(), err.write.get());
  }
  // The token's copies in the environment array go at once.
  for (std::size_t i = token_entries; i < env_text.size(); ++i) {
    explicit_bzero(env_text[i].data(), env_text[i].size());
  }
  if (pid < 0) {
    result.stderr_data =
        std::string("gh: the CLI proxy could not start gh: ") + std::strerror(errno);
    return result;
  }
  in.read.reset();
  out.write.reset();
  err.write.reset();
  const std::string problem = exchange(in.write, out.read, err.read, stdin_data, result,
                                       Clock::now() + timeout.value_or(config_.timeout));
  if (!problem.empty()) kill(-pid, SIGKILL);
  result.exit_code = wait_for(pid);
  if (result.exit_code == 127 && result.stdout_data.empty() && result.stderr_data.empty()) {
    result.stderr_data = "gh: the CLI proxy could not run " + config_.gh_path + "\n";
  }
  if (!problem.empty()) {
    result.stderr_data += "gh: the CLI proxy stopped gh: " + problem + "\n";
    result.exit_code = 1;
  }
  return result;
}

}  // namespace awf::cli_proxy
