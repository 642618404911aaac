#include "sandbox/socket_supervisor.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/fsuid.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

#include "common/error.h"
#include "sandbox/sock_diag.h"
#include "sandbox/unix_address.h"

namespace awf::sandbox {
namespace {

constexpr std::size_t kMaxMessages = 1024;  // sendmmsg's limit (UIO_MAXIOV)

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
    call.pidfd.reset(static_cast<int>(syscall(SYS_pidfd_open, call.request.pid, 0)));
    // A thread other than the process's first (EINVAL, or ENOENT on newer kernels): its
    // process holds the descriptors.
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

// awf's file system checks made as the command (when awf is root): the thread's fsuid, fsgid
// and groups, which a root process may set per thread. Without this, root's DAC override
// would let the command reach a socket its own permissions forbid. Raw system calls: glibc's
// setgroups would change every thread of awf.
class ActingAs {
 public:
  ActingAs(const Identity& identity, const std::vector<gid_t>& own_groups)
      : own_groups_(own_groups), active_(geteuid() == 0 && identity.uid != 0) {
    if (!active_) return;
    syscall(SYS_setgroups, identity.groups.size(), identity.groups.data());
    setfsgid(identity.gid);
    setfsuid(identity.uid);
  }
  ~ActingAs() {
    if (!active_) return;
    setfsuid(0);  // first: gives the file capabilities back
    setfsgid(0);
    syscall(SYS_setgroups, own_groups_.size(), own_groups_.data());
  }
  ActingAs(const ActingAs&) = delete;
  ActingAs& operator=(const ActingAs&) = delete;

 private:
  const std::vector<gid_t>& own_groups_;
  bool active_;
};

std::vector<gid_t> own_groups() {
  const long count = syscall(SYS_getgroups, 0, nullptr);
  std::vector<gid_t> groups(count > 0 ? static_cast<std::size_t>(count) : 0);
  if (count > 0) syscall(SYS_getgroups, count, groups.data());
  return groups;
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

class Handler {
 public:
  Handler(int notify, int diag, const SupervisorOptions& options)
      : notify_(notify), diag_(diag), options_(options), own_groups_(own_groups()) {}

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
  // The caller is still in that very call: the pid was not reused, the memory read is its.
  bool still_valid(const Call& call) const {
    std::uint64_t id = call.request.id;
    return ioctl(notify_, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0;
  }

  // connect(fd, address, length): always done by awf, on the caller's socket.
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
    int result;
    if (named.kind == UnixAddress::Kind::Pathname && socket_family(socket.get()) == AF_UNIX) {
      result = connect_by_path(call, socket.get(), named.path);
    } else {
      // Every other address: the kernel's own checks, in the socket's network namespace.
      result = connect(socket.get(), reinterpret_cast<const sockaddr*>(&address),
                       static_cast<socklen_t>(length)) == 0 ? 0 : errno;
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
    return connect(socket, reinterpret_cast<const sockaddr*>(&target), sizeof target) == 0 ? 0
                                                                                          : errno;
  }

  // The socket bound to `file` is the sandbox's own, or one the caller named; else refused
  // and recorded.
  bool allowed(const Call& call, int file, const std::string& path, const char* what) {
    struct stat st {};
    // Not a socket: nothing listens there; the kernel refuses it on its own.
    if (fstat(file, &st) < 0 || !S_ISSOCK(st.st_mode)) return true;
    const UnixBinding binding = binding_of_file(file);
    if (bound_in_sandbox(diag_, ++sequence_, binding)) return true;
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
  int diag_;
  std::uint32_t sequence_ = 0;  // of unix_diag dumps
  const SupervisorOptions& options_;
  const std::vector<gid_t> own_groups_;  // awf's, restored after each ActingAs
};

}  // namespace

SocketSupervisor::SocketSupervisor(UniqueFd notify, UniqueFd diag, SupervisorOptions options)
    : notify_(std::move(notify)),
      diag_(std::move(diag)),
      stop_(eventfd(0, EFD_CLOEXEC)),
      options_(std::move(options)) {
  if (!stop_.valid()) throw errno_error("eventfd");
  thread_ = std::thread([this] { run(); });
}

SocketSupervisor::~SocketSupervisor() {
  const std::uint64_t one = 1;
  if (write(stop_.get(), &one, sizeof one) < 0) {
    // The thread then ends with the command's last process (POLLHUP).
  }
  thread_.join();
}

void SocketSupervisor::run() {
  Handler handler(notify_.get(), diag_.get(), options_);
  ioctl(notify_.get(), SECCOMP_IOCTL_NOTIF_SET_FLAGS, kSyncWakeUp);
  pollfd fds[2] = {{notify_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents != 0) return;
    if (fds[0].revents & POLLIN) {
      seccomp_notif request{};
      if (ioctl(notify_.get(), SECCOMP_IOCTL_NOTIF_RECV, &request) == 0) handler.handle(request);
      continue;
    }
    if (fds[0].revents != 0) return;  // POLLHUP: no process of the command is left
  }
}

}  // namespace awf::sandbox
