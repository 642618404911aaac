// `awf policy explain HOST[:PORT]`: which rule allows or denies a target, and why, for each
// way the sandbox can reach it. Pure: the caller builds the policy from the flags.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "policy/policy.h"

namespace awf::logs {

struct Target {
  std::string host;
  std::optional<std::uint16_t> port;
};

// "host", "host:443", "[2001:db8::1]:443", "2001:db8::1", "https://host/path" (port from the
// scheme unless given). nullopt for an empty host, a host with a space, a control byte or a URL
// delimiter, or a bad port.
std::optional<Target> parse_target(std::string_view text);

struct Explanation {
  std::string text;
  bool allowed = false;  // on the target's port; without one, for http or https
};

// The gateway serves ports 80 (plain HTTP) and 443 (TLS, CONNECT) only.
Explanation explain(const policy::Policy& policy, const Target& target);

}  // namespace awf::logs
