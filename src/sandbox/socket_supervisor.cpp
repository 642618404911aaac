#include "sandbox/socket_supervisor.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <list>
#include <memory>
#include <mutex>
#include <system_error>
#include <unordered_map>
#include <thread>
#include <optional>
#include <string>

#include "common/error.h"
#include "sandbox/sock_diag.h"
#include "sandbox/thread_identity.h"
#include "sandbox/unix_address.h"

namespace awf::sandbox {
namespace {

constexpr std::size_t kMaxMessages = 1024;  // sendmmsg's limit (UIO_MAXIOV)

// Supervisor threads at most: one per connect() of the command's threads waiting in awf's
// hands at once (a listener whose backlog is full), plus the leader and its spare.
constexpr std::size_t kMaxReceivers = 256;

constexpr std::size_t kKeptPidfds = 256;  // per supervisor thread

// Linux 6.9: a pidfd for any thread, not only a thread group's leader (the notification names
// the calling thread); pidfd_getfd through it reaches the descriptor table the threads share.
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

// Linux 6.6 (absent from older headers): the kernel hands the CPU straight from the caller to
// the supervisor and back, instead of two ordinary wake-ups; ignored where unknown.
#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, __u64)
#endif
constexpr std::uint64_t kSyncWakeUp = 1;  // SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP

// One notification and what the supervisor learnt about its caller.
struct Call {
  seccomp_notif request{};
  UniqueFd pidfd;
};

// Reads `size` bytes at `address` in the caller's memory; false when they are not readable.
bool read_memory(pid_t pid, std::uint64_t address, void* out, std::size_t size) {
  if (size == 0) return true;
  iovec local{out, size};
  iovec remote{reinterpret_cast<void*>(address), size};
  return process_vm_readv(pid, &local, 1, &remote, 1, 0) == static_cast<ssize_t>(size);
}

// The process a thread belongs to (the notification names the calling thread).
pid_t thread_group_of(pid_t tid) {
  UniqueFd fd(open(("/proc/" + std::to_string(tid) + "/status").c_str(), O_RDONLY | O_CLOEXEC));
  char text[4096];
  const ssize_t n = fd.valid() ? read(fd.get(), text, sizeof text - 1) : -1;
  if (n <= 0) return tid;
  text[n] = '\0';
  const char* line = std::strstr(text, "\nTgid:");
  return line != nullptr ? static_cast<pid_t>(std::strtol(line + 6, nullptr, 10)) : tid;
}

// The caller's descriptor `fd` as one of awf's (the same open socket); invalid with errno set
// when it has none.
UniqueFd take_descriptor(Call& call, std::uint64_t fd) {
  if (!call.pidfd.valid()) {
    call.pidfd.reset(static_cast<int>(syscall(SYS_pidfd_open, call.request.pid, PIDFD_THREAD)));
    // Before Linux 6.9 (EINVAL) a pidfd names a thread group's leader only: the calling
    // thread's process, found in /proc (a dozen microseconds more).
    if (!call.pidfd.valid()) {
      call.pidfd.reset(static_cast<int>(syscall(SYS_pidfd_open, call.request.pid, 0)));
    }
    if (!call.pidfd.valid()) {
      call.pidfd.reset(static_cast<int>(
          syscall(SYS_pidfd_open, thread_group_of(static_cast<pid_t>(call.request.pid)), 0)));
    }
    if (!call.pidfd.valid()) return UniqueFd();
  }
  return UniqueFd(static_cast<int>(syscall(SYS_pidfd_getfd, call.pidfd.get(),
                                           static_cast<int>(fd), 0)));
}

int socket_family(int fd) {
  int family = -1;
  socklen_t size = sizeof family;
  return getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &size) == 0 ? family : -1;
}

std::string read_link(const std::string& path) {
  char target[PATH_MAX];
  const ssize_t n = readlink(path.c_str(), target, sizeof target);
  return n > 0 ? std::string(target, static_cast<std::size_t>(n)) : "";
}

std::string comm_of(pid_t pid) {
  UniqueFd fd(open(("/proc/" + std::to_string(pid) + "/comm").c_str(), O_RDONLY | O_CLOEXEC));
  char name[32] = {};
  const ssize_t n = fd.valid() ? read(fd.get(), name, sizeof name - 1) : -1;
  std::string text(name, n > 0 ? static_cast<std::size_t>(n) : 0);
  if (text.ends_with('\n')) text.pop_back();
  return text;
}

// Opens `path` as the caller would reach it: in its root, from its working directory when the
// path is relative (with its permissions: under ActingAs). The result is what awf decides on
// and connects to.
UniqueFd open_in_caller_view(pid_t pid, const std::string& path, int& error) {
  const std::string proc = "/proc/" + std::to_string(pid);
  UniqueFd root(open((proc + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) {
    error = ESRCH;
    return root;
  }
  std::string absolute = path;
  if (!path.starts_with('/')) {
    // /proc/PID/cwd reads as the directory's path in the caller's root (awf sees the
    // sandbox's root as that of its mount namespace); it must lead back to the same directory.
    absolute = join_socket_path(read_link(proc + "/cwd"), path);
    open_how how{};
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    const std::string cwd = absolute.substr(0, absolute.size() - path.size());
    UniqueFd seen(static_cast<int>(syscall(SYS_openat2, root.get(), cwd.c_str(), &how, sizeof how)));
    struct stat seen_stat {}, real_stat {};
    if (absolute.empty() || !seen.valid() || fstat(seen.get(), &seen_stat) < 0 ||
        stat((proc + "/cwd").c_str(), &real_stat) < 0 || seen_stat.st_dev != real_stat.st_dev ||
        seen_stat.st_ino != real_stat.st_ino) {
      error = EACCES;
      return UniqueFd();
    }
  }
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  UniqueFd file(static_cast<int>(syscall(SYS_openat2, root.get(), absolute.c_str(), &how, sizeof how)));
  if (!file.valid()) error = errno;
  return file;
}

UnixBinding binding_of_file(int fd) {
  struct stat st {};
  if (fstat(fd, &st) < 0) return {};
  return binding_of(st.st_ino, major(st.st_dev), minor(st.st_dev));
}

// Whether a Unix socket of the sandbox's network namespace is bound to `file`.
bool bound_in_sandbox(int diag, std::uint32_t sequence, const UnixBinding& file) {
  const std::vector<std::uint8_t> request = unix_diag_request(sequence);
  if (send(diag, request.data(), request.size(), 0) < 0) return false;
  bool found = false;
  std::vector<std::uint8_t> buffer(32768);
  for (;;) {
    const ssize_t n = recv(diag, buffer.data(), buffer.size(), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    const UnixDiagPart part =
        parse_unix_diag_dump({buffer.data(), static_cast<std::size_t>(n)}, sequence);
    found = found || std::find(part.bound.begin(), part.bound.end(), file) != part.bound.end();
    if (part.status != UnixDiagPart::Status::More) return found;
  }
}

// What every receiving thread shares.
struct Shared {
  int notify = -1;
  int diag = -1;
  std::mutex diag_mutex;           // one unix_diag dump at a time on `diag`
  std::uint32_t diag_sequence = 0;  // under diag_mutex
  const SupervisorOptions* options = nullptr;
  std::vector<gid_t> own_groups;  // awf's, restored after each ActingAs
};

// Answers one notification at a time, on the thread that received it.
class Handler {
 public:
  // `may_block` is called before a connect() that will wait for its peer; the caller then
  // lets another thread receive. (A path resolution on a hung host mount would wait without
  // it, as the command's own calls there do.)
  Handler(Shared& shared, std::function<void()> may_block)
      : notify_(shared.notify), shared_(shared), options_(*shared.options),
        own_groups_(shared.own_groups), may_block_(std::move(may_block)) {}

  void handle(const seccomp_notif& request) {
    Call call{request, UniqueFd()};
    seccomp_notif_resp response{};
    response.id = request.id;
    const int nr = request.data.nr;
    if (nr == SYS_connect) {
      answer_connect(call, response);
    } else {
      check_datagram(call, response);
    }
    // ENOENT: the caller is gone (a signal ended the call); nothing to answer.
    ioctl(notify_, SECCOMP_IOCTL_NOTIF_SEND, &response);
  }

 private:
  // take_descriptor through a pidfd of the calling thread kept from its earlier calls
  // (PIDFD_THREAD, Linux 6.9; a pidfd_open and a close fewer per call). Sound to keep: a
  // pidfd names one struct pid, whose task pidfd_getfd looks up at each call; once the thread
  // is gone it has none (ESRCH: opened again), and its number can only name another thread
  // after that. A pidfd of the thread's process (the fallback) is not kept: a number reused
  // by another process's thread would reach the wrong descriptor table.
  UniqueFd take_thread_descriptor(Call& call, std::uint64_t fd) {
    const pid_t tid = static_cast<pid_t>(call.request.pid);
    if (const auto kept = thread_pidfds_.find(tid); kept != thread_pidfds_.end()) {
      UniqueFd taken(static_cast<int>(
          syscall(SYS_pidfd_getfd, kept->second.get(), static_cast<int>(fd), 0)));
      if (taken.valid() || errno != ESRCH) return taken;
      thread_pidfds_.erase(kept);
    }
    UniqueFd thread(static_cast<int>(syscall(SYS_pidfd_open, tid, PIDFD_THREAD)));
    if (!thread.valid()) return take_descriptor(call, fd);
    UniqueFd taken(
        static_cast<int>(syscall(SYS_pidfd_getfd, thread.get(), static_cast<int>(fd), 0)));
    const int error = errno;
    if (thread_pidfds_.size() >= kKeptPidfds) thread_pidfds_.clear();  // ended threads' too
    thread_pidfds_.emplace(tid, std::move(thread));
    errno = error;
    return taken;
  }

  // The caller is still in that very call: the pid was not reused, the memory read is its.
  bool still_valid(const Call& call) const {
    std::uint64_t id = call.request.id;
    return ioctl(notify_, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
  }

  // connect(fd, address, length): always done by awf, on the caller's socket object, of any
  // family. Not SECCOMP_USER_NOTIF_FLAG_CONTINUE for a socket found not to be AF_UNIX, though
  // that socket's family cannot change and the kernel refuses a Unix address on it
  // (inet_stream_connect -> tcp_v4_connect/tcp_v6_connect: EAFNOSUPPORT or EINVAL; UDP
  // ip4_datagram_connect: EAFNOSUPPORT; netlink_connect: EINVAL; no family but AF_UNIX
  // resolves a filesystem name): CONTINUE makes the kernel run the call from its start and
  // look the descriptor *number* up again in the caller's table. Another thread, or a process
  // sharing that table (CLONE_FILES), can dup2() an AF_UNIX socket over the number between
  // awf's look and the kernel's, and rewrite the address to a host socket's path: the check
  // would have held for a socket the kernel then does not use. The same holds for the sends,
  // whose destination is read again as well (check_datagram). Acting on the socket object awf
  // took (pidfd_getfd) with its own copy of the address leaves nothing to swap.
  void answer_connect(Call& call, seccomp_notif_resp& response) {
    const auto& args = call.request.data.args;
    const std::size_t length = static_cast<std::size_t>(static_cast<std::uint32_t>(args[2]));
    if (length > sizeof(sockaddr_storage)) return fail(response, EINVAL);
    sockaddr_storage address{};
    if (!read_memory(call.request.pid, args[1], &address, length)) return fail(response, EFAULT);
    UniqueFd socket = take_thread_descriptor(call, args[0]);
    if (!socket.valid()) return fail(response, errno == EBADF ? EBADF : EPERM);
    if (!still_valid(call)) return;
    const UnixAddress named =
        parse_unix_address({reinterpret_cast<const std::uint8_t*>(&address), length});
    int result;
    if (named.kind == UnixAddress::Kind::Pathname && socket_family(socket.get()) == AF_UNIX) {
      result = connect_by_path(call, socket.get(), named.path);
    } else {
      // Every other address: the kernel's own checks, in the socket's network namespace.
      result = connect_waiting_aside(socket.get(), reinterpret_cast<const sockaddr*>(&address),
                                     static_cast<socklen_t>(length));
    }
    if (result != 0) fail(response, result);
  }

  // Resolves, decides, connects; returns 0 or an errno.
  int connect_by_path(const Call& call, int socket, const std::string& path) {
    const ActingAs as(options_.identity, own_groups_);
    int error = 0;
    const UniqueFd file = open_in_caller_view(call.request.pid, path, error);
    if (!file.valid()) return error;
    if (!still_valid(call)) return EINTR;  // nobody waits for the answer any more
    if (!allowed(call, file.get(), path, "connect")) return EACCES;
    sockaddr_un target{};
    target.sun_family = AF_UNIX;
    std::snprintf(target.sun_path, sizeof target.sun_path, "/proc/thread-self/fd/%d", file.get());
    const ConnectingAs peer(options_.identity);
    return connect_waiting_aside(socket, reinterpret_cast<const sockaddr*>(&target),
                                 sizeof target);
  }

  // connect() on the command's socket without holding the lead while it waits. Tried without
  // waiting first: a blocking socket is made O_NONBLOCK for that one call (its open file
  // description is the command's: only that bit is put back, other flags another thread set
  // meanwhile stay). Most connects end there or at once after (a TCP handshake on the
  // sandbox's loopback is done within the call; a Unix listener with room takes it). One that
  // would wait (EINPROGRESS and not yet writable: TCP's SYN unanswered, a full backlog;
  // EAGAIN: a Unix listener's backlog full) hands the lead over, then waits in a blocking
  // connect() again: for TCP it waits for the handshake under way and returns its result,
  // for Unix it starts again and waits for room. Returns 0 or an errno.
  int connect_waiting_aside(int socket, const sockaddr* address, socklen_t length) {
    const int flags = fcntl(socket, F_GETFL);
    if (flags < 0 || (flags & O_NONBLOCK)) return connect(socket, address, length) == 0 ? 0 : errno;
    fcntl(socket, F_SETFL, flags | O_NONBLOCK);
    const int result = connect(socket, address, length) == 0 ? 0 : errno;
    const int now = fcntl(socket, F_GETFL);
    fcntl(socket, F_SETFL, (now < 0 ? flags : now) & ~O_NONBLOCK);
    if (result != EINPROGRESS && result != EAGAIN) return result;
    // A non-blocking TCP connect on loopback reports EINPROGRESS even when the handshake is
    // done by the time it returns (the SYN-ACK waits in the socket's backlog until the call
    // releases the socket): writable now means the blocking connect() below will not wait.
    pollfd done{socket, POLLOUT, 0};
    if (result == EAGAIN || poll(&done, 1, 0) != 1) may_block_();
    return connect(socket, address, length) == 0 ? 0 : errno;
  }

  // The socket bound to `file` is the sandbox's own, or one the caller named; else refused
  // and recorded.
  bool allowed(const Call& call, int file, const std::string& path, const char* what) {
    struct stat st {};
    // Not a socket: nothing listens there; the kernel refuses it on its own.
    if (fstat(file, &st) < 0 || !S_ISSOCK(st.st_mode)) return true;
    const UnixBinding binding = binding_of_file(file);
    {
      const std::lock_guard lock(shared_.diag_mutex);
      if (bound_in_sandbox(shared_.diag, ++shared_.diag_sequence, binding)) return true;
    }
    for (const std::string& named : options_.allowed_paths) {
      int error = 0;
      const UniqueFd allowed_file = open_in_caller_view(call.request.pid, named, error);
      if (allowed_file.valid() && binding_of_file(allowed_file.get()) == binding) return true;
    }
    if (options_.refused) {
      options_.refused({static_cast<int>(call.request.pid), comm_of(call.request.pid), path, what});
    }
    return false;
  }

  // sendto/sendmsg/sendmmsg: a pathname destination is checked; the kernel sends.
  void check_datagram(Call& call, seccomp_notif_resp& response) {
    const auto& args = call.request.data.args;
    const pid_t pid = call.request.pid;
    std::vector<std::pair<std::uint64_t, std::size_t>> names;  // address, length
    const int nr = call.request.data.nr;
    if (nr == SYS_sendto) {
      names.emplace_back(args[4], static_cast<std::uint32_t>(args[5]));
    } else if (nr == SYS_sendmsg) {
      msghdr header{};
      if (!read_memory(pid, args[1], &header, sizeof header)) return fail(response, EFAULT);
      names.emplace_back(reinterpret_cast<std::uint64_t>(header.msg_name), header.msg_namelen);
    } else {
      const std::size_t count = std::min<std::size_t>(static_cast<std::uint32_t>(args[2]),
                                                      kMaxMessages);
      std::vector<mmsghdr> headers(count);
      if (!read_memory(pid, args[1], headers.data(), count * sizeof(mmsghdr))) {
        return fail(response, EFAULT);
      }
      for (const mmsghdr& message : headers) {
        names.emplace_back(reinterpret_cast<std::uint64_t>(message.msg_hdr.msg_name),
                           message.msg_hdr.msg_namelen);
      }
    }
    const char* what = nr == SYS_sendto ? "sendto" : "sendmsg";
    for (const auto& [address, length] : names) {
      if (address == 0 || length == 0 || length > sizeof(sockaddr_un)) continue;
      std::uint8_t bytes[sizeof(sockaddr_un)];
      if (!read_memory(pid, address, bytes, length)) return fail(response, EFAULT);
      const UnixAddress named = parse_unix_address({bytes, length});
      if (named.kind != UnixAddress::Kind::Pathname) continue;
      const ActingAs as(options_.identity, own_groups_);
      int error = 0;
      const UniqueFd file = open_in_caller_view(pid, named.path, error);
      if (!file.valid()) continue;  // the kernel finds nothing there either
      if (!still_valid(call)) return;
      if (!allowed(call, file.get(), named.path, what)) return fail(response, EACCES);
    }
    response.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
  }

  static void fail(seccomp_notif_resp& response, int error) {
    response.error = -error;
    response.val = 0;
  }

  int notify_;
  Shared& shared_;
  const SupervisorOptions& options_;
  const std::vector<gid_t>& own_groups_;
  std::function<void()> may_block_;
  std::unordered_map<pid_t, UniqueFd> thread_pidfds_;  // take_thread_descriptor's
};

// Ends a receiving thread's wait in SECCOMP_IOCTL_NOTIF_RECV (EINTR): installed without
// SA_RESTART, unblocked on those threads only, sent to each by the destructor.
int wake_signal() { return SIGRTMIN + 4; }

void on_wake(int) {}

void install_wake_handler() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction action {};
    action.sa_handler = on_wake;
    sigemptyset(&action.sa_mask);
    sigaction(wake_signal(), &action, nullptr);
  });
}

}  // namespace

// The receiving threads, leader and followers: one thread, the leader, waits in
// SECCOMP_IOCTL_NOTIF_RECV itself (no poll, no hop: with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP
// the caller hands its CPU straight to it; one waiter, so no call wakes a herd) and answers
// what it receives. Before a connect() that waits in awf's hands (a listener whose backlog is
// full: Handler::connect_waiting_aside) it hands the lead to a parked follower, or starts
// one, and parks itself once done: a waiting connect never holds the command's other calls.
// Every other call keeps the lead: no hand-over on the common path.
struct SocketSupervisor::Pool {
  struct Receiver {
    std::thread thread;
    std::atomic<bool> done{false};
  };

