// The walk over the messages of one netlink datagram and over their attributes, shared by awf's
// netlink readers (sock_diag.cpp, route_netlink.cpp): each length checked against the datagram,
// answers to other requests (stale sequence numbers) skipped. Pure; the bytes come from the kernel,
// but a reader must not trust them further than it checked them.
#pragma once

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

namespace awf::sandbox {

// One message of a datagram: its header and payload.
struct NetlinkMessage {
  nlmsghdr header;
  std::span<const std::uint8_t> payload;
};

// Calls `each(message)` for the messages of `datagram` that answer request `sequence`, until
// it returns false. False when a message's length does not fit the datagram.
template <typename Each>
bool for_each_netlink_message(std::span<const std::uint8_t> datagram, std::uint32_t sequence,
                              Each each) {
  std::size_t offset = 0;
  while (offset < datagram.size() && datagram.size() - offset >= sizeof(nlmsghdr)) {
    NetlinkMessage message;
    std::memcpy(&message.header, datagram.data() + offset, sizeof message.header);
    const std::uint32_t length = message.header.nlmsg_len;
    if (length < sizeof(nlmsghdr) || length > datagram.size() - offset) return false;
    message.payload = datagram.subspan(offset + sizeof(nlmsghdr), length - sizeof(nlmsghdr));
    offset += std::min<std::size_t>(NLMSG_ALIGN(length), datagram.size() - offset);
    if (message.header.nlmsg_seq != sequence) continue;
    if (!each(message)) break;
  }
  return true;
}

// Calls `each(type, data)` for the attributes (rtattr framing) in `attributes`, `data` being
// an attribute's value, until it returns false. False when an attribute's length does not fit.
template <typename Each>
bool for_each_netlink_attribute(std::span<const std::uint8_t> attributes, Each each) {
  while (attributes.size() >= sizeof(rtattr)) {
    rtattr attribute;
    std::memcpy(&attribute, attributes.data(), sizeof attribute);
    if (attribute.rta_len < sizeof attribute || attribute.rta_len > attributes.size()) {
      return false;
    }
    const std::span<const std::uint8_t> data =
        attributes.subspan(RTA_LENGTH(0), attribute.rta_len - RTA_LENGTH(0));
    if (!each(attribute.rta_type, data)) break;
    attributes =
        attributes.subspan(std::min<std::size_t>(RTA_ALIGN(attribute.rta_len), attributes.size()));
  }
  return true;
}

// The errno of an NLMSG_ERROR message (positive; 0: an acknowledgement); nullopt when
// malformed. The kernel sends -errno: anything outside errno's range (MAX_ERRNO; INT_MIN
// cannot even be negated) is not a kernel answer.
inline std::optional<int> netlink_error(const NetlinkMessage& message) {
  constexpr std::int32_t kMaxErrno = 4095;
  std::int32_t error = 0;
  if (message.payload.size() < sizeof error) return std::nullopt;
  std::memcpy(&error, message.payload.data(), sizeof error);
  if (error < -kMaxErrno || error > kMaxErrno) return std::nullopt;
  return error < 0 ? -error : error;
}

}  // namespace awf::sandbox
