#include "sandbox/route_netlink.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <optional>
#include <utility>

#include "sandbox/netlink_messages.h"

namespace awf::sandbox {
namespace {

// A request: header, the fixed part (ifinfomsg, rtmsg), then rtattr attributes.
class Request {
 public:
  Request(std::uint16_t type, std::uint16_t flags, std::uint32_t sequence, const void* fixed,
          std::size_t fixed_size) {
    nlmsghdr header{};
    header.nlmsg_type = type;
    header.nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | flags);
    header.nlmsg_seq = sequence;
    append(&header, sizeof header);
    append(fixed, fixed_size);
  }

  void put_u32(std::uint16_t type, std::uint32_t value) {
    rtattr attribute{};
    attribute.rta_type = type;
    attribute.rta_len = static_cast<unsigned short>(RTA_LENGTH(sizeof value));
    append(&attribute, sizeof attribute);
    append(&value, sizeof value);
  }

  std::vector<std::uint8_t> finish() {
    const auto length = static_cast<std::uint32_t>(bytes_.size());
    std::memcpy(bytes_.data() + offsetof(nlmsghdr, nlmsg_len), &length, sizeof length);
    return std::move(bytes_);
  }

 private:
  // Every part starts 4-byte aligned (NLMSG_ALIGN, RTA_ALIGN), zero-padded.
  void append(const void* data, std::size_t size) {
    const std::size_t at = bytes_.size();
    bytes_.resize(at + NLMSG_ALIGN(size));
    std::memcpy(bytes_.data() + at, data, size);
  }

  std::vector<std::uint8_t> bytes_;
};

// The local route a RTM_NEWROUTE message describes, if it is one; `bad` when malformed.
std::optional<LocalRoute> local_route(const NetlinkMessage& message, bool& bad) {
  rtmsg route;
  if (message.payload.size() < sizeof route) {
    bad = true;
    return std::nullopt;
  }
  std::memcpy(&route, message.payload.data(), sizeof route);
  if (route.rtm_type != RTN_LOCAL) return std::nullopt;
  if (route.rtm_family != AF_INET && route.rtm_family != AF_INET6) return std::nullopt;
  LocalRoute local;
  local.ipv6 = route.rtm_family == AF_INET6;
  local.length = route.rtm_dst_len;
  const std::size_t address_size = local.ipv6 ? 16 : 4;
  if (local.length > address_size * 8) {
    bad = true;
    return std::nullopt;
  }
  const std::span<const std::uint8_t> attributes = message.payload.subspan(
      std::min<std::size_t>(NLMSG_ALIGN(sizeof route), message.payload.size()));
  const bool whole = for_each_netlink_attribute(
      attributes, [&](unsigned short type, std::span<const std::uint8_t> data) {
        if (type != RTA_DST) return true;  // absent: the default route, 0/0
        if (data.size() < address_size) {
          bad = true;
          return false;
        }
        std::memcpy(local.prefix.data(), data.data(), address_size);
        return true;
      });
  if (!whole || bad) {
    bad = true;
    return std::nullopt;
  }
  return local;
}

}  // namespace

std::vector<std::uint8_t> link_up_request(int index, std::uint32_t sequence) {
  ifinfomsg link{};
  link.ifi_family = AF_UNSPEC;
  link.ifi_index = index;
  link.ifi_flags = IFF_UP;
  link.ifi_change = IFF_UP;
  return Request(RTM_NEWLINK, NLM_F_ACK, sequence, &link, sizeof link).finish();
}

std::vector<std::uint8_t> local_default_route_request(unsigned char family, int index,
                                                      std::uint32_t sequence) {
  rtmsg route{};
  route.rtm_family = family;
  route.rtm_dst_len = 0;  // default: every destination
  route.rtm_table = RT_TABLE_LOCAL;
  route.rtm_protocol = RTPROT_BOOT;
  route.rtm_scope = RT_SCOPE_HOST;
  route.rtm_type = RTN_LOCAL;
  Request request(RTM_NEWROUTE, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, sequence, &route,
                  sizeof route);
  request.put_u32(RTA_TABLE, RT_TABLE_LOCAL);
  request.put_u32(RTA_OIF, static_cast<std::uint32_t>(index));
  return request.finish();
}

std::vector<std::uint8_t> local_routes_request(std::uint32_t sequence) {
  rtmsg route{};
  route.rtm_family = AF_UNSPEC;
  route.rtm_table = RT_TABLE_LOCAL;
  return Request(RTM_GETROUTE, NLM_F_DUMP, sequence, &route, sizeof route).finish();
}

Acknowledgement parse_acknowledgement(std::span<const std::uint8_t> datagram,
                                      std::uint32_t sequence) {
  Acknowledgement answer;
  const bool whole =
      for_each_netlink_message(datagram, sequence, [&](const NetlinkMessage& message) {
        if (message.header.nlmsg_type != NLMSG_ERROR) return true;
        const std::optional<int> error = netlink_error(message);
        if (!error) {
          answer.status = Acknowledgement::Status::Malformed;
        } else if (*error == 0) {
          answer.status = Acknowledgement::Status::Ack;
        } else {
          answer.status = Acknowledgement::Status::Error;
          answer.error = *error;
        }
        return false;
      });
  if (!whole) return {Acknowledgement::Status::Malformed};
  return answer;
}

LocalRoutesPart parse_local_routes(std::span<const std::uint8_t> datagram, std::uint32_t sequence) {
  LocalRoutesPart part;
  const bool whole =
      for_each_netlink_message(datagram, sequence, [&](const NetlinkMessage& message) {
        if (message.header.nlmsg_type == NLMSG_DONE) {
          part.status = LocalRoutesPart::Status::Done;
          return false;
        }
        if (message.header.nlmsg_type == NLMSG_ERROR) {
          const std::optional<int> error = netlink_error(message);
          if (error && *error == 0) return true;
          part.status = error ? LocalRoutesPart::Status::Error : LocalRoutesPart::Status::Malformed;
          part.error = error.value_or(0);
          return false;
        }
        if (message.header.nlmsg_type != RTM_NEWROUTE) return true;
        bool bad = false;
        const std::optional<LocalRoute> route = local_route(message, bad);
        if (bad) {
          part.status = LocalRoutesPart::Status::Malformed;
          return false;
        }
        if (route) part.routes.push_back(*route);
        return true;
      });
  if (!whole || part.status == LocalRoutesPart::Status::Malformed) {
    return {LocalRoutesPart::Status::Malformed};
  }
  return part;
}

}  // namespace awf::sandbox
