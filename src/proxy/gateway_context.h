// What every handler of one worker shares: the policy and options, the resolver, the logs,
// the connection budget, the worker's open sockets and the process finder.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <cstddef>

#include "audit/log_writer.h"
#include "dns/resolver.h"
#include "policy/policy.h"
#include "proxy/gateway.h"
#include "proxy/socket_registry.h"
#include "proxy/verdict.h"
#include "sandbox/peer_process.h"

namespace awf::proxy {

// Client connections open across all workers, against a cap derived from the descriptor
// limit: past it, new connections are answered 503 (or closed) instead of exhausting awf.
struct ConnectionBudget {
  std::atomic<std::size_t> open{0};
  std::size_t limit = 4096;
};

struct GatewayContext {
  boost::asio::io_context& io;
  const policy::Policy& policy;
  const GatewayOptions& options;  // host_access already off when a block rule covers the host
  dns::Resolver& resolver;
  audit::LogWriter& log;
  ConnectionBudget& budget;
  ConnectionRegistry connections;
  bool stopping = false;
  sandbox::PeerFinder* peers = nullptr;  // names the process behind a client (may be null)
};

// This gateway's options as the verdict takes them, and the verdict for `request` (verdict.h).
VerdictOptions verdict_options(const GatewayContext& context);
Verdict decide(const GatewayContext& context, VerdictRequest request);

}  // namespace awf::proxy
