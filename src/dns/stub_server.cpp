#include "dns/stub_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <array>
#include <cstring>
#include <list>
#include <string_view>
#include <unordered_map>

#include "dns/answer_filter.h"
#include "dns/denial.h"
#include "dns/message.h"
#include "dns/upstream_query.h"
#include "policy/credential_scan.h"
#include "policy/host_access.h"

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;

namespace awf::dns {
namespace {

constexpr std::size_t kMaxUdpMessage = 4096;
constexpr std::size_t kMaxPendingForwards = 512;
constexpr std::uint16_t kTypeAxfr = 252;
constexpr std::uint16_t kTypeIxfr = 251;
constexpr auto kTcpIdle = std::chrono::seconds(10);
constexpr std::int64_t kRepeatWindowMs = 2000;
constexpr std::size_t kMaxRecentDenials = 4096;

// "203.0.113.5:4000" -> "203.0.113.5", "[2001:db8::5]:4000" -> "2001:db8::5".
std::string client_ip(const audit::AuditRecord& record) {
  const std::string& client = record.client;
  const std::size_t colon = client.rfind(':');
  std::string ip = colon == std::string::npos ? client : client.substr(0, colon);
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  return ip;
}

std::uint16_t client_port(const audit::AuditRecord& record) {
  const std::size_t colon = record.client.rfind(':');
  if (colon == std::string::npos) return 0;
  unsigned port = 0;
  for (char c : std::string_view(record.client).substr(colon + 1)) {
    if (c < '0' || c > '9' || (port = port * 10 + unsigned(c - '0')) > 65535) return 0;
  }
  return static_cast<std::uint16_t>(port);
}

// A denied query as AWF's Squid log would show a denied request for that name: host and URL
// are the name, method DNS, 403 TCP_DENIED.
audit::AccessRecord access_line_for_denial(const audit::AuditRecord& record) {
  audit::AccessRecord access;
  access.time_ms = record.time_ms;
  access.client_ip = client_ip(record);
  access.client_port = client_port(record);
  access.host = record.name;
  access.method = "DNS";
  access.status = 403;
  access.squid_status = "TCP_DENIED";
  access.hierarchy = "HIER_NONE";
  access.url = record.name;
  return access;
}
constexpr std::uint32_t kHostAnswerTtl = 60;
constexpr std::uint16_t kTypeA = 1;
constexpr std::uint16_t kTypeAny = 255;

int socket_family(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  return address.ss_family;
}

std::string endpoint_text(const sockaddr_storage& address) {
  char buffer[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&address);
    inet_ntop(AF_INET, &sin->sin_addr, buffer, sizeof buffer);
    return std::string(buffer) + ":" + std::to_string(ntohs(sin->sin_port));
  }
  const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&address);
  inet_ntop(AF_INET6, &sin6->sin6_addr, buffer, sizeof buffer);
  return "[" + std::string(buffer) + "]:" + std::to_string(ntohs(sin6->sin6_port));
}

// A received datagram with the address it was sent to, so the answer leaves from that
// address (`dig @203.0.113.9` expects its reply from 203.0.113.9).
struct Datagram {
  std::vector<std::uint8_t> payload;
  sockaddr_storage peer{};
  socklen_t peer_length = 0;
  std::uint8_t pktinfo[64] = {};
  int pktinfo_level = 0;
  int pktinfo_type = 0;
  std::size_t pktinfo_length = 0;
};

