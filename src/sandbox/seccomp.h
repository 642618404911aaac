// The command's system call filter (seccomp-bpf through libseccomp), the last layer installed
// before exec. Denied calls fail with EPERM (clone3 with ENOSYS) instead of killing the caller,
// so tools see an ordinary error and fail cleanly. See docs/security.md for the list.
#pragma once

namespace awf::sandbox {

// Installs the filter on the calling thread; it is inherited by every child and kept across
// exec. Requires no_new_privs (or CAP_SYS_ADMIN). Throws SetupError.
void install_syscall_filter();

}  // namespace awf::sandbox
