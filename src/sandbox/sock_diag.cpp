#include "sandbox/sock_diag.h"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "sandbox/netlink_messages.h"

namespace awf::sandbox {
namespace {

std::uint16_t network_port(std::uint16_t port) {
  return static_cast<std::uint16_t>((port >> 8) | (port << 8));  // htons, without I/O headers
}

}  // namespace

std::vector<std::uint8_t> inet_diag_request(const SocketTuple& tuple, std::uint32_t sequence) {
  struct {
    nlmsghdr header;
    inet_diag_req_v2 request;
  } message{};
  message.header.nlmsg_len = sizeof message;
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST;
  message.header.nlmsg_seq = sequence;
  inet_diag_req_v2& request = message.request;
  request.sdiag_family = tuple.ipv6 ? AF_INET6 : AF_INET;
  request.sdiag_protocol = tuple.udp ? IPPROTO_UDP : IPPROTO_TCP;
  request.idiag_states = ~0u;
  request.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  request.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  // TCP looks the socket up by its own (source) address first; UDP, "for historical
  // reasons" (net/ipv4/udp_diag.c), takes the socket's own address as the destination.
  const bool own_is_source = !tuple.udp;
  const auto& own_address = tuple.client_address;
  const auto& peer_address = tuple.server_address;
  std::memcpy(own_is_source ? request.id.idiag_src : request.id.idiag_dst, own_address.data(), 16);
  std::memcpy(own_is_source ? request.id.idiag_dst : request.id.idiag_src, peer_address.data(), 16);
  (own_is_source ? request.id.idiag_sport : request.id.idiag_dport) =
      network_port(tuple.client_port);
  (own_is_source ? request.id.idiag_dport : request.id.idiag_sport) =
      network_port(tuple.server_port);
  std::vector<std::uint8_t> bytes(sizeof message);
  std::memcpy(bytes.data(), &message, sizeof message);
  return bytes;
}

DiagReply parse_inet_diag_reply(std::span<const std::uint8_t> datagram, std::uint32_t sequence) {
  DiagReply reply{DiagReply::Status::Other};
  const auto visit = [&reply](const NetlinkMessage& message) {
    const std::uint16_t type = message.header.nlmsg_type;
    const std::span<const std::uint8_t> payload = message.payload;
    if (type == NLMSG_ERROR) {
      const std::optional<int> error = netlink_error(message);
      if (error == 0) return true;  // an acknowledgement, not an answer
      reply = {error ? DiagReply::Status::Error : DiagReply::Status::Malformed};
      reply.error = error.value_or(0);
      return false;
    }
    if (type == SOCK_DIAG_BY_FAMILY) {
      inet_diag_msg message;
      if (payload.size() < sizeof message) {
        reply = {DiagReply::Status::Malformed};
        return false;
      }
      std::memcpy(&message, payload.data(), sizeof message);
      reply = {DiagReply::Status::Found};
      reply.inode = message.idiag_inode;
      return false;
    }
    if (type == NLMSG_DONE) {
      reply = {DiagReply::Status::Error};
      reply.error = ENOENT;  // the kernel found nothing
      return false;
    }
    return true;
  };
  if (!for_each_netlink_message(datagram, sequence, visit)) return {DiagReply::Status::Malformed};
  return reply;
}

std::vector<std::uint8_t> unix_diag_request(std::uint32_t sequence) {
  struct {
    nlmsghdr header;
    unix_diag_req request;
  } message{};
  message.header.nlmsg_len = sizeof message;
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  message.header.nlmsg_seq = sequence;
  message.request.sdiag_family = AF_UNIX;
  message.request.udiag_states = ~0u;
  message.request.udiag_show = UDIAG_SHOW_VFS;
  std::vector<std::uint8_t> bytes(sizeof message);
  std::memcpy(bytes.data(), &message, sizeof message);
  return bytes;
}

UnixBinding binding_of(std::uint64_t st_ino, unsigned major, unsigned minor) {
  return {static_cast<std::uint32_t>(st_ino), (major << 20) | (minor & 0xfffff)};
}

namespace {

// The UNIX_DIAG_VFS attribute among those after a unix_diag_msg; nullopt when there is none
// (an unbound or abstract socket), Malformed through `bad`.
std::optional<UnixBinding> vfs_attribute(std::span<const std::uint8_t> attributes, bool& bad) {
  std::optional<UnixBinding> binding;
  const bool whole = for_each_netlink_attribute(
      attributes, [&](unsigned short type, std::span<const std::uint8_t> data) {
        if (type != UNIX_DIAG_VFS) return true;
        unix_diag_vfs vfs;
        if (data.size() < sizeof vfs) {
          bad = true;
          return false;
        }
        std::memcpy(&vfs, data.data(), sizeof vfs);
        binding = UnixBinding{vfs.udiag_vfs_ino, vfs.udiag_vfs_dev};
        return false;
      });
  if (!whole) bad = true;
  return bad ? std::nullopt : binding;
}

}  // namespace

UnixDiagPart parse_unix_diag_dump(std::span<const std::uint8_t> datagram, std::uint32_t sequence) {
  UnixDiagPart part;
  const auto visit = [&part](const NetlinkMessage& message) {
    const std::uint16_t type = message.header.nlmsg_type;
    const std::span<const std::uint8_t> payload = message.payload;
    if (type == NLMSG_DONE) {
      part.status = UnixDiagPart::Status::Done;
      return false;
    }
    if (type == NLMSG_ERROR) {
      const std::optional<int> error = netlink_error(message);
      if (error == 0) return true;
      if (!error) {
        part = {UnixDiagPart::Status::Malformed};
        return false;
      }
      part.status = UnixDiagPart::Status::Error;
      part.error = *error;
      return false;
    }
    if (type != SOCK_DIAG_BY_FAMILY) return true;
    if (payload.size() < sizeof(unix_diag_msg)) {
      part = {UnixDiagPart::Status::Malformed};
      return false;
    }
    bool bad = false;
    const std::size_t attributes =
        std::min<std::size_t>(NLMSG_ALIGN(sizeof(unix_diag_msg)), payload.size());
    const std::optional<UnixBinding> binding = vfs_attribute(payload.subspan(attributes), bad);
    if (bad) {
      part = {UnixDiagPart::Status::Malformed};
      return false;
    }
    if (binding) part.bound.push_back(*binding);
    return true;
  };
  if (!for_each_netlink_message(datagram, sequence, visit))
    return {UnixDiagPart::Status::Malformed};
  return part;
}

std::optional<std::uint64_t> parse_socket_link(std::string_view link) {
  constexpr std::string_view kPrefix = "socket:[";
  if (!link.starts_with(kPrefix) || !link.ends_with(']')) return std::nullopt;
  const std::string_view digits = link.substr(kPrefix.size(), link.size() - kPrefix.size() - 1);
  if (digits.empty() || digits.size() > 19) return std::nullopt;
  std::uint64_t value = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return value;
}

std::optional<int> parse_decimal(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  int value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::vector<int> parse_pid_list(std::string_view text) {
  std::vector<int> pids;
  while (!text.empty()) {
    const std::size_t start = text.find_first_not_of(" \n");
    if (start == std::string_view::npos) break;
    text.remove_prefix(start);
    const std::size_t end = std::min(text.find_first_of(" \n"), text.size());
    const std::optional<int> pid = parse_decimal(text.substr(0, end));
    if (!pid || *pid <= 0) break;
    pids.push_back(*pid);
    text.remove_prefix(end);
  }
  return pids;
}

}  // namespace awf::sandbox
