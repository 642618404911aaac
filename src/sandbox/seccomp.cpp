#include "sandbox/seccomp.h"

#include <linux/netlink.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>

#include "common/error.h"
#include "common/unique_fd.h"

namespace awf::sandbox {
namespace {

// SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (Linux 5.19), absent from older headers.
constexpr unsigned long kWaitKillableRecv = 1UL << 5;

using Filter = std::unique_ptr<void, decltype(&seccomp_release)>;

// Calls that would let the command leave or reshape its sandbox, or reach the kernel's most
// exposed interfaces. Most of them already need capabilities the command does not have; the
// filter is the second lock, and it holds even if a kernel bug hands a capability back.
constexpr int kDeniedCalls[] = {
    // New namespaces would give the command a fresh set of capabilities (a user namespace)
    // to attack the kernel with; setns would join another process's namespaces.
    SCMP_SYS(unshare),
    SCMP_SYS(setns),
    // Mounts: the filesystem view (masked credentials, hidden sockets) must stay as built.
    SCMP_SYS(mount),
    SCMP_SYS(umount2),
    SCMP_SYS(pivot_root),
    SCMP_SYS(chroot),
    SCMP_SYS(fsopen),
    SCMP_SYS(fsconfig),
    SCMP_SYS(fsmount),
    SCMP_SYS(fspick),
    SCMP_SYS(move_mount),
    SCMP_SYS(open_tree),
    SCMP_SYS(mount_setattr),
    // Reading or steering other processes (the sandbox's init holds awf's memory image).
    SCMP_SYS(ptrace),
    SCMP_SYS(process_vm_readv),
    SCMP_SYS(process_vm_writev),
    SCMP_SYS(pidfd_getfd),
    // Kernel attack surface with a long record of privilege escalations.
    SCMP_SYS(bpf),
    SCMP_SYS(perf_event_open),
    SCMP_SYS(userfaultfd),
    // The kernel keyring is not namespaced: keys of the host's users could be read or planted.
    SCMP_SYS(add_key),
    SCMP_SYS(request_key),
    SCMP_SYS(keyctl),
    // Kernel modules, kexec, reboot, swap: host-wide state.
    SCMP_SYS(init_module),
    SCMP_SYS(finit_module),
    SCMP_SYS(delete_module),
    SCMP_SYS(kexec_load),
    SCMP_SYS(kexec_file_load),
    SCMP_SYS(reboot),
    SCMP_SYS(swapon),
    SCMP_SYS(swapoff),
    // Opens any file by its handle, bypassing the directories a bind mount or mask hides.
    SCMP_SYS(open_by_handle_at),
    // io_uring performs socket, connect and open operations without the corresponding system
    // calls, so it would walk around every argument filter below.
    SCMP_SYS(io_uring_setup),
    SCMP_SYS(io_uring_enter),
    SCMP_SYS(io_uring_register),
};

// clone() flags that create namespaces (the same attack surface as unshare).
constexpr unsigned long kNamespaceFlags[] = {
    CLONE_NEWUSER, CLONE_NEWNS,  CLONE_NEWNET,    CLONE_NEWPID,
    CLONE_NEWIPC,  CLONE_NEWUTS, CLONE_NEWCGROUP,
};

void add_rule(scmp_filter_ctx filter, std::uint32_t action, int call, unsigned count,
              const scmp_arg_cmp* args = nullptr) {
  if (const int rc = seccomp_rule_add_array(filter, action, call, count, args); rc < 0) {
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, call);
    const std::string what = name ? name : std::to_string(call);
    std::free(name);
    throw SetupError("seccomp rule for " + what + ": " + std::strerror(-rc));
  }
}

void deny(scmp_filter_ctx filter, int call, std::initializer_list<scmp_arg_cmp> args = {}) {
  add_rule(filter, SCMP_ACT_ERRNO(EPERM), call, static_cast<unsigned>(args.size()),
           args.size() ? args.begin() : nullptr);
}

// clone3 passes its flags in a structure a filter cannot read. ENOSYS makes glibc fall back
// to clone, whose flags register the rules below inspect.
void deny_namespace_clones(scmp_filter_ctx filter) {
  add_rule(filter, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
  // clone's flags are its first argument on x86_64 and arm64 (the second on s390).
  for (const unsigned long flag : kNamespaceFlags) {
    deny(filter, SCMP_SYS(clone), {SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)});
  }
}

// Socket families are allowed by name: Unix sockets, IPv4 and IPv6 (which only reach the
// sandbox's loopback and awf's gateway) and route netlink. Every other family is refused:
// AF_PACKET and raw sockets could forge traffic on the sandbox's interfaces, AF_VSOCK talks to
// the hypervisor outside every network namespace, and families nobody expects are where kernel
// bugs live (AF_ALG, AF_CAN, AF_TIPC, AF_XDP, ...).
void restrict_sockets(scmp_filter_ctx filter) {
  const int socket_call = SCMP_SYS(socket);
  for (int family = AF_UNIX + 1; family < AF_NETLINK; ++family) {
    if (family == AF_INET || family == AF_INET6) continue;
    deny(filter, socket_call, {SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(family))});
  }
  deny(filter, socket_call, {SCMP_A0(SCMP_CMP_GT, static_cast<scmp_datum_t>(AF_NETLINK))});
  // Netlink: NETLINK_ROUTE only. glibc's getaddrinfo (AI_ADDRCONFIG) and `ip addr` read
  // addresses through it; in our network namespace, without CAP_NET_ADMIN, it can only read.
  // Other protocols (audit, netfilter, uevent, generic families such as WireGuard's) are out.
  deny(filter, socket_call,
       {SCMP_A0(SCMP_CMP_EQ, AF_NETLINK), SCMP_A2(SCMP_CMP_NE, NETLINK_ROUTE)});
  // Raw IP sockets forge packets; SOCK_PACKET on AF_INET is the kernel's legacy spelling of
  // AF_PACKET. The type argument carries SOCK_NONBLOCK/SOCK_CLOEXEC above the type bits.
  constexpr scmp_datum_t kTypeMask = 0xf;
  for (const int family : {AF_INET, AF_INET6}) {
    for (const int type : {SOCK_RAW, SOCK_PACKET}) {
      deny(filter, socket_call,
           {SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(family)),
            SCMP_A1(SCMP_CMP_MASKED_EQ, kTypeMask, static_cast<scmp_datum_t>(type))});
    }
  }
}