  Shared shared;
  UniqueFd notify;
  UniqueFd diag;
  SupervisorOptions options;
  std::mutex mutex;
  std::condition_variable lead_free;  // a follower may take the lead
  bool stopping = false;              // under mutex
  bool led = false;                   // a thread leads (waits in RECV); under mutex
  std::size_t parked = 0;             // followers waiting for the lead; under mutex
  std::list<Receiver> receivers;      // under mutex

  // Under `mutex`. Starts a thread that takes the lead when it is free; false when none can be
  // had.
  bool add_receiver() {
    if (stopping || receivers.size() >= kMaxReceivers) return false;
    Receiver& receiver = receivers.emplace_back();
    try {
      receiver.thread = std::thread([this, &receiver] { receive(receiver); });
    } catch (const std::system_error&) {
      receivers.pop_back();  // the calls wait for a busy thread to take the lead again
      return false;
    }
    return true;
  }

  // The leader's, before a call that may block: gives up the lead (at most once per call).
  void hand_over_lead(bool& handed) {
    if (handed) return;
    handed = true;
    const std::lock_guard lock(mutex);
    led = false;
    // Not a thread started here: it would inherit this one's credentials, which may be the
    // command's now (ActingAs). The spare a leader starts takes the lead when it parks.
    if (parked > 0) lead_free.notify_one();
  }