bool receive_datagram(int fd, Datagram& datagram) {
  datagram.payload.resize(kMaxUdpMessage);
  iovec iov{datagram.payload.data(), datagram.payload.size()};
  alignas(cmsghdr) char control[256];
  msghdr msg{};
  msg.msg_name = &datagram.peer;
  msg.msg_namelen = sizeof datagram.peer;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  const ssize_t n = recvmsg(fd, &msg, MSG_DONTWAIT);
  if (n < 0) return false;
  datagram.payload.resize(static_cast<std::size_t>(n));
  datagram.peer_length = msg.msg_namelen;
  for (cmsghdr* cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
    const bool v4 = cmsg->cmsg_level == IPPROTO_IP && cmsg->cmsg_type == IP_PKTINFO;
    const bool v6 = cmsg->cmsg_level == IPPROTO_IPV6 && cmsg->cmsg_type == IPV6_PKTINFO;
    if (!v4 && !v6) continue;
    datagram.pktinfo_level = cmsg->cmsg_level;
    datagram.pktinfo_type = cmsg->cmsg_type;
    datagram.pktinfo_length = std::min<std::size_t>(cmsg->cmsg_len - CMSG_LEN(0), 64);
    std::memcpy(datagram.pktinfo, CMSG_DATA(cmsg), datagram.pktinfo_length);
    if (v4) {
      // Reply from the query's destination address, on whatever interface fits.
      auto* info = reinterpret_cast<in_pktinfo*>(datagram.pktinfo);
      info->ipi_spec_dst = info->ipi_addr;
      info->ipi_ifindex = 0;
    }
  }
  return true;
}

void send_datagram(int fd, const Datagram& query, const std::vector<std::uint8_t>& answer) {
  iovec iov{const_cast<std::uint8_t*>(answer.data()), answer.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(64)] = {};
  msghdr msg{};
  msg.msg_name = const_cast<sockaddr_storage*>(&query.peer);
  msg.msg_namelen = query.peer_length;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (query.pktinfo_length > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(query.pktinfo_length);
    cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = query.pktinfo_level;
    cmsg->cmsg_type = query.pktinfo_type;
    cmsg->cmsg_len = CMSG_LEN(query.pktinfo_length);
    std::memcpy(CMSG_DATA(cmsg), query.pktinfo, query.pktinfo_length);
  }
  sendmsg(fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
}

void copy_address(const sockaddr_storage& address, std::array<std::uint8_t, 16>& out,
                  std::uint16_t& port) {
  if (address.ss_family == AF_INET) {
    const auto* sin = reinterpret_cast<const sockaddr_in*>(&address);
    std::memcpy(out.data(), &sin->sin_addr, 4);
    port = ntohs(sin->sin_port);
  } else {
    const auto* sin6 = reinterpret_cast<const sockaddr_in6*>(&address);
    std::memcpy(out.data(), &sin6->sin6_addr, 16);
    port = ntohs(sin6->sin6_port);
  }
}

// The client's socket of a datagram: its source, and the address and port it was sent to.
std::optional<sandbox::SocketTuple> datagram_tuple(const Datagram& datagram, int fd) {
  sockaddr_storage local{};
  socklen_t length = sizeof local;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) < 0) return std::nullopt;
  sandbox::SocketTuple tuple;
  tuple.udp = true;
  tuple.ipv6 = datagram.peer.ss_family == AF_INET6;
  copy_address(datagram.peer, tuple.client_address, tuple.client_port);
  copy_address(local, tuple.server_address, tuple.server_port);
  // The listener is bound to the wildcard address: the address the query was sent to comes
  // with the packet info.
  if (datagram.pktinfo_type == IP_PKTINFO && datagram.pktinfo_length >= sizeof(in_pktinfo)) {
    const auto* info = reinterpret_cast<const in_pktinfo*>(datagram.pktinfo);
    std::memcpy(tuple.server_address.data(), &info->ipi_addr, 4);
  } else if (datagram.pktinfo_type == IPV6_PKTINFO &&
             datagram.pktinfo_length >= sizeof(in6_pktinfo)) {
    const auto* info = reinterpret_cast<const in6_pktinfo*>(datagram.pktinfo);
    std::memcpy(tuple.server_address.data(), &info->ipi6_addr, 16);
  } else {
    return std::nullopt;
  }
  return tuple;
}

