// Fuzzes the gateway's one decision (proxy/verdict.h) with what a client controls: the name,
// the port, the URL and the Host field, under every front end and option. Input: one byte of
// entry and option bits, two bytes of port, then `host` NUL `url` NUL `host field`.
// Invariants: a denied verdict has no route and an error status, an allowed one a route and
// no status; a name the policy denies is never allowed (outside --enable-host-access's own
// name); with --enable-dlp a scanned credential is always the denial, without it never; the
// Docker host, interception and the port rule only where their option and entry allow them.
// Inside an --ssl-bump session, an allowed request's path matches an --allow-urls pattern.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "policy/credential_scan.h"
#include "policy/host_access.h"
#include "policy/policy.h"
#include "policy/url_pattern.h"
#include "proxy/verdict.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

std::string_view take_field(std::string_view& rest) {
  const std::size_t end = rest.find('\0');
  const std::string_view field = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
  return field;
}

awf::policy::Protocol protocol_of(awf::proxy::Entry entry) {
  return entry == awf::proxy::Entry::Http ? awf::policy::Protocol::Http
                                          : awf::policy::Protocol::Https;
}

void check_invariants(const awf::policy::Policy& policy, const awf::proxy::VerdictOptions& options,
                      const awf::proxy::VerdictRequest& request,
                      const awf::proxy::Verdict& verdict) {
  using namespace awf::proxy;
  check(verdict.allowed() == (verdict.route != Route::None));
  check(verdict.allowed() == (verdict.status == 0));
  check(verdict.allowed() || (verdict.status >= 400 && verdict.status <= 599));
  check(!verdict.reason.empty() || verdict.allowed());
  bool credential = false;
  for (std::string_view text :
       {std::string_view(request.url), std::string_view(request.host_field)}) {
    credential |= awf::policy::find_credential(text).has_value();
  }
  check((verdict.denial == Denial::Credential) == (options.dlp && credential));
  if (!verdict.allowed()) return;
  const bool docker_host = options.host_access && request.entry != Entry::Api &&
                           awf::policy::is_host_access_name(request.host);
  check((verdict.route == Route::DockerHost) == docker_host);
  if (!docker_host) {
    check(policy.decide(request.host, protocol_of(request.entry)).allowed);
    if (request.entry == Entry::Http || request.entry == Entry::Connect) {
      check(request.port == 80 || request.port == 443);
    }
  }
  if (verdict.route == Route::Intercept) {
    check(options.url_patterns != nullptr && request.port == 443);
    check(request.entry == Entry::Connect || request.entry == Entry::Tls);
  }
  // A host --allow-urls rules mention is reached through an interception on 443 or not at all.
  if (options.url_patterns != nullptr && !docker_host && request.entry != Entry::Api &&
      awf::policy::url_patterns_mention(*options.url_patterns, verdict.name)) {
    check(verdict.route == Route::Intercept);
  }
  // Plain bytes may ride a CONNECT only where the name is allowed for plain HTTP.
  if (request.entry == Entry::Connect && verdict.route == Route::Origin) {
    check(verdict.tls_only == !policy.decide(request.host, awf::policy::Protocol::Http).allowed);
  }
}

// The same bytes as a request inside an --ssl-bump session for bump.test: the url field is
// the request target, the host field its Host, the name a header value.
void check_intercepted(const awf::proxy::VerdictOptions& options,
                       const awf::proxy::VerdictRequest& fields) {
  using namespace awf::proxy;
  const std::optional<std::string> path = awf::policy::canonical_request_path(fields.url);
  InterceptedRequest request;
  request.session_name = "bump.test";
  request.url = "https://bump.test" + (path ? *path : fields.url);
  request.host_field = fields.host_field;
  request.target = fields.url;
  request.path = &path;
  request.headers = {{"X-Name", fields.host}};
  const Verdict verdict = decide_intercepted(options, request);
  check(verdict.allowed() == (verdict.route == Route::Origin));
  check(verdict.allowed() == (verdict.status == 0));
  const bool credential = awf::policy::find_credential(request.url).has_value() ||
                          awf::policy::find_credential(fields.host).has_value();
  check((verdict.denial == Denial::Credential) == (options.dlp && credential));
  if (verdict.allowed()) {
    check(path.has_value() && options.url_patterns != nullptr);
    check(awf::policy::url_pattern_matches(options.url_patterns->front(), "bump.test", *path));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace awf::proxy;
  static const awf::policy::Policy policy =
      awf::policy::Policy::build({"allowed.test", "*.wild.test", "https://secure.test",
                                  "http://plain.test", "203.0.113.10", "bump.test"},
                                 {"blocked.allowed.test"});
  static const std::vector<awf::policy::PortRange> host_ports{{3000, 3010}};
  static const std::vector<awf::policy::UrlPattern> patterns =
      awf::policy::parse_url_patterns({"https://bump.test/api/*"});
  if (size < 3) return 0;
  const std::uint8_t flags = data[0];
  VerdictOptions options;
  options.dlp = (flags & 0x04) != 0;
  options.host_access = (flags & 0x08) != 0;
  options.host_ports = &host_ports;
  options.url_patterns = (flags & 0x10) != 0 ? &patterns : nullptr;
  VerdictRequest request;
  request.entry = static_cast<Entry>(flags & 0x03);
  request.port = static_cast<std::uint16_t>(data[1] << 8 | data[2]);
  std::string_view rest(reinterpret_cast<const char*>(data + 3), size - 3);
  request.host = std::string(take_field(rest));
  request.url = std::string(take_field(rest));
  request.host_field = std::string(take_field(rest));
  request.scan.url = request.scan.host_field = true;
  if ((flags & 0x20) != 0) request.unreadable = Unreadable{400, "unreadable", request.host};
  const Verdict verdict = decide_request(policy, options, request);
  check_invariants(policy, options, request, verdict);
  if (request.unreadable && verdict.denial != Denial::Credential) {
    check(verdict.denial == Denial::Unreadable);
  }
  refusal_text(verdict);
  check_intercepted(options, request);
  return 0;
}
