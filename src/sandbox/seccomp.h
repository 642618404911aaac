// The command's system call filter (seccomp-bpf through libseccomp), the last layer installed
// before exec. Denied calls fail with EPERM (clone3 with ENOSYS) instead of killing the caller,
// so tools see an ordinary error and fail cleanly. See docs/security.md for the list.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

namespace awf::sandbox {

// The filter compiled to BPF. Built by the sandbox's init while awf starts its gateway (off
// the startup path), installed by the command's process right before exec.
class SyscallFilter {
 public:
  // Throws SetupError.
  static SyscallFilter build();

  // Installs the filter on the calling thread; it is inherited by every child and kept across
  // exec. Needs no_new_privs (or CAP_SYS_ADMIN). Sets `listener` to the filter's notification
  // descriptor (close-on-exec), for awf's socket supervisor. Returns an error message, or ""
  // on success (called between fork and exec).
  std::string install(int& listener) const;

 private:
  std::vector<sock_filter> program_;
};

}  // namespace awf::sandbox
