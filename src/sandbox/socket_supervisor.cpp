#include "sandbox/socket_supervisor.h"

#include <fcntl.h>
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
#include <cerrno>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <unordered_map>

#include "common/error.h"
#include "sandbox/caller_descriptors.h"
#include "sandbox/caller_message.h"
#include "sandbox/caller_view.h"
#include "sandbox/control_messages.h"
#include "sandbox/sock_diag.h"
#include "sandbox/thread_identity.h"
#include "sandbox/unix_address.h"

namespace awf::sandbox {
namespace {

constexpr std::size_t kMaxMessages = 1024;  // sendmmsg's limit (UIO_MAXIOV)

// The most bytes awf copies for one message it sends for the command: more than a datagram can
// hold (a Unix one is at most twice net.core.wmem_max), so only a stream's send is cut short
// there, and returns the count sent, as a send interrupted by a signal does.
constexpr std::size_t kMaxSendCopy = 2 << 20;

// Supervisor threads at most: one per connect() of the command's threads waiting in awf's
// hands at once (a listener whose backlog is full), plus the leader and its spare.
constexpr std::size_t kMaxReceivers = 256;

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

// SO_DOMAIN, SO_TYPE, SO_PROTOCOL: -1 when not a socket.
int socket_option(int fd, int name) {
  int value = -1;
  socklen_t size = sizeof value;
  return getsockopt(fd, SOL_SOCKET, name, &value, &size) == 0 ? value : -1;
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
  std::mutex diag_mutex;            // one unix_diag dump at a time on `diag`
  std::uint32_t diag_sequence = 0;  // under diag_mutex
  const SupervisorOptions* options = nullptr;
  OwnIdentity own;  // awf's, restored after each ActingAs and CallingAs
};

// Answers one notification at a time, on the thread that received it.
class Handler {
 public:
  // `may_block` is called before a connect() or send that will wait; the caller then
  // lets another thread receive. (A path resolution on a hung host mount would wait without
  // it, as the command's own calls there do.)
  Handler(Shared& shared, std::function<void()> may_block)
      : notify_(shared.notify),
        shared_(shared),
        options_(*shared.options),
        may_block_(std::move(may_block)) {}

  void handle(const seccomp_notif& request) {
    Call call{request, UniqueFd()};
    seccomp_notif_resp response{};
    response.id = request.id;
    const int nr = request.data.nr;
    if (nr == SYS_connect) {
      answer_connect(call, response);
    } else {
      answer_send(call, response);
    }
    // ENOENT: the caller is gone (a signal ended the call); nothing to answer.
    ioctl(notify_, SECCOMP_IOCTL_NOTIF_SEND, &response);
  }

 private:
  // The caller's descriptor `fd` as one of awf's (caller_descriptors.h).
  UniqueFd take_descriptor(Call& call, std::uint64_t fd) {
    return descriptors_.take(static_cast<pid_t>(call.request.pid), static_cast<int>(fd),
                             call.pidfd);
  }

