// The kernel's files in the sandbox's view: a minimal /dev of the sandbox's own and a /proc
// whose host-wide knobs are read-only and whose kernel-internal files are masked, as container
// runtimes (runc, crun) do. The command may be uid 0 (`--user root`): without these, uid 0
// needs no capability to write /proc/sys (kernel.core_pattern runs a program as the host's
// root at the next crash) or to open the host's devices by their file modes.
#pragma once

#include <string>

namespace awf::sandbox {

// Mounts a tmpfs on `dev` (a directory in the view being built) holding only null, zero,
// full, random, urandom and tty (bound from `host_root`/dev), a private devpts, its own shm and
// the std descriptor links. `terminal` (a path in `host_root`, "" for none) is the terminal
// the command inherits: its node lives in the host's devpts, which the view does not show,
// so it is bound at /dev/console (as container runtimes do), where ttyname() and tty(1)
// find it. Throws SetupError.
void build_dev(const std::string& host_root, const std::string& dev, const std::string& terminal);

// On a freshly mounted `proc`: the knobs that act on the whole host become read-only and the
// files that show kernel memory, keys or other tenants' activity are covered. Entries this
// kernel does not have are skipped. Throws SetupError.
void restrict_proc(const std::string& proc);

// On the read-only bind of the host's `sys`: firmware tables and energy counters (a power
// side channel on other tenants' computations) are hidden, as runc does.
void restrict_sys(const std::string& sys);

}  // namespace awf::sandbox