std::optional<sandbox::SocketTuple> stream_tuple(int fd) {
  sockaddr_storage local{};
  sockaddr_storage remote{};
  socklen_t local_length = sizeof local;
  socklen_t remote_length = sizeof remote;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_length) < 0 ||
      getpeername(fd, reinterpret_cast<sockaddr*>(&remote), &remote_length) < 0) {
    return std::nullopt;
  }
  sandbox::SocketTuple tuple;
  tuple.ipv6 = remote.ss_family == AF_INET6;
  copy_address(remote, tuple.client_address, tuple.client_port);
  copy_address(local, tuple.server_address, tuple.server_port);
  return tuple;
}

}  // namespace

struct StubServer::Impl : std::enable_shared_from_this<Impl> {
  asio::io_context& io;
  const policy::Policy& policy;
  Resolver& resolver;
  audit::LogWriter& log;
  std::size_t pending_forwards = 0;
  std::vector<std::shared_ptr<udp::socket>> udp_sockets;
  std::vector<std::shared_ptr<tcp::acceptor>> acceptors;
  std::list<tcp::socket*> sessions;
  bool stopping = false;
  std::shared_ptr<sandbox::PeerFinder> peers;
  const StubServer::Options options;
  std::unordered_map<std::string, std::int64_t> recent_denials;  // name + client -> time

  // Looked up before the answer goes out: the client may close its socket right after.
  sandbox::PeerProcess peer_process(const std::optional<sandbox::SocketTuple>& tuple) {
    if (!peers || !tuple) return {};
    return peers->find(*tuple);
  }

  Impl(asio::io_context& context, const policy::Policy& p, Resolver& r, audit::LogWriter& l,
       StubServer::Options o)
      : io(context), policy(p), resolver(r), log(l), options(o) {}

  const StubOptions::PeerName* find_peer(const std::string& name) const {
    for (const StubOptions::PeerName& peer : options.peers) {
      if (peer.name == name) return &peer;
    }
    return nullptr;
  }

  // A topology peer (or api-proxy): answered here with its address in the sandbox, where awf
  // serves its ports (never asked upstream, so the name does not leave the host). IPv4 only,
  // like the peer listeners; other types get "no data".
  static void answer_peer(const StubOptions::PeerName& peer, std::uint16_t qtype,
                          audit::AuditRecord& record) {
    record.name = peer.name;
    record.decision = "allow";
    char address[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, peer.ipv4, address, sizeof address);
    record.reason =
        peer.what + ": " +
        (qtype == kTypeA || qtype == kTypeAny ? "answered " + std::string(address) + " locally"
                                              : "no " + record.qtype + " record");
  }

  // The host (--enable-host-access): answered here, never asked upstream. IPv4 only (the
  // transparent host-port listeners are IPv4); other types get "no data".
  std::vector<std::uint8_t> answer_host(const std::vector<std::uint8_t>& message,
                                        const Query& query, audit::AuditRecord& record) {
    record.name = query.question.name;
    record.decision = "allow";
    const bool address = query.question.qtype == kTypeA || query.question.qtype == kTypeAny;
    record.reason = std::string(address ? "host access (--enable-host-access): answered " +
                                              std::string(policy::kHostGatewayAddress)
                                        : "host access (--enable-host-access): no " +
                                              record.qtype + " record") +
                    " locally";
    return make_address_response(message, policy::kHostGatewayBytes, kHostAnswerTtl);
  }

