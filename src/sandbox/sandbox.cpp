#include "sandbox/sandbox.h"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "common/error.h"
#include "sandbox/descriptors.h"
#include "sandbox/netlink.h"
#include "sandbox/root_capabilities.h"
#include "sandbox/seccomp.h"
#include "sandbox/userns.h"

extern char** environ;

namespace awf::sandbox {
namespace {

// Messages on the control channel (SOCK_SEQPACKET keeps them apart).
constexpr char kMapsWritten = 'M';  // awf -> init: user namespace maps are in place
constexpr char kReady = 'R';        // init -> awf: filesystem ready, waiting for kGo
constexpr char kGo = 'G';           // awf -> init: the gateway serves, start the command
constexpr char kError = '!';        // init -> awf: "!message", setup failed
constexpr char kDenied = 'D';       // init -> awf: "Dmessage", its user namespace grants nothing

// Signals awf forwards to the init, which forwards them to the command. An init of a PID
// namespace only receives signals it has a handler for, hence the no-op handler.
constexpr int kForwardedSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

void send_message(int channel, const std::string& message) {
  if (send(channel, message.data(), message.size(), MSG_NOSIGNAL) < 0) {
    throw errno_error("sandbox channel: send");
  }
}

// Returns "" when the peer closed the channel.
std::string receive_message(int channel) {
  char buffer[4096];
  ssize_t n;
  do {
    n = recv(channel, buffer, sizeof buffer, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) throw errno_error("sandbox channel: receive");
  return std::string(buffer, static_cast<std::size_t>(n));
}

std::optional<long> read_sysctl(const char* path) {
  UniqueFd fd(open(path, O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return std::nullopt;
  char text[32];
  const ssize_t n = read(fd.get(), text, sizeof text - 1);
  if (n <= 0) return std::nullopt;
  return parse_sysctl_value(std::string(text, static_cast<std::size_t>(n)));
}

// Those of awf's own user namespace (user.* sysctls are per namespace).
UsernsSysctls read_userns_sysctls() {
  return {read_sysctl("/proc/sys/user/max_user_namespaces"),
          read_sysctl("/proc/sys/kernel/unprivileged_userns_clone"),
          read_sysctl("/proc/sys/kernel/apparmor_restrict_unprivileged_userns")};
}

// A failure of the rootless sandbox's user namespace, named with its cause and fix where the
// host's sysctls tell it, else as `what` says.
SetupError userns_error(UsernsStep step, int error, const std::string& what) {
  const auto problem = userns_problem(read_userns_sysctls(), {step, error, what});
  return SetupError(problem ? *problem : "sandbox: " + what);
}

// Returns errno on failure, 0 on success.
int write_proc_file(pid_t pid, const char* name, const std::string& contents, std::string& what) {
  const std::string path = "/proc/" + std::to_string(pid) + "/" + name;
  UniqueFd fd(open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid() ||
      write(fd.get(), contents.data(), contents.size()) != static_cast<ssize_t>(contents.size())) {
    const int error = errno;
    what = "write " + path + ": " + std::strerror(error);
    return error;
  }
  return 0;
}

// The user namespace's id maps: the command keeps its own uid and gid inside, nothing else is
// mapped. A refusal here is the host restricting user namespaces.
void write_id_maps(pid_t pid) {
  std::string what;
  int error = write_proc_file(pid, "setgroups", "deny", what);
  if (error == 0) {
    error = write_proc_file(pid, "uid_map",
                            std::to_string(getuid()) + " " + std::to_string(getuid()) + " 1", what);
  }
  if (error == 0) {
    error = write_proc_file(pid, "gid_map",
                            std::to_string(getgid()) + " " + std::to_string(getgid()) + " 1", what);
  }
  if (error == EPERM || error == EACCES) throw userns_error(UsernsStep::Setup, error, what);
  if (error != 0) throw SetupError(what);
}

// The init's first privileged step, and the probe of its user namespace: a rootless init that
// may not even name its own UTS namespace holds no capability there (AppArmor's restriction,
// a security module), which awf reports as such rather than as the later step that fails.
void set_hostname(const std::string& hostname, bool rootless, int channel) {
  if (sethostname(hostname.data(), hostname.size()) == 0) return;
  const int error = errno;
  if (!rootless || (error != EPERM && error != EACCES)) throw errno_error("sethostname");
  send_message(channel, std::string(1, kDenied) + "sethostname: " + std::strerror(error));
  _exit(1);
}

void no_op_handler(int) {}

// Under the memory limit the kernel's OOM killer must pick a process of the command, never
// the init: its death would take the whole sandbox down and lose the command's status. The
// command gets 0 back while still privileged, which also stops it from lowering its own
// score below 0 later. Without CAP_SYS_RESOURCE (rootless) the write fails; that is fine.
void set_oom_score_adj(const char* value) {
  UniqueFd fd(open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC));
  if (fd.valid() && write(fd.get(), value, std::strlen(value)) < 0) {
    // Not privileged enough: the init simply has no protection.
  }
}

// The init is a copy of awf and so is its environment, readable as /proc/1/environ: it may
// hold secrets the command was not given. The command cannot read another process's
// environment without ptrace rights (it has none, and seccomp denies ptrace); the copy is
// wiped anyway. awf never calls setenv, so every string is still in the area the kernel shows.
void wipe_inherited_environment() {
  for (char** var = environ; var != nullptr && *var != nullptr; ++var) {
    std::memset(*var, 0, std::strlen(*var));
  }
}

// The same for awf's command line, which /proc/1/cmdline shows to anyone in the sandbox (any
// uid, no ptrace rights needed): `-e NAME=value` may carry a secret. The kernel reads it from
// the argument area recorded in /proc/self/stat (fields 48 and 49), which is zeroed here.
void wipe_inherited_arguments() {
  UniqueFd fd(open("/proc/self/stat", O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return;
  char text[2048];
  const ssize_t n = read(fd.get(), text, sizeof text - 1);
  if (n <= 0) return;
  text[n] = '\0';
  // Fields after the command name, which is in parentheses and may hold anything.
  const char* cursor = std::strrchr(text, ')');
  if (cursor == nullptr) return;
  unsigned long values[2] = {0, 0};
  for (int field = 3; field <= 49 && cursor != nullptr; ++field) {
    cursor = std::strchr(cursor + 1, ' ');
    if (cursor != nullptr && field >= 48)
      values[field - 48] = std::strtoul(cursor + 1, nullptr, 10);
  }
  if (values[0] == 0 || values[1] <= values[0] || values[1] - values[0] > (1u << 22)) return;
  std::memset(reinterpret_cast<void*>(values[0]), 0, values[1] - values[0]);
}

int status_to_code(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 1;
}

// A program name a shell would run as is: no expansion, quoting, operators or whitespace.
bool is_plain_word(const std::string& word) {
  if (word.empty() || word.size() > 255) return false;
  // Reserved words mean something else to bash even when a program has the same name.
  for (const char* reserved : {"time", "coproc", "function", "select", "if", "case", "for", "while",
                               "until", "exec", "command", "builtin"}) {
    if (word == reserved) return false;
  }
  return std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
           c == '/' || c == '+';
  });
}

// The command's side of the hand-over of its filter's notification descriptor: says which
// descriptor it is and waits until the init has taken it (no socket call may happen before
// awf can answer it). read and write are not among the calls the filter sends to awf.
bool hand_over_listener(int handoff, int listener) {
  if (write(handoff, &listener, sizeof listener) != sizeof listener) return false;
  char taken = 0;
  return read(handoff, &taken, 1) == 1 && taken == kGo;
}

[[noreturn]] void exec_command(const SandboxSpec& spec, const SyscallFilter& filter,
                               bool rootless, int handoff) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int signal : kForwardedSignals) std::signal(signal, SIG_DFL);
  prctl(PR_SET_PDEATHSIG, SIGKILL);

  if (chdir(spec.workdir.c_str()) < 0) {
    // A directory the caller named is not silently replaced by another one.
    if (spec.workdir_required) {
      std::fprintf(stderr,
                   "awf: --container-workdir %s: %s in the sandbox (bind it with -v, or name a "
                   "directory the sandbox shows)\n",
                   spec.workdir.c_str(), std::strerror(errno));
      _exit(126);
    }
    if (chdir("/") < 0) _exit(1);
  }
  set_oom_score_adj("0");
  if (const std::string error = drop_privileges(spec.identity, !rootless); !error.empty()) {
    std::fprintf(stderr, "awf: sandbox: %s\n", error.c_str());
    _exit(1);
  }
  // Last before exec, so that it constrains the command and nothing of the setup; without
  // CAP_SYS_ADMIN the kernel takes a filter only under no_new_privs (drop_privileges).
  int listener = -1;
  if (const std::string error = filter.install(listener); !error.empty()) {
    std::fprintf(stderr, "awf: sandbox: %s\n", error.c_str());
    _exit(1);
  }
  if (!hand_over_listener(handoff, listener)) {
    std::fprintf(stderr, "awf: sandbox: the socket supervisor did not start\n");
    _exit(1);
  }
  // A descriptor table of its own (the init's holds awf's channel), and whatever the setup
  // opened since (and anything it missed) ends here: the command starts with stdin, stdout and
  // stderr only. CLOSE_RANGE_UNSHARE: Linux 5.9.
  if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_UNSHARE) < 0) {
    std::fprintf(stderr, "awf: sandbox: cannot close inherited descriptors: %s\n",
                 std::strerror(errno));
    _exit(1);
  }
  std::vector<char*> argv;
  for (const std::string& arg : spec.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  std::vector<char*> env;
  for (const std::string& var : spec.env) env.push_back(const_cast<char*>(var.c_str()));
  env.push_back(nullptr);
  // execvp searches the PATH of `environ`: the command's own environment.
  environ = env.data();
  // `awf -- word` means `bash -c word`; when the word is a plain program name, running it
  // directly behaves the same and saves starting a shell. Anything else (builtins such as
  // `exit`, spaces, shell syntax) still goes to bash.
  if (spec.argv.size() == 3 && spec.argv[0] == "/bin/bash" && spec.argv[1] == "-c" &&
      is_plain_word(spec.argv[2])) {
    char* direct[] = {argv[2], nullptr};
    execvp(direct[0], direct);
  }
  execvp(argv[0], argv.data());
  const int error = errno;
  std::fprintf(stderr, "awf: %s: %s\n", argv[0],
               error == ENOENT ? "command not found" : std::strerror(error));
  _exit(error == ENOENT ? 127 : 126);
}

// Like fork(2) into new namespaces; straight into the run's cgroup when there is a v2 one and
// the kernel has clone3 (otherwise the caller moves the init).
long clone_init(std::uint64_t flags, int cgroup_fd, bool& into_cgroup) {
  if (cgroup_fd >= 0) {
    clone_args args{};
    args.flags = flags | CLONE_INTO_CGROUP;
    args.exit_signal = SIGCHLD;
    args.cgroup = static_cast<std::uint64_t>(cgroup_fd);
    const long pid = syscall(SYS_clone3, &args, sizeof args);
    if (pid >= 0) into_cgroup = true;
    // ENOSYS: no clone3 (before 5.3); E2BIG: no cgroup field (before 5.7).
    if (pid >= 0 || (errno != ENOSYS && errno != E2BIG)) return pid;
  }
  return syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, 0);
}