// TIOCSTI pushes characters into the input queue of the terminal awf shares with the user's
// shell: typed "commands" would run outside the sandbox once awf exits. TIOCLINUX can do the
// same on a virtual console. The request is a 32-bit int in the kernel.
void deny_terminal_injection(scmp_filter_ctx filter) {
  for (const unsigned long request : {TIOCSTI, TIOCLINUX}) {
    deny(filter, SCMP_SYS(ioctl), {SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, request)});
  }
}

// Calls that may name a Unix socket by path go to awf's supervisor (socket_supervisor.h),
// which decides whether the socket is the sandbox's own. The filter cannot read the address
// (it is in the caller's memory), so every connect() is sent there, of any family; sendto()
// only with a destination; every sendmsg() and sendmmsg(). docs/security.md says why not
// Landlock and what this costs.
void notify_socket_addressing(scmp_filter_ctx filter) {
  add_rule(filter, SCMP_ACT_NOTIFY, SCMP_SYS(connect), 0);
  const scmp_arg_cmp with_destination = SCMP_A4(SCMP_CMP_NE, 0);
  add_rule(filter, SCMP_ACT_NOTIFY, SCMP_SYS(sendto), 1, &with_destination);
  // A message header may carry a destination too; the supervisor reads it.
  add_rule(filter, SCMP_ACT_NOTIFY, SCMP_SYS(sendmsg), 0);
  add_rule(filter, SCMP_ACT_NOTIFY, SCMP_SYS(sendmmsg), 0);
  // awf connects on the command's behalf, so a server in the sandbox would get a pidfd of
  // awf's own process from SO_PEERPIDFD (Linux 6.5), through which PIDFD_GET_*_NAMESPACE
  // (6.11) opens awf's namespaces where ptrace access allows it (rootless awf: the same user)
  // and PIDFD_GET_INFO tells awf's identity. ENOPROTOOPT, as from a kernel before 6.5:
  // programs fall back to SO_PEERCRED. The level and name are ints in the kernel.
  constexpr scmp_datum_t kPeerPidfd = 77;  // SO_PEERPIDFD, absent from older headers
  const scmp_arg_cmp peer_pidfd[] = {SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, SOL_SOCKET),
                                     SCMP_A2(SCMP_CMP_MASKED_EQ, 0xffffffffUL, kPeerPidfd)};
  add_rule(filter, SCMP_ACT_ERRNO(ENOPROTOOPT), SCMP_SYS(getsockopt), 2, peer_pidfd);
  // MSG_ZEROCOPY sends from the sender's pages until the peer has them: awf sends from its own
  // copy, which it reuses. Without SO_ZEROCOPY the flag is ignored, and programs that ask for
  // it fall back to copying on ENOPROTOOPT, as on a kernel before 4.14.
  constexpr scmp_datum_t kZeroCopy = 60;  // SO_ZEROCOPY
  const scmp_arg_cmp zero_copy[] = {SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffUL, SOL_SOCKET),
                                    SCMP_A2(SCMP_CMP_MASKED_EQ, 0xffffffffUL, kZeroCopy)};
  add_rule(filter, SCMP_ACT_ERRNO(ENOPROTOOPT), SCMP_SYS(setsockopt), 2, zero_copy);
}

}  // namespace

