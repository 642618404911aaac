#include "logs/explain.h"

#include <charconv>

#include "policy/address_class.h"

namespace awf::logs {
namespace {

constexpr std::uint16_t kHttpPort = 80;
constexpr std::uint16_t kHttpsPort = 443;

std::optional<std::uint16_t> parse_port(std::string_view text) {
  std::uint16_t port = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (error != std::errc{} || end != text.data() + text.size() || port == 0) return std::nullopt;
  return port;
}

// Removes "http://" or "https://" and anything from the path on; returns the scheme's port.
std::optional<std::uint16_t> strip_scheme(std::string_view& text) {
  std::optional<std::uint16_t> port;
  if (text.starts_with("http://")) {
    port = kHttpPort;
    text.remove_prefix(7);
  } else if (text.starts_with("https://")) {
    port = kHttpsPort;
    text.remove_prefix(8);
  } else {
    return std::nullopt;
  }
  text = text.substr(0, text.find_first_of("/?#"));
  return port;
}

std::string describe_rule(const policy::Policy& policy, const policy::Decision& decision) {
  if (decision.rule_id == 0) return "no rule";
  std::string action = "allow";
  for (const policy::RuleInfo& rule : policy.rules()) {
    if (rule.id == decision.rule_id && rule.block) action = "block";
  }
  return "rule #" + std::to_string(decision.rule_id) + " " + action + " '" +
         std::string(decision.rule) + "'";
}

std::string decision_line(const char* protocol, const policy::Policy& policy,
                          const policy::Decision& decision) {
  std::string line = "  ";
  line += protocol;
  line.resize(9, ' ');
  line += decision.allowed ? "ALLOWED  " : "DENIED   ";
  return line + describe_rule(policy, decision) + ": " + std::string(decision.reason) + "\n";
}

std::string port_line(const Target& target) {
  if (!target.port) return "Ports:   80 (http) and 443 (https) are served; any other is refused\n";
  const std::string port = "Port " + std::to_string(*target.port) + ": ";
  if (*target.port == kHttpPort) return port + "served (plain HTTP: the http decision applies)\n";
  if (*target.port == kHttpsPort) {
    return port + "served (TLS and CONNECT: the https decision applies)\n";
  }
  return port + "not served: only ports 80 and 443 reach the gateway, so it is refused\n";
}

// A name is connected to by awf's own resolution, which refuses internal addresses.
std::string address_note(const std::string& host) {
  const std::string ip = policy::canonical_ip_literal(host);
  if (ip.empty()) {
    return "Note:    awf resolves the name itself and refuses internal addresses (loopback, "
           "private, link-local, ...) even for an allowed name\n";
  }
  return "Note:    an IP literal is reached only when that address is allowed explicitly\n";
}

}  // namespace

std::optional<Target> parse_target(std::string_view text) {
  Target target;
  target.port = strip_scheme(text);
  std::string_view port_text;
  if (text.starts_with('[')) {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return std::nullopt;
    if (!rest.empty()) port_text = rest.substr(1);
    if (rest == ":") return std::nullopt;
    text = text.substr(0, close + 1);
  } else if (const auto colon = text.rfind(':');
             colon != std::string_view::npos && text.find(':') == colon) {
    port_text = text.substr(colon + 1);
    if (port_text.empty()) return std::nullopt;
    text = text.substr(0, colon);
  }
  if (!port_text.empty()) {
    target.port = parse_port(port_text);
    if (!target.port) return std::nullopt;
  }
  if (text.empty()) return std::nullopt;
  // A name has no space, control byte or URL delimiter: such a target is a typing mistake,
  // not a name the policy could decide.
  for (const unsigned char c : text) {
    if (c <= 0x20 || c == 0x7f || c == '/' || c == '?' || c == '#' || c == '@') return std::nullopt;
  }
  target.host = std::string(text);
  return target;
}

Explanation explain(const policy::Policy& policy, const Target& target) {
  const policy::Decision https = policy.decide(target.host, policy::Protocol::Https);
  const policy::Decision http = policy.decide(target.host, policy::Protocol::Http);
  const policy::Decision dns = policy.decide(target.host, policy::Protocol::Dns);
  Explanation out;
  out.text = "Target:  " + target.host;
  if (target.port) out.text += " (port " + std::to_string(*target.port) + ")";
  out.text += "\nPolicy:  " + std::to_string(policy.allow_rule_count()) + " allow, " +
              std::to_string(policy.block_rule_count()) +
              " block rules; block beats allow; anything else is denied\n\n";
  out.text += decision_line("https", policy, https);
  out.text += decision_line("http", policy, http);
  out.text += decision_line("dns", policy, dns);
  out.text += "\n" + port_line(target);
  std::string verdict;
  if (!target.port) {
    out.allowed = https.allowed || http.allowed;
    verdict = https.allowed && http.allowed ? "http and https"
              : https.allowed               ? "https only"
              : http.allowed                ? "http only"
                                            : "neither http nor https";
  } else if (*target.port == kHttpPort || *target.port == kHttpsPort) {
    const bool plain = *target.port == kHttpPort;
    out.allowed = plain ? http.allowed : https.allowed;
    verdict = std::string(plain ? "http" : "https") + " on port " + std::to_string(*target.port);
  } else {
    verdict = "port " + std::to_string(*target.port) + " is not served";
  }
  if (out.allowed) out.text += address_note(target.host);
  out.text +=
      std::string("Verdict: ") + (out.allowed ? "ALLOWED" : "DENIED") + " (" + verdict + ")\n";
  return out;
}

}  // namespace awf::logs