  void receive(Receiver& self) {
    sigset_t wake;
    sigemptyset(&wake);
    sigaddset(&wake, wake_signal());
    pthread_sigmask(SIG_UNBLOCK, &wake, nullptr);
    bool handed = false;
    Handler handler(shared, [this, &handed] { hand_over_lead(handed); });
    for (bool hung_up = false; !hung_up;) {
      {
        std::unique_lock lock(mutex);
        ++parked;
        lead_free.wait(lock, [this] { return stopping || !led; });
        --parked;
        if (stopping) break;
        led = true;
        // A spare for the next hand-over, started with awf's own credentials.
        if (parked == 0) add_receiver();
      }
      for (handed = false; !handed;) {
        seccomp_notif request{};
        if (ioctl(notify.get(), SECCOMP_IOCTL_NOTIF_RECV, &request) == 0) {
          handler.handle(request);
          continue;
        }
        const int error = errno;
        if (error == EINTR) {
          const std::lock_guard lock(mutex);
          if (stopping) break;
          continue;
        }
        // ENOENT: the caller went away between its notification and this call; with no
        // process of the command left, the descriptor hangs up and the supervisor is done
        // (it keeps the lead, so no other thread waits in vain).
        pollfd hung{notify.get(), POLLIN, 0};
        if (error == ENOENT && !(poll(&hung, 1, 0) == 1 && (hung.revents & POLLHUP))) continue;
        hung_up = true;
        break;
      }
      const std::lock_guard lock(mutex);
      if (stopping) break;
    }
    self.done = true;
  }
};

SocketSupervisor::SocketSupervisor(UniqueFd notify, UniqueFd diag, SupervisorOptions options)
    : pool_(std::make_unique<Pool>()) {
  pool_->notify = std::move(notify);
  pool_->diag = std::move(diag);
  pool_->options = std::move(options);
  pool_->shared.notify = pool_->notify.get();
  pool_->shared.diag = pool_->diag.get();
  pool_->shared.options = &pool_->options;
  pool_->shared.own_groups = own_groups();
  install_wake_handler();
  ioctl(pool_->notify.get(), SECCOMP_IOCTL_NOTIF_SET_FLAGS, kSyncWakeUp);
  const std::lock_guard lock(pool_->mutex);
  if (!pool_->add_receiver()) throw SetupError("socket supervisor: cannot start a thread");
}

SocketSupervisor::~SocketSupervisor() {
  {
    const std::lock_guard lock(pool_->mutex);
    pool_->stopping = true;
  }
  pool_->lead_free.notify_all();
  // The leader waits in RECV, others may wait in a connect(): a signal ends each wait. A
  // thread between its check of `stopping` and its wait misses one: send again until every
  // thread has ended.
  for (;;) {
    bool waiting = false;
    {
      const std::lock_guard lock(pool_->mutex);
      for (Pool::Receiver& receiver : pool_->receivers) {
        if (receiver.done) continue;
        waiting = true;
        pthread_kill(receiver.thread.native_handle(), wake_signal());
      }
    }
    if (!waiting) break;
    const timespec pause{0, 1'000'000};
    nanosleep(&pause, nullptr);
  }
  for (Pool::Receiver& receiver : pool_->receivers) receiver.thread.join();
}

}  // namespace awf::sandbox
