// The gateway: awf's only egress for the sandbox. Serves the listeners the sandbox created
// (explicit proxy, transparent HTTP and TLS, DNS) from awf's event loop in the host's network
// namespace, where its outbound sockets live.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <vector>

#include "audit/log_writer.h"
#include "dns/resolver.h"
#include "policy/policy.h"
#include "sandbox/listeners.h"

namespace awf::proxy {

class Gateway {
 public:
  Gateway(boost::asio::io_context& io, const policy::Policy& policy, dns::Resolver& resolver,
          audit::LogWriter& log);
  ~Gateway();

  // Starts accepting on every listener.
  void serve(std::vector<sandbox::Listener> listeners);

  // Closes the listeners and every open connection, logging those still open.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace awf::proxy
