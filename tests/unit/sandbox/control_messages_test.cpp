#include "sandbox/control_messages.h"

#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace awf::sandbox {
namespace {

// Appends one control message as a program's CMSG_* macros would lay it out.
void add(std::vector<std::uint8_t>& buffer, int level, int type, std::size_t data_size,
         std::size_t length_override = 0) {
  const std::size_t start = buffer.size();
  buffer.resize(start + CMSG_SPACE(data_size));
  cmsghdr header{};
  header.cmsg_len = length_override != 0 ? length_override : CMSG_LEN(data_size);
  header.cmsg_level = level;
  header.cmsg_type = type;
  std::memcpy(buffer.data() + start, &header, sizeof header);
}

TEST(WalkControl, EmptyBufferHasNoMessages) {
  const ControlWalk walk = walk_control({});
  EXPECT_EQ(walk.error, 0);
  EXPECT_TRUE(walk.entries.empty());
}

TEST(WalkControl, FindsDescriptorsAndTheirData) {
  std::vector<std::uint8_t> buffer;
  add(buffer, SOL_SOCKET, SCM_RIGHTS, 3 * sizeof(int));
  const ControlWalk walk = walk_control(buffer);
  ASSERT_EQ(walk.error, 0);
  ASSERT_EQ(walk.entries.size(), 1u);
  EXPECT_TRUE(carries_descriptors(walk.entries[0]));
  EXPECT_EQ(walk.entries[0].data_offset, CMSG_LEN(0));
  EXPECT_EQ(walk.entries[0].data_size, 3 * sizeof(int));
}

TEST(WalkControl, WalksSeveralAlignedMessages) {
  std::vector<std::uint8_t> buffer;
  add(buffer, SOL_SOCKET, SCM_RIGHTS, sizeof(int));  // 20 bytes, padded to 24
  add(buffer, IPPROTO_IP, IP_TTL, sizeof(int));
  add(buffer, IPPROTO_IPV6, IPV6_PKTINFO, sizeof(in6_pktinfo));
  const ControlWalk walk = walk_control(buffer);
  ASSERT_EQ(walk.error, 0);
  ASSERT_EQ(walk.entries.size(), 3u);
  EXPECT_EQ(walk.entries[1].level, IPPROTO_IP);
  EXPECT_EQ(walk.entries[1].data_offset, CMSG_SPACE(sizeof(int)) + CMSG_LEN(0));
  EXPECT_FALSE(carries_descriptors(walk.entries[2]));
}

TEST(WalkControl, TrailingBytesShorterThanAHeaderAreIgnored) {
  std::vector<std::uint8_t> buffer;
  add(buffer, IPPROTO_IP, IP_TOS, 1);
  buffer.resize(buffer.size() + 8, 0xff);
  const ControlWalk walk = walk_control(buffer);
  EXPECT_EQ(walk.error, 0);
  EXPECT_EQ(walk.entries.size(), 1u);
}

TEST(WalkControl, LengthBeyondTheBufferIsInvalid) {
  std::vector<std::uint8_t> buffer;
  add(buffer, SOL_SOCKET, SCM_RIGHTS, sizeof(int), 4096);
  EXPECT_EQ(walk_control(buffer).error, EINVAL);
}

TEST(WalkControl, LengthShorterThanAHeaderIsInvalid) {
  std::vector<std::uint8_t> buffer;
  add(buffer, SOL_SOCKET, SCM_RIGHTS, sizeof(int), 8);
  EXPECT_EQ(walk_control(buffer).error, EINVAL);
}

// Each of these is checked against the sender's privilege in the kernel: awf's would pass.
TEST(WalkControl, MessagesThatNeedPrivilegeAreRefused) {
  const std::pair<int, int> privileged[] = {{SOL_SOCKET, SCM_CREDENTIALS},
                                            {SOL_SOCKET, SO_MARK},
                                            {SOL_SOCKET, SO_PRIORITY},
                                            {IPPROTO_IP, IP_RETOPTS},
                                            {IPPROTO_IPV6, IPV6_HOPOPTS},
                                            {IPPROTO_IPV6, IPV6_RTHDR},
                                            {IPPROTO_TCP, 1}};
  for (const auto& [level, type] : privileged) {
    std::vector<std::uint8_t> buffer;
    add(buffer, IPPROTO_IP, IP_TTL, sizeof(int));
    add(buffer, level, type, 12);
    const ControlWalk walk = walk_control(buffer);
    EXPECT_EQ(walk.error, EPERM) << level << "/" << type;
    EXPECT_EQ(walk.entries.size(), 1u);
  }
}

std::vector<std::uint8_t> netlink_name(std::uint32_t port, std::uint32_t groups) {
  sockaddr_nl address{};
  address.nl_family = AF_NETLINK;
  address.nl_pid = port;
  address.nl_groups = groups;
  std::vector<std::uint8_t> bytes(sizeof address);
  std::memcpy(bytes.data(), &address, sizeof address);
  return bytes;
}

TEST(NetlinkNames, TheKernelIsNoPeer) {
  EXPECT_TRUE(is_netlink_address(netlink_name(0, 0)));
  EXPECT_FALSE(names_a_netlink_peer(netlink_name(0, 0)));
}

TEST(NetlinkNames, AnotherPortOrAGroupIsAPeer) {
  EXPECT_TRUE(names_a_netlink_peer(netlink_name(4242, 0)));
  EXPECT_TRUE(names_a_netlink_peer(netlink_name(0, 1)));
}

TEST(NetlinkNames, ShortOrOtherFamiliesAreNotNetlinkAddresses) {
  std::vector<std::uint8_t> name = netlink_name(4242, 0);
  name.pop_back();
  EXPECT_FALSE(is_netlink_address(name));
  EXPECT_FALSE(names_a_netlink_peer(name));
  name = netlink_name(4242, 0);
  name[0] = AF_UNIX;
  EXPECT_FALSE(is_netlink_address(name));
}

}  // namespace
}  // namespace awf::sandbox
