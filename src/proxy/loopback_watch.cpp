#include "proxy/loopback_watch.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdint>
#include <cstring>
#include <vector>
#include <optional>

#include "proxy/loopback_packet.h"

namespace asio = boost::asio;

namespace awf::proxy {
namespace {

// A port scan must not flood the record: past this many, one line says the rest is omitted.
constexpr std::size_t kMaxRecords = 10000;

std::string port_of(const std::string& endpoint) {
  const std::size_t colon = endpoint.rfind(':');
  return colon == std::string::npos ? "" : endpoint.substr(colon + 1);
}

std::string host_of(const std::string& endpoint, bool has_port) {
  std::string host = has_port ? endpoint.substr(0, endpoint.rfind(':')) : endpoint;
  if (host.size() > 1 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return host;
}

audit::AuditRecord record_for(const BlockedAttempt& attempt) {
  audit::AuditRecord record;
  record.time_ms = audit::now_ms();
  record.kind = "blocked";
  record.transport = attempt.protocol;
  record.client = attempt.source;
  record.decision = "deny";
  const bool has_port = attempt.protocol != "icmp";
  record.name = host_of(attempt.destination, has_port);
  record.url = attempt.destination;
  if (attempt.protocol == "tcp") {
    record.reason = "TCP to port " + port_of(attempt.destination) +
                    " goes nowhere: only ports 80 and 443 reach the gateway";
  } else if (attempt.protocol == "udp") {
    record.reason = "UDP to port " + port_of(attempt.destination) +
                    " goes nowhere: only DNS (port 53) is answered";
  } else {
    record.reason = "ICMP echo is answered inside the sandbox only";
  }
  return record;
}

// One raw socket of the sandbox, and how to turn what it receives into the IP packet the
// packet reader expects.
struct TraceSocket {
  asio::posix::stream_descriptor descriptor;
  bool v6 = false;
  std::uint8_t protocol = 0;
};

// Reads one packet; returns its length (0: nothing more). IPv6 raw sockets deliver only the
// transport part, so the IPv6 header is rebuilt from the addresses the kernel reports.
std::size_t read_packet(TraceSocket& trace, std::uint8_t (&packet)[600]) {
  const int fd = trace.descriptor.native_handle();
  if (!trace.v6) {
    const ssize_t n = recv(fd, packet, sizeof packet, MSG_DONTWAIT);
    return n > 0 ? static_cast<std::size_t>(n) : 0;
  }
  constexpr std::size_t kHeader = 40;
  sockaddr_in6 source{};
  iovec iov{packet + kHeader, sizeof packet - kHeader};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in6_pktinfo))];
  msghdr msg{};
  msg.msg_name = &source;
  msg.msg_namelen = sizeof source;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
  if (n <= 0) return 0;
  in6_addr destination{};
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    if (cmsg->cmsg_level == IPPROTO_IPV6 && cmsg->cmsg_type == IPV6_PKTINFO) {
      in6_pktinfo info{};
      std::memcpy(&info, CMSG_DATA(cmsg), sizeof info);
      destination = info.ipi6_addr;
    }
  }
  std::memset(packet, 0, kHeader);
  packet[0] = 0x60;
  packet[4] = static_cast<std::uint8_t>(n >> 8);
  packet[5] = static_cast<std::uint8_t>(n & 0xff);
  packet[6] = trace.protocol;
  packet[7] = 64;
  std::memcpy(packet + 8, &source.sin6_addr, 16);
  std::memcpy(packet + 24, &destination, 16);
  return kHeader + static_cast<std::size_t>(n);
}

}  // namespace

struct LoopbackWatch::Impl : std::enable_shared_from_this<Impl> {
  asio::io_context& io;
  audit::LogWriter& log;
  std::vector<std::unique_ptr<TraceSocket>> sockets;
  std::size_t records = 0;

  Impl(asio::io_context& context, audit::LogWriter& writer) : io(context), log(writer) {}

  void note(const BlockedAttempt& attempt) {
    if (records < kMaxRecords) {
      log.write_audit(record_for(attempt));
    } else if (records == kMaxRecords) {
      audit::AuditRecord record;
      record.time_ms = audit::now_ms();
      record.kind = "blocked";
      record.decision = "deny";
      record.reason = "more blocked attempts than " + std::to_string(kMaxRecords) +
                      ": the rest are not recorded";
      log.write_audit(record);
    }
    ++records;
  }

  void drain(TraceSocket& trace) {
    std::uint8_t packet[600];
    while (const std::size_t n = read_packet(trace, packet)) {
      if (auto attempt = inspect_loopback_packet({packet, n})) note(*attempt);
    }
  }

  asio::awaitable<void> read_loop(TraceSocket& trace) {
    for (;;) {
      const auto [ec] = co_await trace.descriptor.async_wait(
          asio::posix::stream_descriptor::wait_read, asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      drain(trace);
    }
  }
};

LoopbackWatch::LoopbackWatch(asio::io_context& io, audit::LogWriter& log)
    : impl_(std::make_shared<Impl>(io, log)) {}

LoopbackWatch::~LoopbackWatch() = default;

void LoopbackWatch::serve(UniqueFd raw_socket) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  getsockname(raw_socket.get(), reinterpret_cast<sockaddr*>(&address), &length);
  int protocol = 0;
  socklen_t protocol_length = sizeof protocol;
  getsockopt(raw_socket.get(), SOL_SOCKET, SO_PROTOCOL, &protocol, &protocol_length);
  auto trace = std::make_unique<TraceSocket>(TraceSocket{
      asio::posix::stream_descriptor(impl_->io, raw_socket.release()),
      address.ss_family == AF_INET6, static_cast<std::uint8_t>(protocol)});
  TraceSocket& ref = *trace;
  impl_->sockets.push_back(std::move(trace));
  asio::co_spawn(
      impl_->io,
      [self = impl_, &ref]() -> asio::awaitable<void> { co_await self->read_loop(ref); },
      asio::detached);
}

void LoopbackWatch::stop() {
  for (auto& trace : impl_->sockets) {
    // Attempts made right before the command ended are still queued: record them first.
    impl_->drain(*trace);
    boost::system::error_code ignored;
    trace->descriptor.close(ignored);
  }
}

}  // namespace awf::proxy
