#include "proxy/loopback_watch.h"

#include <sys/socket.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdint>
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

}  // namespace

struct LoopbackWatch::Impl : std::enable_shared_from_this<Impl> {
  asio::io_context& io;
  audit::LogWriter& log;
  std::optional<asio::posix::stream_descriptor> socket;
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

  asio::awaitable<void> read_loop() {
    std::uint8_t packet[512];
    for (;;) {
      const auto [ec] = co_await socket->async_wait(asio::posix::stream_descriptor::wait_read,
                                                    asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      for (;;) {
        const ssize_t n = recv(socket->native_handle(), packet, sizeof packet, MSG_DONTWAIT);
        if (n <= 0) break;
        if (auto attempt = inspect_loopback_packet({packet, static_cast<std::size_t>(n)})) {
          note(*attempt);
        }
      }
    }
  }
};

LoopbackWatch::LoopbackWatch(asio::io_context& io, audit::LogWriter& log)
    : impl_(std::make_shared<Impl>(io, log)) {}

LoopbackWatch::~LoopbackWatch() = default;

void LoopbackWatch::serve(UniqueFd packet_socket) {
  impl_->socket.emplace(impl_->io, packet_socket.release());
  asio::co_spawn(
      impl_->io, [self = impl_]() -> asio::awaitable<void> { co_await self->read_loop(); },
      asio::detached);
}

void LoopbackWatch::stop() {
  if (!impl_->socket) return;
  // Attempts made right before the command ended are still queued: record them first.
  std::uint8_t packet[512];
  for (;;) {
    const ssize_t n = recv(impl_->socket->native_handle(), packet, sizeof packet, MSG_DONTWAIT);
    if (n <= 0) break;
    if (auto attempt = inspect_loopback_packet({packet, static_cast<std::size_t>(n)})) {
      impl_->note(*attempt);
    }
  }
  boost::system::error_code ignored;
  impl_->socket->close(ignored);
}

}  // namespace awf::proxy
