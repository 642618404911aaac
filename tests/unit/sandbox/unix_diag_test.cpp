// The unix_diag dump the socket supervisor reads, and the addresses it decides on.
#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "sandbox/sock_diag.h"
#include "sandbox/unix_address.h"

namespace awf::sandbox {
namespace {

// One SOCK_DIAG_BY_FAMILY message for a socket, bound to (inode, device) when `bound`.
void append_socket(std::vector<std::uint8_t>& out, std::uint32_t sequence, bool bound,
                   std::uint32_t inode = 0, std::uint32_t device = 0) {
  const std::size_t attribute = bound ? RTA_SPACE(sizeof(unix_diag_vfs)) : 0;
  nlmsghdr header{};
  header.nlmsg_len = static_cast<std::uint32_t>(NLMSG_LENGTH(sizeof(unix_diag_msg)) + attribute);
  header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  header.nlmsg_seq = sequence;
  const std::size_t start = out.size();
  out.resize(start + NLMSG_ALIGN(header.nlmsg_len));
  std::memcpy(out.data() + start, &header, sizeof header);
  unix_diag_msg message{};
  message.udiag_family = AF_UNIX;
  std::memcpy(out.data() + start + NLMSG_LENGTH(0), &message, sizeof message);
  if (!bound) return;
  rtattr rta{};
  rta.rta_len = RTA_LENGTH(sizeof(unix_diag_vfs));
  rta.rta_type = UNIX_DIAG_VFS;
  const std::size_t at = start + NLMSG_LENGTH(sizeof(unix_diag_msg));
  std::memcpy(out.data() + at, &rta, sizeof rta);
  const unix_diag_vfs vfs{inode, device};
  std::memcpy(out.data() + at + RTA_LENGTH(0), &vfs, sizeof vfs);
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

TEST(UnixDiagRequest, DumpsEverySocketWithItsFile) {
  const std::vector<std::uint8_t> bytes = unix_diag_request(9);
  struct {
    nlmsghdr header;
    unix_diag_req request;
  } decoded{};
  ASSERT_EQ(bytes.size(), sizeof decoded);
  std::memcpy(&decoded, bytes.data(), sizeof decoded);
  EXPECT_EQ(decoded.header.nlmsg_flags, NLM_F_REQUEST | NLM_F_DUMP);
  EXPECT_EQ(decoded.header.nlmsg_seq, 9u);
  EXPECT_EQ(decoded.request.sdiag_family, AF_UNIX);
  EXPECT_EQ(decoded.request.udiag_states, ~0u);
  EXPECT_EQ(decoded.request.udiag_show, static_cast<std::uint32_t>(UDIAG_SHOW_VFS));
}

TEST(UnixDiagDump, KeepsBoundSocketsOnly) {
  std::vector<std::uint8_t> datagram;
  append_socket(datagram, 3, true, 1234, (8u << 20) | 1);
  append_socket(datagram, 3, false);  // unbound or abstract: no file
  append_socket(datagram, 2, true, 99, 1);  // an earlier dump's answer
  const UnixDiagPart part = parse_unix_diag_dump(datagram, 3);
  EXPECT_EQ(part.status, UnixDiagPart::Status::More);
  ASSERT_EQ(part.bound.size(), 1u);
  EXPECT_EQ(part.bound[0], (UnixBinding{1234, (8u << 20) | 1}));
}

TEST(UnixDiagDump, EndsAtDoneAndReportsErrors) {
  std::vector<std::uint8_t> datagram;
  append_socket(datagram, 4, true, 7, 7);
  append_control(datagram, 4, NLMSG_DONE, 0);
  const UnixDiagPart done = parse_unix_diag_dump(datagram, 4);
  EXPECT_EQ(done.status, UnixDiagPart::Status::Done);
  EXPECT_EQ(done.bound.size(), 1u);

  std::vector<std::uint8_t> refused;
  append_control(refused, 4, NLMSG_ERROR, -EPERM);
  const UnixDiagPart error = parse_unix_diag_dump(refused, 4);
  EXPECT_EQ(error.status, UnixDiagPart::Status::Error);
  EXPECT_EQ(error.error, EPERM);
}

TEST(UnixDiagDump, RejectsTruncatedMessages) {
  std::vector<std::uint8_t> datagram;
  append_socket(datagram, 5, true, 1, 1);
  std::vector<std::uint8_t> cut(datagram.begin(), datagram.end() - 12);
  // The header still claims the full length.
  EXPECT_EQ(parse_unix_diag_dump(cut, 5).status, UnixDiagPart::Status::Malformed);
  // An attribute whose length runs past the message.
  rtattr* rta = reinterpret_cast<rtattr*>(datagram.data() + NLMSG_LENGTH(sizeof(unix_diag_msg)));
  rta->rta_len = 200;
  EXPECT_EQ(parse_unix_diag_dump(datagram, 5).status, UnixDiagPart::Status::Malformed);
}

TEST(UnixBinding, EncodesTheDeviceAsTheKernelDoes) {
  // stat's st_dev of 259:3 (major, minor); unix_diag's s_dev is major << 20 | minor.
  EXPECT_EQ(binding_of(0x100000005ULL, 259, 3), (UnixBinding{5, (259u << 20) | 3}));
}

std::vector<std::uint8_t> address(sa_family_t family, const std::string& name) {
  std::vector<std::uint8_t> bytes(sizeof family + name.size());
  std::memcpy(bytes.data(), &family, sizeof family);
  std::memcpy(bytes.data() + sizeof family, name.data(), name.size());
  return bytes;
}

TEST(UnixAddress, NamesEachKind) {
  EXPECT_EQ(parse_unix_address(address(AF_INET, std::string(14, '\0'))).kind,
            UnixAddress::Kind::Other);
  EXPECT_EQ(parse_unix_address(address(AF_UNIX, "")).kind, UnixAddress::Kind::Unnamed);
  EXPECT_EQ(parse_unix_address(address(AF_UNIX, std::string("\0abstract", 9))).kind,
            UnixAddress::Kind::Abstract);
  const UnixAddress path = parse_unix_address(address(AF_UNIX, "/run/docker.sock"));
  EXPECT_EQ(path.kind, UnixAddress::Kind::Pathname);
  EXPECT_EQ(path.path, "/run/docker.sock");
  EXPECT_EQ(parse_unix_address({}).kind, UnixAddress::Kind::Invalid);
  EXPECT_EQ(parse_unix_address(address(AF_UNIX, std::string(200, 'a'))).kind,
            UnixAddress::Kind::Invalid);
}

TEST(UnixAddress, PathEndsAtTheFirstNulOrTheLength) {
  EXPECT_EQ(parse_unix_address(address(AF_UNIX, std::string("a.sock\0junk", 11))).path, "a.sock");
  // The full 108 bytes without a NUL: the kernel takes all of them.
  EXPECT_EQ(parse_unix_address(address(AF_UNIX, std::string(108, 'b'))).path.size(), 108u);
}

TEST(UnixAddress, JoinsRelativePathsToTheWorkingDirectory) {
  EXPECT_EQ(join_socket_path("/work", "s.sock"), "/work/s.sock");
  EXPECT_EQ(join_socket_path("/", "s.sock"), "/s.sock");
  EXPECT_EQ(join_socket_path("/work", "/abs.sock"), "/abs.sock");
  EXPECT_EQ(join_socket_path("", "s.sock"), "");
  EXPECT_EQ(join_socket_path("(unreachable)/x", "s.sock"), "");
}

}  // namespace
}  // namespace awf::sandbox
