// The sandbox's only DNS server: listens on port 53 (UDP and TCP) on every address inside
// the sandbox. Allowed names are forwarded to the trusted upstream resolvers; every other
// query is answered REFUSED locally and never leaves the host, which closes the DNS
// exfiltration channel a forwarding resolver leaves open.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "audit/log_writer.h"
#include "common/unique_fd.h"
#include "dns/resolver.h"
#include "policy/host_addresses.h"
#include "policy/policy.h"
#include "sandbox/peer_process.h"

namespace awf::dns {

struct StubOptions {
  // --enable-host-access: host.docker.internal is answered locally (A: 172.17.0.1).
  bool host_access = false;
  // --enable-dlp: a name carrying a credential-shaped string is refused (logged redacted).
  bool dlp = false;
  // --topology-attach: the peers' names (lowercase) are answered locally with their address
  // in the sandbox (A; other types: no data), never asked upstream. Also api-proxy (the API
  // proxy's listeners on 127.0.0.1).
  struct PeerName {
    std::string name;
    std::uint8_t ipv4[4] = {};
    std::string what = "topology peer (--topology-attach)";  // for the record's reason
  };
  std::vector<PeerName> peers;
  // The host's own addresses (kept current by awf), removed from answers like internal ones
  // unless host access is on (then the gateway decides per port). Null: not checked.
  std::function<std::shared_ptr<const policy::HostAddresses>()> host_addresses;
};

class StubServer {
 public:
  using Options = StubOptions;

  StubServer(boost::asio::io_context& io, const policy::Policy& policy, Resolver& resolver,
             audit::LogWriter& log, Options options = {});
  ~StubServer();

  // Records then name the process that sent each query (set before serving).
  void name_clients_with(std::shared_ptr<sandbox::PeerFinder> peers);
  void serve_udp(UniqueFd socket);
  void serve_tcp(UniqueFd listener);
  // Closes every socket; pending answers are dropped.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace awf::dns
