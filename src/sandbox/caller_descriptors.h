// The caller's descriptors as awf's own (pidfd_getfd): the socket a connect() or send names,
// the files a message passes. The socket supervisor acts on these very objects, never on the
// caller's descriptor numbers, which another thread can dup2() over at any time.
#pragma once

#include <sys/types.h>

#include <unordered_map>

#include "common/unique_fd.h"

namespace awf::sandbox {

class CallerDescriptors {
 public:
  // The thread `tid`'s descriptor `fd` as one of awf's (the same open file); invalid with
  // errno set when it has none (EBADF) or the thread is gone. `call_pidfd` caches the
  // fallback pidfd for the rest of one call (kernels before 6.9).
  UniqueFd take(pid_t tid, int fd, UniqueFd& call_pidfd);

 private:
  std::unordered_map<pid_t, UniqueFd> thread_pidfds_;
};

}  // namespace awf::sandbox
