// The ancillary data (control messages) of a sendmsg() the socket supervisor performs for the
// command. awf sends with its own rights, which the command does not have: a root awf's
// capabilities, or, rootless, the owner's rights over the sandbox's user namespace (which no
// dropping of capabilities takes away). So a control message whose kernel handling checks the
// sender's privilege (SO_MARK, SO_PRIORITY above 6, IP options, IPv6 extension headers,
// SCM_CREDENTIALS claiming another process or user) would pass for awf where it fails for the
// command: only messages that need no privilege are sent, and descriptors (SCM_RIGHTS), which
// are numbers in the command's table, are replaced by awf's copies of the same files. Pure:
// the bytes are the command's, copied out of its memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace awf::sandbox {

// One control message: its level and type, and where its data lies in the buffer.
struct ControlEntry {
  int level = 0;
  int type = 0;
  std::size_t data_offset = 0;
  std::size_t data_size = 0;
};

// The control messages in `control` (a msghdr's msg_control, 64-bit layout), walked as the
// kernel does; `error` is EINVAL for a malformed header and EPERM for a message awf does not
// send for the command (then `entries` stops there).
struct ControlWalk {
  int error = 0;
  std::vector<ControlEntry> entries;
};

ControlWalk walk_control(std::span<const std::uint8_t> control);

// SCM_RIGHTS: a list of the command's descriptor numbers.
bool carries_descriptors(const ControlEntry& entry);

// A sockaddr_nl (long enough, AF_NETLINK): what the kernel takes as a netlink address.
bool is_netlink_address(std::span<const std::uint8_t> name);

// A netlink destination other than the kernel: another socket's port, or multicast groups.
// The kernel lets only a caller with CAP_NET_ADMIN over the network namespace connect or send
// there (NETLINK_ROUTE, the one protocol the sandbox may open), and judges by the calling
// thread: a rootless awf owns the sandbox's user namespace, so it is the command that must be
// refused.
bool names_a_netlink_peer(std::span<const std::uint8_t> name);

// The most descriptors one sendmsg() may pass (SCM_MAX_FD).
constexpr std::size_t kMaxPassedDescriptors = 253;

}  // namespace awf::sandbox