// cgroup v1: the init moves itself, as a single thread, without the global lock a move by
// pid takes (cgroup.h). Before anything else, so that all it allocates is accounted there.
void join_cgroup(const std::vector<std::string>& task_files) {
  for (const std::string& file : task_files) write_cgroup_file(file, "0");
}

// The signals the init waits for: its children's ends and the ones it forwards to the command.
sigset_t block_init_signals() {
  sigset_t waited;
  sigemptyset(&waited);
  sigaddset(&waited, SIGCHLD);
  for (int signal : kForwardedSignals) {
    std::signal(signal, no_op_handler);
    sigaddset(&waited, signal);
  }
  sigprocmask(SIG_BLOCK, &waited, nullptr);
  return waited;
}

// The command's process shares the init's descriptor table (CLONE_FILES) until it has handed
// its filter's listener over: the init takes the descriptor from the shared table. (Taking it
// with pidfd_getfd needs ptrace rights over a process whose memory still belongs to awf's
// user namespace, which a rootless init lacks; sending it with sendmsg would wait for awf to
// answer that very call.)
long fork_sharing_descriptors() {
  return syscall(SYS_clone, CLONE_FILES | SIGCHLD, nullptr, nullptr, nullptr, 0);
}

// The init's side of the hand-over: passes the command's notification descriptor to awf with
// a unix_diag socket of the sandbox's network namespace. Returns an error message, or "" on
// success and when the command ended before installing its filter.
std::string pass_supervision(int channel, int handoff, pid_t command) {
  UniqueFd pidfd(static_cast<int>(syscall(SYS_pidfd_open, command, 0)));
  if (!pidfd.valid()) return std::string("socket supervisor: pidfd_open: ") + std::strerror(errno);
  pollfd waited[2] = {{handoff, POLLIN, 0}, {pidfd.get(), POLLIN, 0}};
  while (poll(waited, 2, -1) < 0) {
    if (errno != EINTR) return std::string("socket supervisor: poll: ") + std::strerror(errno);
  }
  int number = -1;
  if (!(waited[0].revents & POLLIN)) return "";  // the command failed before its filter
  if (read(handoff, &number, sizeof number) != sizeof number) return "";
  try {
    std::vector<Listener> supervision;
    // Closed in the shared table once sent: the command has no use for it.
    supervision.push_back({ListenerKind::SyscallNotify, UniqueFd(number)});
    supervision.push_back({ListenerKind::UnixDiag, open_unix_diag()});
    send_listeners(channel, supervision);
  } catch (const std::exception& error) {
    return std::string("socket supervisor: ") + error.what();
  }
  return write(handoff, &kGo, 1) == 1 ? "" : "socket supervisor: hand-over failed";
}