SyscallFilter SyscallFilter::build() {
  Filter filter(seccomp_init(SCMP_ACT_ALLOW), seccomp_release);
  if (!filter) throw SetupError("seccomp_init failed");
  // The filter holds rules for the native ABI only. A call through another one (int 0x80 from
  // a 64-bit process, an i386 binary, x32 numbers) would skip every rule, so it kills the
  // process instead: a loud, immediate failure rather than a half-working 32-bit program.
  if (const int rc = seccomp_attr_set(filter.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
      rc < 0) {
    throw SetupError(std::string("seccomp bad-arch action: ") + std::strerror(-rc));
  }
  for (const int call : kDeniedCalls) deny(filter.get(), call);
  deny_namespace_clones(filter.get());
  restrict_sockets(filter.get());
  deny_terminal_injection(filter.get());
  notify_socket_addressing(filter.get());
  // libseccomp 2.5 exports only to a file descriptor.
  UniqueFd memory(memfd_create("awf-seccomp", MFD_CLOEXEC));
  if (!memory.valid()) throw errno_error("memfd_create");
  if (const int rc = seccomp_export_bpf(filter.get(), memory.get()); rc < 0) {
    throw SetupError(std::string("seccomp_export_bpf: ") + std::strerror(-rc));
  }
  const off_t size = lseek(memory.get(), 0, SEEK_CUR);
  SyscallFilter compiled;
  compiled.program_.resize(static_cast<std::size_t>(size) / sizeof(sock_filter));
  const std::size_t bytes = compiled.program_.size() * sizeof(sock_filter);
  if (size <= 0 || pread(memory.get(), compiled.program_.data(), bytes, 0) != ssize_t(bytes)) {
    throw errno_error("read the compiled seccomp filter");
  }
  return compiled;
}

std::string SyscallFilter::install(int& listener) const {
  if (program_.empty()) return "seccomp: no filter was built";
  const sock_fprog program{static_cast<unsigned short>(program_.size()),
                           const_cast<sock_filter*>(program_.data())};
  // Once awf has taken a call, a signal must not end the caller's wait (Linux 5.19): awf
  // sends and connects on the command's behalf, and a call cut short by a handler and
  // restarted would send the same bytes twice. Fatal signals still end it. Older kernels:
  // without (docs/security.md, known limits).
  long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
                    SECCOMP_FILTER_FLAG_NEW_LISTENER | kWaitKillableRecv, &program);
  if (fd < 0 && errno == EINVAL) {
    fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &program);
  }
  if (fd < 0) {
    // No user notification (before Linux 5.0): the Unix socket rule cannot hold, and the
    // command does not run without it.
    return std::string("seccomp: ") + std::strerror(errno) +
           (errno == EINVAL ? " (the kernel lacks seccomp user notification: the Unix socket "
                              "rule needs Linux 5.9 or later)"
                            : "");
  }
  listener = static_cast<int>(fd);
  return "";
}

}  // namespace awf::sandbox
