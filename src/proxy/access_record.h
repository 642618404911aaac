// What a client tried and what became of it (an Attempt), and how it is written: one line in
// access.log (Squid's format) and one in audit.jsonl per connection or HTTP request.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "proxy/endpoint.h"
#include "proxy/gateway_context.h"
#include "proxy/verdict.h"
#include "sandbox/peer_process.h"

namespace awf::proxy {

// Bytes moved by a relay (relay.h) or an HTTP exchange.
struct RelayCounts {
  std::uint64_t up = 0;    // client -> upstream
  std::uint64_t down = 0;  // upstream -> client
  bool idle_timeout = false;
};

struct Attempt {
  std::string kind;       // "http", "connect", "tls", "intercept", "host", "api", "peer"
  std::string transport;  // "explicit", "transparent", "api-proxy"
  Endpoint client;
  sandbox::PeerProcess process;  // who made it
  std::string host_field;        // Host header / authority for access.log
  std::string name;              // normalized decided name (or as sent when invalid)
  std::string method;
  std::string url;
  std::string user_agent;
  int status = 0;
  bool allowed = false;
  std::string reason;
  std::uint32_t rule = 0;  // policy::Decision::rule_id of the deciding rule
  std::optional<boost::asio::ip::tcp::endpoint> destination;
  bool via_parent = false;  // `destination` is the upstream proxy's address
  RelayCounts counts;
  std::string provider;  // kind "api"
  // HTTP requests: when the request head was complete (the record gets the duration).
  std::optional<std::chrono::steady_clock::time_point> started;
};

void record(GatewayContext& context, const Attempt& attempt);

// Takes the verdict's decision into the attempt. Its texts for the record (reason, url,
// host_field) are moved, not copied: the verdict keeps what the front end acts on (denial,
// status, route, name, tls_only) and the refusal is worded from the attempt.
void take_verdict(Attempt& attempt, Verdict& verdict);

}  // namespace awf::proxy