// The init's setup before the command may start: descriptors, environment, network,
// listeners (sent to awf) and the filesystem view; kReady when done, or kError and _exit.
void prepare_init(const SandboxSpec& spec, int channel, bool rootless) {
  try {
    if (rootless && receive_message(channel) != std::string(1, kMapsWritten)) _exit(1);
    // Before the descriptors close: a hierarchy awf mounted privately is reached through
    // awf's descriptor of it (cgroup.h).
    join_cgroup(spec.cgroup.task_files);
    // The init holds a copy of awf's descriptor table (logs, the caller's leftovers): nothing
    // but the control channel stays, so neither the init nor the command can use them.
    if (!close_inherited_descriptors(channel)) _exit(1);
    wipe_inherited_environment();
    wipe_inherited_arguments();
    set_oom_score_adj("-1000");
    set_hostname(spec.hostname, rootless, channel);
    bring_up_loopback();
    add_local_default_routes();
    std::vector<Listener> listeners =
        create_listeners(spec.host_ports, spec.host_address, spec.api_ports);
    add_peer_listeners(listeners, spec.peer_ports);
    if (spec.cli_proxy_port != 0) add_cli_proxy_listener(listeners, spec.cli_proxy_port);
    send_listeners(channel, listeners);
    build_root(spec.mounts);
    send_message(channel, std::string(1, kReady));
  } catch (const std::exception& error) {
    try {
      send_message(channel, std::string(1, kError) + error.what());
    } catch (...) {
    }
    _exit(1);
  }
}