  // An upstream answer for the command, unless it is malformed or failed.
  std::vector<std::uint8_t> upstream_answer(const std::vector<std::uint8_t>& message,
                                            ForwardResult forwarded,
                                            audit::AuditRecord& record) const {
    if (!forwarded.error.empty()) {
      record.reason += "; upstream failed: " + forwarded.error;
      return make_local_response(message, kRcodeServFail);
    }
    restore_question_case(forwarded.response, message);
    // DNS rebinding: an allowed name must not lead the command to internal addresses, nor to
    // the host's own (unless host access is on: then the gateway decides per port).
    const auto host = options.host_addresses && !options.host_access ? options.host_addresses()
                                                                      : nullptr;
    FilteredAnswer filtered = filter_internal_answers(forwarded.response, host.get());
    switch (filtered.result) {
      case FilteredAnswer::Result::Unchanged:
        break;
      case FilteredAnswer::Result::Filtered:
        record.reason += "; removed internal addresses:";
        for (const std::string& address : filtered.removed) record.reason += " " + address;
        return std::move(filtered.message);
      case FilteredAnswer::Result::Malformed:
        record.reason += "; malformed upstream answer";
        return make_local_response(message, kRcodeServFail);
    }
    return std::move(forwarded.response);
  }

  // A name the policy decides: refused, or asked upstream.
  asio::awaitable<std::vector<std::uint8_t>> answer_by_policy(std::vector<std::uint8_t> message,
                                                              const Query& query,
                                                              audit::AuditRecord& record) {
    record.name = query.question.name;
    const policy::Decision decision = policy.decide(record.name, policy::Protocol::Dns);
    record.rule = decision.rule_id;
    const bool transfer = query.question.qtype == kTypeAxfr || query.question.qtype == kTypeIxfr;
    if (!decision.allowed || transfer) {
      record.decision = "deny";
      record.reason = transfer ? "zone transfers are refused" : decision.reason;
      log.note_denied(record.name);
      if (transfer) co_return make_local_response(message, kRcodeRefused);
      co_return make_denied_response(
          message, "awf: " + record.name + " is not allowed (" + record.reason + ")");
    }
    if (pending_forwards >= kMaxPendingForwards) {
      record.decision = "deny";
      record.reason = "too many pending upstream queries";
      co_return make_local_response(message, kRcodeServFail);
    }
    record.decision = "allow";
    record.reason = decision.reason;
    ++pending_forwards;
    // Rebuilt from the question: nothing else the client put in its message leaves.
    ForwardResult forwarded = co_await resolver.forward(make_upstream_query(message));
    --pending_forwards;
    co_return upstream_answer(message, std::move(forwarded), record);
  }

  // Decides the query and returns its answer; fills the record. nullopt when the message is
  // not a query: nothing is sent or logged.
  asio::awaitable<std::optional<std::vector<std::uint8_t>>> decide(
      std::vector<std::uint8_t> message, audit::AuditRecord& record) {
    const std::optional<Query> query = parse_query(message);
    if (!query) {
      if (message.size() < 12 || (message[2] & 0x80) != 0) co_return std::nullopt;
      record.decision = "deny";
      record.reason = "malformed query";
      record.rcode = rcode_name(kRcodeFormErr);
      co_return make_local_response(message, kRcodeFormErr);
    }
    record.qtype = qtype_name(query->question.qtype);
    if (!query->question.name_ok) {
      record.name = query->question.name;
      record.decision = "deny";
      record.reason = "invalid name";
      co_return make_local_response(message, kRcodeRefused);
    }
    if (const auto credential =
            options.dlp ? policy::find_credential(query->question.name) : std::nullopt) {
      // The name itself would carry the credential to a resolver: refused, logged redacted.
      record.name = policy::redact_credentials(query->question.name);
      record.decision = "deny";
      record.reason = "query name carries a credential-shaped string (" +
                      std::string(*credential) + "); --enable-dlp";
      log.note_denied(record.name);
      co_return make_denied_response(
          message, "awf: the name carries a credential-shaped string (--enable-dlp)");
    }
    if (const StubOptions::PeerName* peer = find_peer(query->question.name)) {
      answer_peer(*peer, query->question.qtype, record);
      co_return make_address_response(message, peer->ipv4, kHostAnswerTtl);
    }
    if (options.host_access && query->question.name == policy::kHostAccessName) {
      co_return answer_host(message, *query, record);
    }
    co_return co_await answer_by_policy(std::move(message), *query, record);
  }

