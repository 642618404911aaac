#include "proxy/verdict.h"

#include <algorithm>

#include "policy/credential_scan.h"
#include "policy/domain_list.h"
#include "policy/host_access.h"
#include "proxy/http_head.h"

namespace awf::proxy {
namespace {

// What each front end's requests are decided with.
struct EntryRules {
  policy::Protocol protocol;
  // Only ports 80 and 443 of an allowed name. An allowlist names web origins: without this
  // an allowed name would open every service its host runs (SSH, SMTP for spam, a database
  // left open), and a CONNECT tunnel carries any protocol. Squid's SSL_ports/Safe_ports in
  // AWF make the same cut.
  bool web_ports_only;
  bool host_access;  // host.docker.internal is the Docker host, not a name to resolve
  bool intercept;    // --ssl-bump may intercept (TLS entries on port 443)
  bool plain_http;   // plain HTTP: --allow-urls rules (TLS only) cannot match it
};

EntryRules rules_of(Entry entry) {
  switch (entry) {
    case Entry::Http:
      return {policy::Protocol::Http, true, true, false, true};
    case Entry::Connect:
      return {policy::Protocol::Https, true, true, true, false};
    // The transparent TLS listener is bound to port 443 alone: its port needs no check.
    case Entry::Tls:
      return {policy::Protocol::Https, false, true, true, false};
    // The API proxy's target is awf's configuration, not the client's choice.
    case Entry::Api:
      return {policy::Protocol::Https, false, false, false, false};
  }
  return {policy::Protocol::Https, true, false, false, false};
}

Verdict deny(Verdict verdict, Denial denial, std::string reason) {
  verdict.denial = denial;
  verdict.status = denial_status(denial);
  verdict.reason = std::move(reason);
  verdict.route = Route::None;
  return verdict;
}

// --enable-dlp: the record shows the request with the credential cut out.
Verdict deny_credential(Verdict verdict, const VerdictRequest& request, std::string reason) {
  verdict.url = policy::redact_credentials(request.url);
  verdict.host_field = policy::redact_credentials(request.host_field);
  verdict.name =
      request.host.empty() ? verdict.url : policy::redact_credentials(display_name(request.host));
  return deny(std::move(verdict), Denial::Credential, std::move(reason));
}

std::string scan_credentials(const VerdictRequest& request) {
  const VerdictRequest::Scan& scan = request.scan;
  std::string refusal;
  if (scan.url) refusal = credential_refusal(request.url);
  if (refusal.empty() && scan.host_field) refusal = credential_refusal(request.host_field);
  if (refusal.empty() && scan.host) refusal = credential_refusal(request.host);
  if (refusal.empty() && !scan.text.empty()) refusal = credential_refusal(scan.text);
  return refusal;
}

bool docker_host_named(const VerdictOptions& options, const EntryRules& rules,
                       std::string_view host) {
  return rules.host_access && options.host_access && policy::is_host_access_name(host);
}

Verdict decide_docker_host(Verdict verdict, const VerdictOptions& options, std::uint16_t port) {
  static const std::vector<policy::PortRange> kNone;
  if (!policy::host_port_open(options.host_ports ? *options.host_ports : kNone, port)) {
    return deny(std::move(verdict), Denial::HostPort, host_port_refusal(port));
  }
  verdict.reason = kHostAccessReason;
  verdict.route = Route::DockerHost;
  return verdict;
}

// Names an --allow-urls pattern mentions are reachable through those patterns only.
Verdict route_allowed(Verdict verdict, const VerdictOptions& options, const EntryRules& rules,
                      std::uint16_t port) {
  verdict.route = Route::Origin;
  if (options.url_patterns == nullptr ||
      !policy::url_patterns_mention(*options.url_patterns, verdict.name)) {
    return verdict;
  }
  if (rules.plain_http) {
    return deny(std::move(verdict), Denial::PlainHttpUrlRules,
                "plain HTTP to a host with --allow-urls rules (only https:// URLs can match)");
  }
  // Only port 443 is intercepted, where the rules are applied to each request: a tunnel to
  // another port would carry requests no rule ever saw (cleartext HTTP on port 80 among them).
  if (rules.intercept && port != 443) {
    return deny(std::move(verdict), Denial::PlainHttpUrlRules,
                "CONNECT to port " + std::to_string(port) +
                    " of a host with --allow-urls rules (they apply on port 443 only)");
  }
  if (rules.intercept && port == 443) {
    verdict.route = Route::Intercept;
    verdict.reason += "; intercepted (--ssl-bump)";
  }
  return verdict;
}

// --enable-dlp inside a session: the URL, then every header value (named in the reason).
std::string scan_intercepted(const InterceptedRequest& request) {
  if (std::string refusal = credential_refusal(request.url); !refusal.empty()) return refusal;
  for (const auto& [name, value] : request.headers) {
    if (std::string refusal = credential_refusal(value); !refusal.empty()) {
      return refusal + " (in the " + std::string(name) + " header)";
    }
  }
  return "";
}

bool url_allowed(const VerdictOptions& options, std::string_view host, std::string_view path) {
  if (options.url_patterns == nullptr) return false;
  const auto& patterns = *options.url_patterns;
  return std::any_of(patterns.begin(), patterns.end(), [&](const policy::UrlPattern& pattern) {
    return policy::url_pattern_matches(pattern, host, path);
  });
}

}  // namespace

Verdict decide_intercepted(const VerdictOptions& options, InterceptedRequest request) {
  Verdict verdict;
  verdict.name = std::string(request.session_name);
  if (options.dlp) {
    if (std::string refusal = scan_intercepted(request); !refusal.empty()) {
      verdict.url = policy::redact_credentials(request.url);
      verdict.host_field = policy::redact_credentials(request.host_field);
      return deny(std::move(verdict), Denial::Credential, std::move(refusal));
    }
  }
  const auto authority = awf::http::parse_authority(request.host_field, 443);
  const bool same_host =
      authority && policy::normalize_host(authority->host) == request.session_name;
  verdict.url = std::move(request.url);
  verdict.host_field = std::move(request.host_field);
  if (!same_host) {
    return deny(std::move(verdict), Denial::OtherHost,
                "Host '" + verdict.host_field + "' does not match the TLS name '" +
                    std::string(request.session_name) + "' (--ssl-bump)");
  }
  const std::optional<std::string>* path = request.path;
  if (path == nullptr || !*path) {
    return deny(std::move(verdict), Denial::Unreadable,
                "request target '" + std::string(request.target) +
                    "' is not a plain path (encoded '/' or '\\', '#', or not origin-form)");
  }
  if (!url_allowed(options, request.session_name, **path)) {
    return deny(std::move(verdict), Denial::UrlNotAllowed,
                "no --allow-urls pattern matches " + verdict.url);
  }
  verdict.route = Route::Origin;
  return verdict;
}

std::string display_name(std::string_view host) {
  std::string normalized = policy::normalize_host(host);
  return normalized.empty() ? std::string(host) : normalized;
}

Verdict decide_request(const policy::Policy& policy, const VerdictOptions& options,
                       VerdictRequest request) {
  Verdict verdict;
  verdict.name = request.host.empty() ? std::string() : display_name(request.host);
  if (options.dlp) {
    if (std::string refusal = scan_credentials(request); !refusal.empty()) {
      return deny_credential(std::move(verdict), request, std::move(refusal));
    }
  }
  verdict.url = std::move(request.url);
  verdict.host_field = std::move(request.host_field);
  if (request.unreadable) {
    verdict.name = request.unreadable->name;
    verdict = deny(std::move(verdict), Denial::Unreadable, request.unreadable->reason);
    verdict.status = request.unreadable->status;
    return verdict;
  }
  const EntryRules rules = rules_of(request.entry);
  if (docker_host_named(options, rules, request.host)) {
    return decide_docker_host(std::move(verdict), options, request.port);
  }
  const policy::Decision decision = policy.decide(request.host, rules.protocol);
  verdict.reason = decision.reason;
  verdict.rule = decision.rule_id;
  if (!decision.allowed)
    return deny(std::move(verdict), Denial::Policy, std::string(decision.reason));
  if (rules.web_ports_only && request.port != 80 && request.port != 443) {
    return deny(std::move(verdict), Denial::Port,
                "port " + std::to_string(request.port) + " is not allowed (80, 443)");
  }
  verdict = route_allowed(std::move(verdict), options, rules, request.port);
  verdict.tls_only = request.entry == Entry::Connect && verdict.route == Route::Origin &&
                     !policy.decide(request.host, policy::Protocol::Http).allowed;
  return verdict;
}

std::string host_port_refusal(std::uint16_t port) {
  return "port " + std::to_string(port) +
         " of the host is not open (--enable-host-access opens 80, 443 and --allow-host-ports)";
}

std::string credential_refusal(std::string_view text) {
  const auto credential = policy::find_credential(text);
  if (!credential) return "";
  return "request carries a credential-shaped string (" + std::string(*credential) +
         "); --enable-dlp";
}

int denial_status(Denial denial) {
  switch (denial) {
    case Denial::None:
      return 0;
    case Denial::Unreadable:
      return 400;
    case Denial::Credential:
    case Denial::Policy:
    case Denial::HostPort:
    case Denial::Port:
    case Denial::PlainHttpUrlRules:
    case Denial::InternalAddress:
    case Denial::UrlNotAllowed:
      return 403;
    case Denial::OtherHost:
      return 421;  // Misdirected Request: this session cannot serve that host
  }
  return 403;
}

namespace {

// localhost is the sandbox's own loopback wherever it is asked for: allowing it as a domain
// would open the host's loopback instead (awf connects from the host), never what was meant.
bool names_loopback(std::string_view name) {
  return name == "localhost" || name.ends_with(".localhost") || name.starts_with("127.") ||
         name == "::1" || name == "[::1]";
}

}  // namespace

std::string blocked_text(std::string_view name, std::string_view reason, bool suggest_allow) {
  std::string text = "awf: blocked '" + std::string(name) + "': " + std::string(reason) + ".";
  if (suggest_allow && names_loopback(name)) {
    text += " '" + std::string(name) +
            "' is the sandbox itself; to reach a service on the host, use "
            "--enable-host-access and host.docker.internal";
  } else if (suggest_allow) {
    text += " To allow it: --allow-domains " + std::string(name);
  }
  return text + "\n";
}

std::string blocked_url_text(std::string_view url, std::string_view reason) {
  return "awf: blocked " + std::string(url) + ": " + std::string(reason) + "\n";
}

std::string plain_refusal_text(std::string_view reason) {
  return "awf: " + std::string(reason) + "\n";
}

std::string refusal_text(const Verdict& verdict) {
  if (verdict.denial == Denial::Unreadable) return plain_refusal_text(verdict.reason);
  return blocked_text(verdict.name, verdict.reason, verdict.denial == Denial::Policy);
}

}  // namespace awf::proxy