// The init: PID 1 of the sandbox. Returns only through _exit.
[[noreturn]] void run_init(const SandboxSpec& spec, int channel, bool rootless) {
  // Fail closed: awf's death kills the init, and the init's death kills the namespace.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // What `ps` in the sandbox shows for PID 1 (it would otherwise pass for awf itself).
  prctl(PR_SET_NAME, "awf-sandbox", 0, 0, 0);
  if (spec.stderr_fd >= 0 && dup2(spec.stderr_fd, STDERR_FILENO) < 0) _exit(1);
  prepare_init(spec, channel, rootless);
  const sigset_t waited = block_init_signals();

  // Compiled while awf starts its gateway, which it does before sending kGo.
  SyscallFilter filter;
  try {
    filter = SyscallFilter::build();
  } catch (const SetupError& error) {
    std::fprintf(stderr, "awf: sandbox: %s\n", error.what());
    _exit(1);
  }

  // awf closing the channel (it died) means: never start the command.
  if (receive_message(channel) != std::string(1, kGo)) _exit(1);
  int handoff[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, handoff) < 0) {
    std::perror("awf: sandbox: socketpair");
    _exit(1);
  }
  // The init's memory is a copy of awf's taken at clone time (freed buffers included), and
  // its /proc files would let a command with its uid read it (/proc/1/mem): not dumpable
  // makes them root-only without CAP_SYS_PTRACE. Only now: awf wrote the id maps and took
  // the init's pid namespace (its process finder) through those files before kGo.
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

  const pid_t command = static_cast<pid_t>(fork_sharing_descriptors());
  if (command < 0) {
    std::perror("awf: sandbox: fork");
    _exit(1);
  }
  if (command == 0) exec_command(spec, filter, rootless, handoff[1]);
  // Fail closed: a command whose socket calls nobody answers does not run.
  if (const std::string error = pass_supervision(channel, handoff[0], command); !error.empty()) {
    std::fprintf(stderr, "awf: sandbox: %s\n", error.c_str());
    kill(command, SIGKILL);
  }
  // Not handoff[1]: the command may still be reading the answer from it in the shared table.
  close(handoff[0]);
  close(channel);

  for (;;) {
    siginfo_t info{};
    if (sigwaitinfo(&waited, &info) < 0) continue;
    if (info.si_signo != SIGCHLD) {
      kill(command, info.si_signo);
      continue;
    }
    // As PID 1 we reap every orphan; the command's own status is the sandbox's.
    int status = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid == command) _exit(status_to_code(status));
    }
  }
}