  // A denial repeating one of the same name for the same process within kRepeatWindowMs is
  // the rest of one lookup (its AAAA after its A, a resolver's retry): recorded, but marked so
  // that reports and access.log count the lookup once.
  bool repeats_recent_denial(const audit::AuditRecord& record) {
    const std::string key =
        record.name + '\n' + (record.pid != 0 ? std::to_string(record.pid) : client_ip(record));
    if (recent_denials.size() > kMaxRecentDenials) {
      std::erase_if(recent_denials, [&](const auto& entry) {
        return record.time_ms - entry.second > kRepeatWindowMs;
      });
    }
    const auto [entry, inserted] = recent_denials.try_emplace(key, record.time_ms);
    const bool repeat = !inserted && record.time_ms - entry->second <= kRepeatWindowMs;
    entry->second = record.time_ms;
    return repeat;
  }

  // audit.jsonl has every query; a denial (not a repeat) also gets an access.log line in
  // AWF's format, because gh-aw's firewall report reads only access.log to count what was
  // blocked.
  void record_decision(audit::AuditRecord& record) {
    const bool denied = record.decision != "allow";
    record.repeat = denied && repeats_recent_denial(record);
    log.write_audit(record);
    if (denied && !record.repeat) log.write_access(access_line_for_denial(record));
  }

  // Decides and answers one query; returns the answer (empty: send nothing).
  asio::awaitable<std::vector<std::uint8_t>> answer(std::vector<std::uint8_t> message,
                                                    std::string client, std::string transport,
                                                    const sandbox::PeerProcess& process) {
    audit::AuditRecord record;
    record.time_ms = audit::now_ms();
    record.kind = "dns";
    record.transport = transport;
    record.client = client;
    record.pid = process.pid;
    record.command = process.command;
    // No traffic without a record (log_writer.h): while the logs cannot be written, nothing is
    // answered but a temporary failure, and nothing goes upstream.
    if (!log.recording()) {
      log.note_refused_unrecorded();
      co_return make_local_response(message, kRcodeServFail);
    }
    std::optional<std::vector<std::uint8_t>> response =
        co_await decide(std::move(message), record);
    if (!response) co_return std::vector<std::uint8_t>{};
    if (const auto rcode = response_rcode(*response)) record.rcode = rcode_name(*rcode);
    record_decision(record);
    co_return std::move(*response);
  }

