#include "sandbox/sock_diag.h"

#include <gtest/gtest.h>

#include <climits>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>

#include <cstring>
#include <vector>

namespace awf::sandbox {
namespace {

struct Request {
  nlmsghdr header;
  inet_diag_req_v2 request;
};

Request decode(const std::vector<std::uint8_t>& bytes) {
  Request request{};
  EXPECT_EQ(bytes.size(), sizeof request);
  std::memcpy(&request, bytes.data(), std::min(bytes.size(), sizeof request));
  return request;
}

SocketTuple loopback_tuple(bool udp) {
  SocketTuple tuple;
  tuple.udp = udp;
  tuple.client_address = {127, 0, 0, 1};
  tuple.client_port = 40000;
  tuple.server_address = {127, 0, 0, 53};
  tuple.server_port = 53;
  return tuple;
}

TEST(InetDiagRequest, TcpNamesTheClientSocketAsSource) {
  const Request r = decode(inet_diag_request(loopback_tuple(false), 7));
  EXPECT_EQ(r.header.nlmsg_len, sizeof(Request));
  EXPECT_EQ(r.header.nlmsg_type, SOCK_DIAG_BY_FAMILY);
  EXPECT_EQ(r.header.nlmsg_flags, NLM_F_REQUEST);
  EXPECT_EQ(r.header.nlmsg_seq, 7u);
  EXPECT_EQ(r.request.sdiag_family, AF_INET);
  EXPECT_EQ(r.request.sdiag_protocol, IPPROTO_TCP);
  EXPECT_EQ(r.request.idiag_states, ~0u);
  EXPECT_EQ(r.request.id.idiag_sport, htons(40000));
  EXPECT_EQ(r.request.id.idiag_dport, htons(53));
  const std::uint8_t client[4] = {127, 0, 0, 1};
  const std::uint8_t server[4] = {127, 0, 0, 53};
  EXPECT_EQ(std::memcmp(r.request.id.idiag_src, client, 4), 0);
  EXPECT_EQ(std::memcmp(r.request.id.idiag_dst, server, 4), 0);
  EXPECT_EQ(r.request.id.idiag_cookie[0], INET_DIAG_NOCOOKIE);
  EXPECT_EQ(r.request.id.idiag_cookie[1], INET_DIAG_NOCOOKIE);
}

TEST(InetDiagRequest, UdpSwapsSourceAndDestination) {
  const Request r = decode(inet_diag_request(loopback_tuple(true), 8));
  EXPECT_EQ(r.request.sdiag_protocol, IPPROTO_UDP);
  EXPECT_EQ(r.request.id.idiag_dport, htons(40000));
  EXPECT_EQ(r.request.id.idiag_sport, htons(53));
  const std::uint8_t client[4] = {127, 0, 0, 1};
  EXPECT_EQ(std::memcmp(r.request.id.idiag_dst, client, 4), 0);
}

TEST(InetDiagRequest, Ipv6CarriesAllSixteenBytes) {
  SocketTuple tuple = loopback_tuple(false);
  tuple.ipv6 = true;
  tuple.client_address = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  tuple.server_address = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
  const Request r = decode(inet_diag_request(tuple, 1));
  EXPECT_EQ(r.request.sdiag_family, AF_INET6);
  EXPECT_EQ(std::memcmp(r.request.id.idiag_src, tuple.client_address.data(), 16), 0);
  EXPECT_EQ(std::memcmp(r.request.id.idiag_dst, tuple.server_address.data(), 16), 0);
}

void append_message(std::vector<std::uint8_t>& out, std::uint16_t type, std::uint32_t sequence,
                    const void* payload, std::size_t size) {
  nlmsghdr header{};
  header.nlmsg_len = static_cast<std::uint32_t>(sizeof header + size);
  header.nlmsg_type = type;
  header.nlmsg_seq = sequence;
  const std::size_t start = out.size();
  out.resize(start + NLMSG_ALIGN(header.nlmsg_len));
  std::memcpy(out.data() + start, &header, sizeof header);
  std::memcpy(out.data() + start + sizeof header, payload, size);
}

std::vector<std::uint8_t> diag_message(std::uint32_t sequence, std::uint32_t inode) {
  inet_diag_msg message{};
  message.idiag_family = AF_INET;
  message.idiag_inode = inode;
  std::vector<std::uint8_t> out;
  append_message(out, SOCK_DIAG_BY_FAMILY, sequence, &message, sizeof message);
  return out;
}

std::vector<std::uint8_t> error_message(std::uint32_t sequence, int error) {
  nlmsgerr payload{};
  payload.error = error;
  std::vector<std::uint8_t> out;
  append_message(out, NLMSG_ERROR, sequence, &payload, sizeof payload);
  return out;
}

TEST(InetDiagReply, FoundCarriesTheInode) {
  const DiagReply reply = parse_inet_diag_reply(diag_message(5, 123456), 5);
  EXPECT_EQ(reply.status, DiagReply::Status::Found);
  EXPECT_EQ(reply.inode, 123456u);
}

TEST(InetDiagReply, KernelErrorIsAnError) {
  const DiagReply reply = parse_inet_diag_reply(error_message(5, -ENOENT), 5);
  EXPECT_EQ(reply.status, DiagReply::Status::Error);
  EXPECT_EQ(reply.error, ENOENT);
}

// Found by fuzz_sock_diag_reply: INT_MIN as the error code was negated (undefined behaviour).
TEST(InetDiagReply, ErrorCodesOutsideErrnoRangeAreMalformed) {
  EXPECT_EQ(parse_inet_diag_reply(error_message(5, INT_MIN), 5).status,
            DiagReply::Status::Malformed);
  EXPECT_EQ(parse_inet_diag_reply(error_message(5, -4096), 5).status,
            DiagReply::Status::Malformed);
  EXPECT_EQ(parse_inet_diag_reply(error_message(5, -4095), 5).status, DiagReply::Status::Error);
}

TEST(InetDiagReply, AnswersToOtherRequestsAreSkipped) {
  EXPECT_EQ(parse_inet_diag_reply(diag_message(4, 1), 5).status, DiagReply::Status::Other);
  std::vector<std::uint8_t> both = error_message(4, -ENOENT);
  const std::vector<std::uint8_t> mine = diag_message(5, 99);
  both.insert(both.end(), mine.begin(), mine.end());
  const DiagReply reply = parse_inet_diag_reply(both, 5);
  EXPECT_EQ(reply.status, DiagReply::Status::Found);
  EXPECT_EQ(reply.inode, 99u);
}

TEST(InetDiagReply, AcknowledgementIsNotAnAnswer) {
  EXPECT_EQ(parse_inet_diag_reply(error_message(5, 0), 5).status, DiagReply::Status::Other);
}

TEST(InetDiagReply, TruncatedMessagesAreMalformed) {
  std::vector<std::uint8_t> message = diag_message(5, 1);
  message.resize(message.size() - 8);
  EXPECT_EQ(parse_inet_diag_reply(message, 5).status, DiagReply::Status::Malformed);
  // A length that claims less than a whole diag message.
  std::vector<std::uint8_t> short_payload;
  const std::uint8_t few[8] = {};
  append_message(short_payload, SOCK_DIAG_BY_FAMILY, 5, few, sizeof few);
  EXPECT_EQ(parse_inet_diag_reply(short_payload, 5).status, DiagReply::Status::Malformed);
  // A header length below the header size.
  std::vector<std::uint8_t> tiny = diag_message(5, 1);
  tiny[0] = 4;
  tiny[1] = tiny[2] = tiny[3] = 0;
  EXPECT_EQ(parse_inet_diag_reply(tiny, 5).status, DiagReply::Status::Malformed);
  EXPECT_EQ(parse_inet_diag_reply({}, 5).status, DiagReply::Status::Other);
}

TEST(SocketLink, ReadsTheInodeOfSockets) {
  EXPECT_EQ(parse_socket_link("socket:[12345]"), 12345u);
  EXPECT_EQ(parse_socket_link("socket:[0]"), 0u);
  EXPECT_EQ(parse_socket_link("pipe:[12345]"), std::nullopt);
  EXPECT_EQ(parse_socket_link("/dev/null"), std::nullopt);
  EXPECT_EQ(parse_socket_link("socket:[]"), std::nullopt);
  EXPECT_EQ(parse_socket_link("socket:[12a]"), std::nullopt);
  EXPECT_EQ(parse_socket_link("socket:[123"), std::nullopt);
  EXPECT_EQ(parse_socket_link("socket:[99999999999999999999]"), std::nullopt);
}

TEST(PidList, ReadsChildrenFiles) {
  EXPECT_EQ(parse_pid_list("12 13 "), (std::vector<int>{12, 13}));
  EXPECT_EQ(parse_pid_list(""), std::vector<int>{});
  EXPECT_EQ(parse_pid_list("7\n"), std::vector<int>{7});
  EXPECT_EQ(parse_pid_list("5 x 6"), std::vector<int>{5});
  EXPECT_EQ(parse_pid_list("0 4"), std::vector<int>{});
  EXPECT_EQ(parse_pid_list("1234567890 4"), std::vector<int>{});
}

TEST(Decimal, OnlyPlainNumbers) {
  EXPECT_EQ(parse_decimal("42"), 42);
  EXPECT_EQ(parse_decimal(""), std::nullopt);
  EXPECT_EQ(parse_decimal("-1"), std::nullopt);
  EXPECT_EQ(parse_decimal("self"), std::nullopt);
}

}  // namespace
}  // namespace awf::sandbox