  // The caller is still in that very call: the pid was not reused, the memory read is its.
  bool still_valid(const Call& call) const {
    std::uint64_t id = call.request.id;
    return ioctl(notify_, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
  }

  // connect(fd, address, length): always done by awf, on the caller's socket object, of any
  // family. Not SECCOMP_USER_NOTIF_FLAG_CONTINUE, even for a socket found not to be AF_UNIX
  // (whose family cannot change, and which refuses a Unix address): CONTINUE makes the kernel
  // run the call from its start and look the descriptor *number* up again in the caller's
  // table. Another thread, or a process sharing that table (CLONE_FILES), can dup2() an
  // AF_UNIX socket over the number in between and rewrite the address to a host socket's
  // path. The same holds for the sends (answer_send). Acting on the socket object awf took
  // (pidfd_getfd) with its own copy of the address leaves nothing to swap.
  void answer_connect(Call& call, seccomp_notif_resp& response) {
    const auto& args = call.request.data.args;
    const std::size_t length = static_cast<std::size_t>(static_cast<std::uint32_t>(args[2]));
    if (length > sizeof(sockaddr_storage)) return fail(response, EINVAL);
    sockaddr_storage address{};
    if (!read_memory(call.request.pid, args[1], &address, length)) return fail(response, EFAULT);
    UniqueFd socket = take_descriptor(call, args[0]);
    if (!socket.valid()) return fail(response, errno == EBADF ? EBADF : EPERM);
    if (!still_valid(call)) return;
    const UnixAddress named =
        parse_unix_address({reinterpret_cast<const std::uint8_t*>(&address), length});
    const int family = socket_option(socket.get(), SO_DOMAIN);
    int result;
    if (named.kind == UnixAddress::Kind::Pathname && family == AF_UNIX) {
      result = connect_by_path(call, socket.get(), named.path);
    } else if (family == AF_NETLINK &&
               names_a_netlink_peer({reinterpret_cast<const std::uint8_t*>(&address), length})) {
      result = EPERM;  // as for a send there (send_message): awf's capabilities would pass
    } else {
      // Every other address: the kernel's own checks, in the socket's network namespace, as
      // the command (a Unix peer reads its credentials; no capability of awf's applies).
      const CallingAs as(options_.identity, shared_.own);
      result = connect_waiting_aside(socket.get(), reinterpret_cast<const sockaddr*>(&address),
                                     static_cast<socklen_t>(length));
    }
    if (result != 0) fail(response, result);
  }

  // Resolves, decides, connects; returns 0 or an errno.
  int connect_by_path(const Call& call, int socket, const std::string& path) {
    const ActingAs as(options_.identity, shared_.own);
    int error = 0;
    const UniqueFd file = open_in_caller_view(call.request.pid, path, error);
    if (!file.valid()) return error;
    if (!still_valid(call)) return EINTR;  // nobody waits for the answer any more
    if (!allowed(call, file.get(), path, "connect")) return EACCES;
    sockaddr_un target{};
    target.sun_family = AF_UNIX;
    std::snprintf(target.sun_path, sizeof target.sun_path, "/proc/thread-self/fd/%d", file.get());
    const CallingAs peer(options_.identity, shared_.own);
    return connect_waiting_aside(socket, reinterpret_cast<const sockaddr*>(&target), sizeof target);
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

  // sendto() with a destination, sendmsg(), sendmmsg(): always done by awf, on the caller's
  // socket object, with its own copy of the message (answer_connect says why not CONTINUE: the
  // kernel would read the descriptor number and the destination again, after the check).
  void answer_send(Call& call, seccomp_notif_resp& response) {
    const auto& args = call.request.data.args;
    const int nr = call.request.data.nr;
    const int flags = static_cast<int>(nr == SYS_sendmsg ? args[2] : args[3]);
    UniqueFd socket = take_descriptor(call, args[0]);
    if (!socket.valid()) return fail(response, errno == EBADF ? EBADF : EPERM);
    if (nr == SYS_sendmmsg) return answer_sendmmsg(call, socket.get(), flags, response);
    CallerMessage message;
    int error = 0;
    if (nr == SYS_sendto) {
      error = reader_.read_sendto(call.request.pid, args[1], args[2], args[4], args[5], message);
    } else {
      msghdr header{};
      error = read_memory(call.request.pid, args[1], &header, sizeof header)
                  ? reader_.read_header(call.request.pid, header, message)
                  : EFAULT;
    }
    if (error != 0) return fail(response, error);
    const ssize_t sent =
        send_message(call, socket.get(), message, flags, nr == SYS_sendto ? "sendto" : "sendmsg");
    if (sent < 0) return fail(response, static_cast<int>(-sent));
    response.val = sent;
  }

  // Each message in turn, as the kernel does: the count sent, or the first one's error; each
  // sent message's length is written back to its msg_len.
  void answer_sendmmsg(Call& call, int socket, int flags, seccomp_notif_resp& response) {
    const auto& args = call.request.data.args;
    const std::size_t count =
        std::min<std::size_t>(static_cast<std::uint32_t>(args[2]), kMaxMessages);
    std::vector<mmsghdr> headers(count);
    if (!read_memory(call.request.pid, args[1], headers.data(), count * sizeof(mmsghdr))) {
      return fail(response, EFAULT);
    }
    std::size_t sent = 0;
    for (; sent < count; ++sent) {
      CallerMessage message;
      int error = reader_.read_header(call.request.pid, headers[sent].msg_hdr, message);
      const ssize_t length =
          error != 0 ? -error : send_message(call, socket, message, flags, "sendmsg");
      if (length < 0) {
        if (sent == 0) return fail(response, static_cast<int>(-length));
        break;
      }
      headers[sent].msg_len = static_cast<unsigned>(length);
      const std::uint64_t slot = args[1] + sent * sizeof(mmsghdr) + offsetof(mmsghdr, msg_len);
      write_memory(call.request.pid, slot, &headers[sent].msg_len, sizeof(unsigned));
    }
    response.val = static_cast<std::int64_t>(sent);
  }

  // Sends one message as the command's own call would, on `socket`; bytes sent or -errno.
  ssize_t send_message(Call& call, int socket, CallerMessage& message, int flags,
                       const char* what) {
    const int family = socket_option(socket, SO_DOMAIN);
    // The type only where it matters (a syscall fewer on the common path).
    const int type = family == AF_UNIX || message.truncated ? socket_option(socket, SO_TYPE) : -1;
    if (message.truncated && type != SOCK_STREAM) return -EMSGSIZE;
    std::vector<UniqueFd> passed;  // awf's copies of the descriptors the message carries
    if (const int error = take_passed_descriptors(call, message.control, passed); error != 0) {
      return -error;
    }
    if (family == AF_NETLINK && !message.name.empty()) {
      if (!is_netlink_address(message.name)) return -EINVAL;  // as the kernel answers it
      if (names_a_netlink_peer(message.name)) return -EPERM;
    }
    // The caller is still in this call: what was read and taken is its, not a reused pid's.
    if (!still_valid(call)) return -EINTR;
    msghdr header{};
    iovec data{message.data.data(), message.data.size()};
    header.msg_iov = &data;
    header.msg_iovlen = 1;
    header.msg_control = message.control.empty() ? nullptr : message.control.data();
    header.msg_controllen = message.control.size();
    // A netlink message addressed to the kernel goes without its address, which is where an
    // unaddressed one goes too (the command cannot connect its socket elsewhere:
    // answer_connect): with an address the kernel judges a request such as RTM_NEWROUTE by
    // the sender's capabilities alone (NETLINK_SKB_DST), without one by those of the
    // socket's opener as well, which are the command's. awf's would pass (a rootless awf's
    // over the sandbox's user namespace as its owner, whatever CallingAs drops).
    if (family != AF_NETLINK && !message.name.empty()) {
      header.msg_name = message.name.data();
      header.msg_namelen = static_cast<socklen_t>(message.name.size());
    }
    const UnixAddress named = parse_unix_address(message.name);
    ssize_t sent;
    if (family == AF_UNIX && type == SOCK_DGRAM && named.kind == UnixAddress::Kind::Pathname) {
      sent = send_to_path(call, socket, header, flags, named.path, what);
    } else {
      // As the command: no capability of awf's reaches a check the kernel makes at send time,
      // and a Unix receiver's SO_PASSCRED reads the command's uid and gid.
      const CallingAs as(options_.identity, shared_.own);
      sent = send_waiting_aside(socket, header, flags, type);
    }
    if (sent == -EPIPE && !(flags & MSG_NOSIGNAL)) {
      // What the kernel does for a send on a closed stream: SIGPIPE to the sending thread.
      syscall(SYS_tgkill, thread_group_of(call.request.pid), call.request.pid, SIGPIPE);
    }
    return sent;
  }

  // A Unix datagram to a path: resolved, decided and sent as a connect() is (connect_by_path).
  ssize_t send_to_path(const Call& call, int socket, msghdr& header, int flags,
                       const std::string& path, const char* what) {
    const ActingAs as(options_.identity, shared_.own);
    int error = 0;
    const UniqueFd file = open_in_caller_view(call.request.pid, path, error);
    if (!file.valid()) return -error;
    if (!still_valid(call)) return -EINTR;  // nobody waits for the answer any more
    if (!allowed(call, file.get(), path, what)) return -EACCES;
    // That very file, whatever the path names by the time the kernel resolves it.
    sockaddr_un target{};
    target.sun_family = AF_UNIX;
    std::snprintf(target.sun_path, sizeof target.sun_path, "/proc/thread-self/fd/%d", file.get());
    header.msg_name = &target;
    header.msg_namelen = sizeof target;
    const CallingAs peer(options_.identity, shared_.own);
    return send_waiting_aside(socket, header, flags, SOCK_DGRAM);
  }

  // SCM_RIGHTS carries descriptor numbers of the command's table: each is replaced, in
  // `control`, by awf's copy of the same file, kept open in `passed` until the message is sent.
  // 0 or an errno (control_messages.h: what is refused, and why).
  int take_passed_descriptors(Call& call, std::vector<std::uint8_t>& control,
                              std::vector<UniqueFd>& passed) {
    const ControlWalk walk = walk_control(control);
    if (walk.error != 0) return walk.error;
    for (const ControlEntry& entry : walk.entries) {
      if (!carries_descriptors(entry)) continue;
      for (std::size_t at = 0; at + sizeof(int) <= entry.data_size; at += sizeof(int)) {
        if (passed.size() == kMaxPassedDescriptors) return EINVAL;
        std::uint8_t* slot = control.data() + entry.data_offset + at;
        int number = 0;
        std::memcpy(&number, slot, sizeof number);
        UniqueFd copy = take_descriptor(call, static_cast<std::uint64_t>(number));
        if (!copy.valid()) return EBADF;
        number = copy.get();
        std::memcpy(slot, &number, sizeof number);
        passed.push_back(std::move(copy));
      }
    }
    return 0;
  }

  // sendmsg() without holding the lead while it waits, as connect_waiting_aside: tried
  // without waiting first; a blocking caller's send that would wait (a full socket buffer, a
  // datagram receiver's full queue, a TCP Fast Open handshake) hands the lead over and waits.
  // A stream's partial send is completed by the wait, as the blocking call would have done.
  // The socket's mode and type (-1: not known yet) are looked at only then. MSG_NOSIGNAL
  // always: a SIGPIPE is the caller's (send_message). Bytes sent or -errno.
  ssize_t send_waiting_aside(int socket, const msghdr& header, int flags, int type) {
    flags |= MSG_NOSIGNAL;
    const auto send = [socket, flags](const msghdr& part, int extra) -> ssize_t {
      const ssize_t n = sendmsg(socket, &part, flags | extra);
      return n < 0 ? -static_cast<ssize_t>(errno) : n;
    };
    if (flags & MSG_DONTWAIT) return send(header, 0);
    const std::size_t total = header.msg_iov[0].iov_len;
    ssize_t sent = 0;
    if (!(flags & MSG_FASTOPEN)) {  // a handshake first: nothing to try without waiting
      sent = send(header, MSG_DONTWAIT);
      if ((sent < 0 && sent != -EAGAIN) || static_cast<std::size_t>(sent) == total) return sent;
    }
    const int file_flags = fcntl(socket, F_GETFL);
    if (file_flags < 0 || (file_flags & O_NONBLOCK))
      return (flags & MSG_FASTOPEN) ? send(header, 0) : sent;
    if (sent > 0 && (type < 0 ? socket_option(socket, SO_TYPE) : type) != SOCK_STREAM) return sent;
    may_block_();
    if (sent <= 0) return send(header, 0);
    // The rest of a stream's bytes; the destination and control messages went with the first.
    iovec rest{static_cast<std::uint8_t*>(header.msg_iov[0].iov_base) + sent,
               total - static_cast<std::size_t>(sent)};
    msghdr remainder{};
    remainder.msg_iov = &rest;
    remainder.msg_iovlen = 1;
    const ssize_t more = send(remainder, 0);
    return more < 0 ? sent : sent + more;
  }

  static void fail(seccomp_notif_resp& response, int error) {
    response.error = -error;
    response.val = 0;
  }

  int notify_;
  Shared& shared_;
  const SupervisorOptions& options_;
  std::function<void()> may_block_;
  CallerDescriptors descriptors_;
  MessageReader reader_{kMaxSendCopy};
};

// Ends a receiving thread's wait in SECCOMP_IOCTL_NOTIF_RECV (EINTR): installed without
// SA_RESTART, unblocked on those threads only, sent to each by the destructor.
int wake_signal() {
  return SIGRTMIN + 4;
}

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
  pool_->shared.own = own_identity();
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