  asio::awaitable<void> udp_loop(std::shared_ptr<udp::socket> socket) {
    for (;;) {
      boost::system::error_code ec;
      co_await socket->async_wait(udp::socket::wait_read,
                                  asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      Datagram datagram;
      while (receive_datagram(socket->native_handle(), datagram)) {
        auto self = shared_from_this();
        asio::co_spawn(
            io,
            [self, socket, datagram = std::move(datagram)]() mutable -> asio::awaitable<void> {
              const sandbox::PeerProcess process =
                  self->peer_process(datagram_tuple(datagram, socket->native_handle()));
              std::vector<std::uint8_t> reply =
                  co_await self->answer(datagram.payload, endpoint_text(datagram.peer), "udp",
                                        process);
              if (!reply.empty()) send_datagram(socket->native_handle(), datagram, reply);
              if (self->peers) self->peers->release(process);
            },
            asio::detached);
        datagram = Datagram{};
      }
    }
  }

  asio::awaitable<void> tcp_session(tcp::socket socket) {
    if (stopping) co_return;
    const auto registered = sessions.insert(sessions.end(), &socket);
    struct Unregister {
      std::list<tcp::socket*>& list;
      std::list<tcp::socket*>::iterator it;
      ~Unregister() { list.erase(it); }
    } unregister{sessions, registered};
    const std::string client = [&] {
      sockaddr_storage peer{};
      socklen_t length = sizeof peer;
      getpeername(socket.native_handle(), reinterpret_cast<sockaddr*>(&peer), &length);
      return endpoint_text(peer);
    }();
    const sandbox::PeerProcess process = peer_process(stream_tuple(socket.native_handle()));
    struct Release {
      std::shared_ptr<sandbox::PeerFinder> peers;
      const sandbox::PeerProcess& process;
      ~Release() {
        if (peers) peers->release(process);
      }
    } release{peers, process};
    asio::steady_timer idle(io);
    for (;;) {
      idle.expires_after(kTcpIdle);
      idle.async_wait([&socket](const boost::system::error_code& ec) {
        if (!ec) socket.close();
      });
      std::uint8_t prefix[2];
      boost::system::error_code ec;
      co_await asio::async_read(socket, asio::buffer(prefix),
                                asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
      std::vector<std::uint8_t> message(static_cast<std::size_t>(prefix[0] << 8 | prefix[1]));
      co_await asio::async_read(socket, asio::buffer(message),
                                asio::redirect_error(asio::use_awaitable, ec));
      idle.cancel();
      if (ec) co_return;
      std::vector<std::uint8_t> reply = co_await answer(std::move(message), client, "tcp", process);
      if (reply.empty() || reply.size() > 0xffff) co_return;
      const std::uint8_t length[2] = {static_cast<std::uint8_t>(reply.size() >> 8),
                                      static_cast<std::uint8_t>(reply.size() & 0xff)};
      const std::array<asio::const_buffer, 2> framed = {asio::buffer(length),
                                                        asio::buffer(reply)};
      co_await asio::async_write(socket, framed, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
    }
  }

  asio::awaitable<void> tcp_accept_loop(std::shared_ptr<tcp::acceptor> acceptor) {
    for (;;) {
      boost::system::error_code ec;
      tcp::socket socket = co_await acceptor->async_accept(
          asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        if (ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor) co_return;
        continue;
      }
      asio::co_spawn(
          io,
          [self = shared_from_this(), socket = std::move(socket)]() mutable
          -> asio::awaitable<void> { co_await self->tcp_session(std::move(socket)); },
          asio::detached);
    }
  }
};

StubServer::StubServer(asio::io_context& io, const policy::Policy& policy, Resolver& resolver,
                       audit::LogWriter& log, Options options)
    : impl_(std::make_shared<Impl>(io, policy, resolver, log, options)) {}

StubServer::~StubServer() = default;

void StubServer::name_clients_with(std::shared_ptr<sandbox::PeerFinder> peers) {
  impl_->peers = std::move(peers);
}

void StubServer::serve_udp(UniqueFd fd) {
  const udp protocol = socket_family(fd.get()) == AF_INET6 ? udp::v6() : udp::v4();
  auto socket = std::make_shared<udp::socket>(impl_->io, protocol, fd.release());
  impl_->udp_sockets.push_back(socket);
  asio::co_spawn(
      impl_->io,
      [self = impl_, socket]() -> asio::awaitable<void> { co_await self->udp_loop(socket); },
      asio::detached);
}

void StubServer::serve_tcp(UniqueFd fd) {
  const tcp protocol = socket_family(fd.get()) == AF_INET6 ? tcp::v6() : tcp::v4();
  auto acceptor = std::make_shared<tcp::acceptor>(impl_->io, protocol, fd.release());
  impl_->acceptors.push_back(acceptor);
  asio::co_spawn(
      impl_->io,
      [self = impl_, acceptor]() -> asio::awaitable<void> {
        co_await self->tcp_accept_loop(acceptor);
      },
      asio::detached);
}

}  // namespace awf::dns

namespace awf::dns {

void StubServer::stop() {
  impl_->stopping = true;
  boost::system::error_code ignored;
  for (auto& socket : impl_->udp_sockets) socket->close(ignored);
  for (auto& acceptor : impl_->acceptors) acceptor->close(ignored);
  for (tcp::socket* session : impl_->sessions) session->close(ignored);
}

}  // namespace awf::dns
