// The start of every client connection, written once for all handlers: the socket is tracked
// (stop() closes it, deadlines apply to it), it takes a unit of the connection budget, and
// only once admitted is the process behind it looked up.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>

#include "proxy/access_record.h"
#include "proxy/gateway_context.h"
#include "proxy/socket_registry.h"
#include "sandbox/peer_process.h"

namespace awf::proxy {

// Holds one unit of the budget for a handler's lifetime.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(ConnectionBudget& budget)
      : budget_(budget), admitted_(budget.open.fetch_add(1) < budget.limit) {}
  ~ConnectionSlot() { budget_.open.fetch_sub(1); }
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  bool admitted() const { return admitted_; }

 private:
  ConnectionBudget& budget_;
  bool admitted_;
};

// The process in the sandbox that holds the other end of a client connection (pid 0 when
// unknown): looked up once per admitted connection, at once, while the client surely still
// holds its socket. When the connection ends, the finder learns that the client's
// descriptor is probably free again (its next connection will likely reuse it).
class ClientProcess {
 public:
  explicit ClientProcess(GatewayContext& context) : context_(context) {}
  ~ClientProcess();
  ClientProcess(const ClientProcess&) = delete;
  ClientProcess& operator=(const ClientProcess&) = delete;

  boost::asio::awaitable<void> find(const tcp::socket& client);
  const sandbox::PeerProcess& get() const { return process_; }
  // awf passed the end of the stream to the client, which closes its socket next: the
  // finder can expect that descriptor back already (once; the destructor then does nothing).
  void release();

 private:
  GatewayContext& context_;
  sandbox::PeerProcess process_;
  bool released_ = false;
};

class ConnectionScope {
 public:
  ConnectionScope(GatewayContext& context, tcp::socket& client);
  ConnectionScope(const ConnectionScope&) = delete;
  ConnectionScope& operator=(const ConnectionScope&) = delete;

  // Admits the connection against the budget, then names its process into `attempt` (with
  // the client's address). Over budget: writes `attempt` as a 503 and returns false; the
  // caller closes (after answering 503 when it speaks HTTP).
  boost::asio::awaitable<bool> open(Attempt& attempt);

  TrackedSocket& tracked() { return tracked_; }
  ClientProcess& process() { return process_; }

 private:
  GatewayContext& context_;
  tcp::socket& client_;
  TrackedSocket tracked_;
  ConnectionSlot slot_;
  ClientProcess process_;
};

}  // namespace awf::proxy