// What the init reported instead of its listeners or its readiness.
[[noreturn]] void throw_init_failure(const std::string& message) {
  if (message.empty()) throw SetupError("sandbox: init exited during setup");
  if (message[0] == kDenied) throw userns_error(UsernsStep::Setup, EPERM, message.substr(1));
  if (message[0] == kError) throw SetupError("sandbox: " + message.substr(1));
  throw SetupError("sandbox: unexpected message");
}

// A root awf's effective capabilities, as a bitmask (capget: this thread's, which every thread
// of awf shares at this point).
std::uint64_t effective_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (syscall(SYS_capget, &header, data) < 0) return ~std::uint64_t{0};  // let each use say
  return data[0].effective | (std::uint64_t{data[1].effective} << 32);
}

}  // namespace

void check_user_namespaces() {
  if (geteuid() == 0) return;
  const UsernsSysctls sysctls = read_userns_sysctls();
  if (const auto problem = userns_problem(sysctls, {})) throw SetupError(*problem);
  if (sysctls.apparmor_restrict.value_or(0) == 0) return;
  // AppArmor's restriction lets the clone succeed and then grants nothing in the namespace
  // (unless a profile allows awf): a child tries the init's first privileged step now, so
  // that a refusal comes before the run has created anything.
  const pid_t pid = fork();
  if (pid < 0) throw errno_error("fork");
  if (pid == 0) {
    if (unshare(CLONE_NEWUSER | CLONE_NEWUTS) < 0) _exit(errno);
    _exit(sethostname("awf", 3) < 0 ? errno : 0);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  const int error = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
  if (error == EPERM || error == EACCES) {
    const auto problem = userns_problem(
        sysctls, {UsernsStep::Setup, error, std::string("sethostname: ") + std::strerror(error)});
    if (problem) throw SetupError(*problem);
  }
}

Sandbox Sandbox::start(const SandboxSpec& spec) {
  if (geteuid() == 0) {
    if (const auto problem = root_capability_problem(effective_capabilities())) {
      throw SetupError(*problem);
    }
  }
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0) {
    throw errno_error("socketpair");
  }
  UniqueFd parent_end(fds[0]);
  UniqueFd child_end(fds[1]);
  const bool rootless = geteuid() != 0;
  std::uint64_t flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC;
  // Without root, a user namespace grants the capabilities needed for the other namespaces.
  if (rootless) flags |= CLONE_NEWUSER;

  std::fflush(nullptr);
  bool cloned_into_cgroup = false;
  const long pid = clone_init(flags, spec.cgroup.clone_into_fd, cloned_into_cgroup);
  if (pid < 0) {
    const int error = errno;
    const std::string what = std::string("clone sandbox: ") + std::strerror(error);
    if (rootless) throw userns_error(UsernsStep::Clone, error, what);
    throw SetupError(what);
  }
  if (pid == 0) {
    parent_end.reset();
    run_init(spec, child_end.get(), rootless);
  }
  child_end.reset();
  Sandbox sandbox(static_cast<pid_t>(pid), std::move(parent_end));
  try {
    if (rootless) {
      write_id_maps(sandbox.pid_);
      send_message(sandbox.channel_.get(), std::string(1, kMapsWritten));
    }
    if (!cloned_into_cgroup && !spec.cgroup.procs_file.empty()) {
      write_cgroup_file(spec.cgroup.procs_file, std::to_string(sandbox.pid_));
    }
    char first = 0;
    if (recv(sandbox.channel_.get(), &first, 1, MSG_PEEK) == 1 &&
        (first == kError || first == kDenied)) {
      throw_init_failure(receive_message(sandbox.channel_.get()));
    }
    sandbox.listeners_ = receive_listeners(sandbox.channel_.get());
    for (Listener& listener : sandbox.listeners_) {
      if (listener.kind == ListenerKind::SocketDiag) listener.sandbox_init = sandbox.pid_;
    }
    const std::string status = receive_message(sandbox.channel_.get());
    if (status != std::string(1, kReady)) throw_init_failure(status);
  } catch (...) {
    kill(sandbox.pid_, SIGKILL);
    waitpid(sandbox.pid_, nullptr, 0);
    sandbox.reaped_ = true;
    throw;
  }
  return sandbox;
}

Sandbox::~Sandbox() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

void Sandbox::release() {
  send_message(channel_.get(), std::string(1, kGo));
}

std::vector<Listener> Sandbox::take_supervision() {
  char first = 0;
  ssize_t n;
  do {
    n = recv(channel_.get(), &first, 1, MSG_PEEK);
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return {};
  return receive_listeners(channel_.get());
}

void Sandbox::forward_signal(int signal) const {
  if (pid_ > 0 && !reaped_) kill(pid_, signal);
}

std::optional<int> Sandbox::try_wait() {
  if (reaped_) return std::nullopt;
  int status = 0;
  const pid_t pid = waitpid(pid_, &status, WNOHANG);
  if (pid != pid_) return std::nullopt;
  reaped_ = true;
  return status_to_code(status);
}

}  // namespace awf::sandbox
