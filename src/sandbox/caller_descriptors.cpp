#include "sandbox/caller_descriptors.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "sandbox/caller_view.h"

namespace awf::sandbox {
namespace {

constexpr std::size_t kKeptPidfds = 256;  // per supervisor thread

// Linux 6.9: a pidfd for any thread, not only a thread group's leader (the notification names
// the calling thread); pidfd_getfd through it reaches the descriptor table the threads share.
#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

UniqueFd get_fd(int pidfd, int fd) {
  return UniqueFd(static_cast<int>(syscall(SYS_pidfd_getfd, pidfd, fd, 0)));
}

// Through a pidfd of the thread's process, opened once per call.
UniqueFd take_through_process(pid_t tid, int fd, UniqueFd& pidfd) {
  if (!pidfd.valid()) {
    // Before Linux 6.9 (EINVAL) a pidfd names a thread group's leader only: the calling
    // thread's process, found in /proc (a dozen microseconds more).
    pidfd.reset(static_cast<int>(syscall(SYS_pidfd_open, tid, 0)));
    if (!pidfd.valid())
      pidfd.reset(static_cast<int>(syscall(SYS_pidfd_open, thread_group_of(tid), 0)));
    if (!pidfd.valid()) return UniqueFd();
  }
  return get_fd(pidfd.get(), fd);
}

}  // namespace

// Through a pidfd of the calling thread kept from its earlier calls (PIDFD_THREAD, Linux
// 6.9; a pidfd_open and a close fewer per call). Sound to keep: a pidfd names one struct pid,
// whose task pidfd_getfd looks up at each call; once the thread is gone it has none (ESRCH:
// opened again), and its number can only name another thread after that. A pidfd of the
// thread's process (the fallback) is not kept: a number reused by another process's thread
// would reach the wrong descriptor table.
UniqueFd CallerDescriptors::take(pid_t tid, int fd, UniqueFd& call_pidfd) {
  if (const auto kept = thread_pidfds_.find(tid); kept != thread_pidfds_.end()) {
    UniqueFd taken = get_fd(kept->second.get(), fd);
    if (taken.valid() || errno != ESRCH) return taken;
    thread_pidfds_.erase(kept);
  }
  UniqueFd thread(static_cast<int>(syscall(SYS_pidfd_open, tid, PIDFD_THREAD)));
  if (!thread.valid()) return take_through_process(tid, fd, call_pidfd);
  UniqueFd taken = get_fd(thread.get(), fd);
  const int error = errno;
  if (thread_pidfds_.size() >= kKeptPidfds) thread_pidfds_.clear();  // ended threads' too
  thread_pidfds_.emplace(tid, std::move(thread));
  errno = error;
  return taken;
}

}  // namespace awf::sandbox
