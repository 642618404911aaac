// The rtnetlink requests of the sandbox's network setup and the readers of the kernel's answers.
#include "sandbox/route_netlink.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace awf::sandbox {
namespace {

nlmsghdr header_of(const std::vector<std::uint8_t>& bytes) {
  nlmsghdr header{};
  std::memcpy(&header, bytes.data(), sizeof header);
  return header;
}

// An RTM_NEWROUTE message of `type`, with RTA_DST `destination` unless it is empty.
void append_route(std::vector<std::uint8_t>& out, std::uint32_t sequence, unsigned char family,
                  unsigned char type, const std::vector<std::uint8_t>& destination,
                  unsigned char length) {
  const std::size_t attribute = destination.empty() ? 0 : RTA_SPACE(destination.size());
  nlmsghdr header{};
  header.nlmsg_len = static_cast<std::uint32_t>(NLMSG_LENGTH(sizeof(rtmsg)) + attribute);
  header.nlmsg_type = RTM_NEWROUTE;
  header.nlmsg_flags = NLM_F_MULTI;
  header.nlmsg_seq = sequence;
  const std::size_t start = out.size();
  out.resize(start + NLMSG_ALIGN(header.nlmsg_len));
  std::memcpy(out.data() + start, &header, sizeof header);
  rtmsg route{};
  route.rtm_family = family;
  route.rtm_type = type;
  route.rtm_dst_len = length;
  route.rtm_table = RT_TABLE_LOCAL;
  std::memcpy(out.data() + start + NLMSG_LENGTH(0), &route, sizeof route);
  if (destination.empty()) return;
  rtattr rta{};
  rta.rta_len = static_cast<unsigned short>(RTA_LENGTH(destination.size()));
  rta.rta_type = RTA_DST;
  const std::size_t at = start + NLMSG_LENGTH(sizeof(rtmsg));
  std::memcpy(out.data() + at, &rta, sizeof rta);
  std::memcpy(out.data() + at + RTA_LENGTH(0), destination.data(), destination.size());
}

void append_control(std::vector<std::uint8_t>& out, std::uint32_t sequence, int type, int error) {
  nlmsghdr header{};
  header.nlmsg_len = NLMSG_LENGTH(sizeof(int));
  header.nlmsg_type = static_cast<std::uint16_t>(type);
  header.nlmsg_seq = sequence;
  const std::size_t start = out.size();
  out.resize(start + NLMSG_ALIGN(header.nlmsg_len));
  std::memcpy(out.data() + start, &header, sizeof header);
  std::memcpy(out.data() + start + NLMSG_LENGTH(0), &error, sizeof error);
}

TEST(RouteNetlinkRequest, LinkUpAsksForAnAcknowledgement) {
  const std::vector<std::uint8_t> bytes = link_up_request(1, 7);
  ASSERT_EQ(bytes.size(), NLMSG_SPACE(sizeof(ifinfomsg)));
  const nlmsghdr header = header_of(bytes);
  EXPECT_EQ(header.nlmsg_len, bytes.size());
  EXPECT_EQ(header.nlmsg_type, RTM_NEWLINK);
  EXPECT_EQ(header.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK);
  EXPECT_EQ(header.nlmsg_seq, 7u);
  ifinfomsg link{};
  std::memcpy(&link, bytes.data() + NLMSG_LENGTH(0), sizeof link);
  EXPECT_EQ(link.ifi_index, 1);
  EXPECT_EQ(link.ifi_flags, IFF_UP);
  EXPECT_EQ(link.ifi_change, static_cast<unsigned>(IFF_UP));
}

TEST(RouteNetlinkRequest, LocalDefaultRouteNamesTableAndDevice) {
  const std::vector<std::uint8_t> bytes = local_default_route_request(AF_INET6, 3, 8);
  ASSERT_EQ(bytes.size(), NLMSG_SPACE(sizeof(rtmsg)) + 2 * RTA_SPACE(sizeof(std::uint32_t)));
  const nlmsghdr header = header_of(bytes);
  EXPECT_EQ(header.nlmsg_len, bytes.size());
  EXPECT_EQ(header.nlmsg_type, RTM_NEWROUTE);
  EXPECT_EQ(header.nlmsg_flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  rtmsg route{};
  std::memcpy(&route, bytes.data() + NLMSG_LENGTH(0), sizeof route);
  EXPECT_EQ(route.rtm_family, AF_INET6);
  EXPECT_EQ(route.rtm_dst_len, 0);
  EXPECT_EQ(route.rtm_type, RTN_LOCAL);
  EXPECT_EQ(route.rtm_scope, RT_SCOPE_HOST);
  std::size_t at = NLMSG_SPACE(sizeof(rtmsg));
  for (const auto& [type, value] : {std::pair{RTA_TABLE, 255u}, std::pair{RTA_OIF, 3u}}) {
    rtattr rta{};
    std::memcpy(&rta, bytes.data() + at, sizeof rta);
    EXPECT_EQ(rta.rta_type, type);
    EXPECT_EQ(rta.rta_len, RTA_LENGTH(sizeof(std::uint32_t)));
    std::uint32_t got = 0;
    std::memcpy(&got, bytes.data() + at + RTA_LENGTH(0), sizeof got);
    EXPECT_EQ(got, value);
    at += RTA_SPACE(sizeof(std::uint32_t));
  }
}

TEST(RouteNetlinkRequest, DumpsTheLocalTable) {
  const std::vector<std::uint8_t> bytes = local_routes_request(1);
  const nlmsghdr header = header_of(bytes);
  EXPECT_EQ(header.nlmsg_type, RTM_GETROUTE);
  EXPECT_EQ(header.nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
  rtmsg route{};
  std::memcpy(&route, bytes.data() + NLMSG_LENGTH(0), sizeof route);
  EXPECT_EQ(route.rtm_table, RT_TABLE_LOCAL);
}

TEST(RouteNetlinkAcknowledgement, AckErrorAndStaleAnswers) {
  std::vector<std::uint8_t> datagram;
  append_control(datagram, 4, NLMSG_ERROR, -EPERM);  // an earlier request's answer
  EXPECT_EQ(parse_acknowledgement(datagram, 5).status, Acknowledgement::Status::Other);
  append_control(datagram, 5, NLMSG_ERROR, 0);
  EXPECT_EQ(parse_acknowledgement(datagram, 5).status, Acknowledgement::Status::Ack);
  std::vector<std::uint8_t> refused;
  append_control(refused, 6, NLMSG_ERROR, -EEXIST);
  const Acknowledgement answer = parse_acknowledgement(refused, 6);
  EXPECT_EQ(answer.status, Acknowledgement::Status::Error);
  EXPECT_EQ(answer.error, EEXIST);
}

TEST(RouteNetlinkAcknowledgement, MalformedAnswers) {
  std::vector<std::uint8_t> out_of_range;
  append_control(out_of_range, 1, NLMSG_ERROR, -5000);
  EXPECT_EQ(parse_acknowledgement(out_of_range, 1).status, Acknowledgement::Status::Malformed);
  std::vector<std::uint8_t> too_long;
  append_control(too_long, 1, NLMSG_ERROR, 0);
  too_long[0] = 200;  // nlmsg_len beyond the datagram
  EXPECT_EQ(parse_acknowledgement(too_long, 1).status, Acknowledgement::Status::Malformed);
}

TEST(RouteNetlinkLocalRoutes, KeepsLocalRoutesOnlyUntilDone) {
  std::vector<std::uint8_t> datagram;
  append_route(datagram, 1, AF_INET, RTN_LOCAL, {127, 0, 0, 0}, 8);
  append_route(datagram, 1, AF_INET, RTN_BROADCAST, {127, 255, 255, 255}, 32);
  append_route(datagram, 1, AF_INET6, RTN_LOCAL, {}, 0);  // local default: no RTA_DST
  append_route(datagram, 2, AF_INET, RTN_LOCAL, {10, 0, 0, 1}, 32);  // another dump's
  LocalRoutesPart part = parse_local_routes(datagram, 1);
  EXPECT_EQ(part.status, LocalRoutesPart::Status::More);
  ASSERT_EQ(part.routes.size(), 2u);
  EXPECT_FALSE(part.routes[0].ipv6);
  EXPECT_EQ(part.routes[0].length, 8u);
  EXPECT_EQ(part.routes[0].prefix[0], 127);
  EXPECT_TRUE(part.routes[1].ipv6);
  EXPECT_EQ(part.routes[1].length, 0u);
  EXPECT_EQ(part.routes[1].prefix, (std::array<std::uint8_t, 16>{}));

  std::vector<std::uint8_t> last;
  append_route(last, 1, AF_INET, RTN_LOCAL, {192, 0, 2, 7}, 32);
  append_control(last, 1, NLMSG_DONE, 0);
  part = parse_local_routes(last, 1);
  EXPECT_EQ(part.status, LocalRoutesPart::Status::Done);
  ASSERT_EQ(part.routes.size(), 1u);
  EXPECT_EQ(part.routes[0].prefix[3], 7);
}

TEST(RouteNetlinkLocalRoutes, ErrorsAndMalformedRoutes) {
  std::vector<std::uint8_t> refused;
  append_control(refused, 1, NLMSG_ERROR, -EPERM);
  const LocalRoutesPart part = parse_local_routes(refused, 1);
  EXPECT_EQ(part.status, LocalRoutesPart::Status::Error);
  EXPECT_EQ(part.error, EPERM);

  std::vector<std::uint8_t> short_destination;  // an IPv6 route with a 4-byte RTA_DST
  append_route(short_destination, 1, AF_INET6, RTN_LOCAL, {10, 0, 0, 1}, 128);
  EXPECT_EQ(parse_local_routes(short_destination, 1).status, LocalRoutesPart::Status::Malformed);

  std::vector<std::uint8_t> long_prefix;
  append_route(long_prefix, 1, AF_INET, RTN_LOCAL, {10, 0, 0, 1}, 33);
  EXPECT_EQ(parse_local_routes(long_prefix, 1).status, LocalRoutesPart::Status::Malformed);

  std::vector<std::uint8_t> truncated;
  append_route(truncated, 1, AF_INET, RTN_LOCAL, {10, 0, 0, 1}, 32);
  truncated.resize(truncated.size() - 4);
  EXPECT_EQ(parse_local_routes(truncated, 1).status, LocalRoutesPart::Status::Malformed);
}

}  // namespace
}  // namespace awf::sandbox
