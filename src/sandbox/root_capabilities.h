// The capabilities a root awf uses, each for a reason of its own, checked before anything is
// created. A container's default set lacks some of them (CAP_SYS_ADMIN, CAP_NET_ADMIN,
// CAP_SYS_PTRACE): without this check each shows up late and alone, as the failure of its
// first use, and one (CAP_SYS_PTRACE, for pidfd_getfd on the command) not at all: every
// connect and send of the command would be refused, nothing logged. Pure: the caller reads
// the effective set (capget).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace awf::sandbox {

// "cannot create the sandbox: awf runs as root without CAP_X, CAP_Y ...", naming the fix; nullopt
// when `effective` (a capability bitmask, bit N = capability N) holds every one awf uses.
std::optional<std::string> root_capability_problem(std::uint64_t effective);

}  // namespace awf::sandbox
