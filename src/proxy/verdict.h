// The gateway's one decision about a request: every front end (plain HTTP, CONNECT, transparent
// TLS, the API proxy) asks here whether what the command named may be reached, and where to.
// Pure logic, no I/O: the front ends read the bytes, this decides, they act and record.
//
// The order of the checks is part of the decision and is the same for everyone:
//   1. --enable-dlp, first: every record written below would hold the credential otherwise;
//   2. a target the front end could not read (400, or a TLS hello without a name);
//   3. host.docker.internal with --enable-host-access (its own ports), else the domain policy
//      and the port;
//   4. the route: the origin, the Docker host's loopback, or --ssl-bump interception.
// A connection that passed can still be refused later for what the name resolves to (an
// internal address): upstream_connect.h reports that as a denial too. Inside an --ssl-bump
// session each request is decided again, by decide_intercepted().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "policy/policy.h"
#include "policy/port_spec.h"
#include "policy/url_pattern.h"

namespace awf::proxy {

// Which front end asks: each has its own protocol and checks (see verdict.cpp's table).
enum class Entry {
  Http,     // a plain HTTP request (explicit proxy or transparent port 80)
  Connect,  // a CONNECT on the explicit proxy
  Tls,      // a transparent TLS connection, named by its SNI (port 443 only)
  Api,      // the API proxy: awf's fixed provider target, never a name the client chose
};

// Why a request is refused. Not an HTTP status: the status is derived from it.
enum class Denial {
  None,
  Unreadable,         // the front end could not read a target (its own status and reason)
  Credential,         // --enable-dlp found a credential-shaped string
  Policy,             // the domain policy (the only denial the user fixes with --allow-domains)
  HostPort,           // host.docker.internal on a port --enable-host-access does not open
  Port,               // an allowed name on a port other than 80 and 443
  PlainHttpUrlRules,  // plain HTTP to a host whose --allow-urls rules need TLS
  InternalAddress,    // the name resolves to internal addresses only (found when connecting)
  OtherHost,          // --ssl-bump: a request for another host than its session's (421)
  UrlNotAllowed,      // --ssl-bump: no --allow-urls pattern matches the request
};

// Where an allowed request goes.
enum class Route {
  None,        // denied
  Origin,      // awf resolves the name itself (or asks the upstream proxy) and connects
  DockerHost,  // host.docker.internal: the host's own 127.0.0.1 (--enable-host-access)
  Intercept,   // --ssl-bump: awf ends the client's TLS and decides each request inside
};

struct VerdictOptions {
  bool dlp = false;          // --enable-dlp
  bool host_access = false;  // --enable-host-access (off when a block rule covers the host)
  const std::vector<policy::PortRange>* host_ports = nullptr;  // --allow-host-ports
  // --ssl-bump's --allow-urls patterns; null without --ssl-bump.
  const std::vector<policy::UrlPattern>* url_patterns = nullptr;
};

// A target the front end could not read: the status and reason to refuse it with, and the
// name the record shows.
struct Unreadable {
  int status = 400;
  std::string reason;
  std::string name;
};

struct VerdictRequest {
  Entry entry = Entry::Http;
  std::string host;  // as the client named it; "" when unknown
  std::uint16_t port = 0;
  std::string url;         // for the record (a URL, a CONNECT target, name:port)
  std::string host_field;  // for the record (the Host header or authority)
  // What --enable-dlp scans, in this order: the URL, the Host field, the name, `text`.
  struct Scan {
    bool url = false;
    bool host_field = false;
    bool host = false;
    std::string text;
  } scan;
  std::optional<Unreadable> unreadable;
};

struct Verdict {
  Denial denial = Denial::None;
  int status = 0;  // the HTTP status of a denial; 0 when allowed
  std::string reason;
  std::uint32_t rule = 0;  // policy::Decision::rule_id of the deciding rule
  Route route = Route::None;
  // A CONNECT to a name its rules allow for https:// only: the tunnel must begin with a TLS
  // ClientHello, or plain HTTP would ride an https-only rule (checked on the first bytes).
  bool tls_only = false;
  // For the record: the decided name (normalized), the URL and the Host field, with the
  // credential redacted for a Credential denial.
  std::string name;
  std::string url;
  std::string host_field;

  bool allowed() const { return denial == Denial::None; }
};

// One request inside an --ssl-bump session opened for `session_name` (allowed already).
struct InterceptedRequest {
  std::string_view session_name;  // normalized
  std::string url;                // https://authority + the canonical path (or the raw target)
  std::string host_field;         // the request's Host
  std::string_view target;        // the raw request target
  const std::optional<std::string>* path = nullptr;  // policy::canonical_request_path(target)
  // Every header (name, value): --enable-dlp scans the values.
  std::vector<std::pair<std::string_view, std::string_view>> headers;
};

// The name a host is decided and recorded as: normalized, or as sent when it is no valid name.
std::string display_name(std::string_view host);

// The request is taken by value: its texts for the record (url, host_field) move into the
// verdict instead of being copied, once per request on the proxy's busiest path.
Verdict decide_request(const policy::Policy& policy, const VerdictOptions& options,
                       VerdictRequest request);

// The checks in order: --enable-dlp over the URL and every header value; the Host must name
// the session's host (else domain fronting: a session opened for an allowed name carrying
// requests for another one); the target must be a plain path; an --allow-urls pattern must
// match it. The route of an allowed request is Route::Origin (the session's origin).
Verdict decide_intercepted(const VerdictOptions& options, InterceptedRequest request);

// The reason recorded for what reaches the Docker host.
inline constexpr char kHostAccessReason[] = "host access (--enable-host-access)";

// "port N of the host is not open ..." for a host-access port outside the open set.
std::string host_port_refusal(std::uint16_t port);

// --enable-dlp: the reason to refuse `text` (a URL, a CONNECT target, a name, a header value)
// for the credential-shaped string it carries, or "".
std::string credential_refusal(std::string_view text);

// The status a denial is answered with.
int denial_status(Denial denial);

// What the client reads when awf refuses, worded once for every front end:
//   "awf: blocked 'NAME': REASON. To allow it: --allow-domains NAME"   a policy denial
//   "awf: blocked 'NAME': REASON."       another denial, or an origin awf could not reach
//   "awf: blocked URL: REASON"           a request inside an --ssl-bump session
//   "awf: REASON"                        a request awf could not read, no key, overload
std::string blocked_text(std::string_view name, std::string_view reason, bool suggest_allow);
std::string blocked_url_text(std::string_view url, std::string_view reason);
std::string plain_refusal_text(std::string_view reason);
// A verdict's denial in the wording above.
std::string refusal_text(const Verdict& verdict);

}  // namespace awf::proxy
