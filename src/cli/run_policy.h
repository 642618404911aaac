// What a run enforces, from the options and the files they name: the domain policy (with the
// API proxy's targets), the DNS upstreams, and the policy manifest that states both.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/options.h"
#include "dns/resolver.h"
#include "peers/peer_plan.h"
#include "policy/policy.h"

namespace awf::cli {

// The contents of a file a flag names. Throws UsageError naming `flag` when it is unreadable.
std::string read_input_file(const std::string& path, const char* flag);

// --allow-domains, --block-domains, their files and --ruleset-file, plus `extra_allow`: names
// awf allows on the user's behalf (the API proxy's chosen targets). Throws UsageError.
policy::Policy build_policy(const Options& options, const std::vector<std::string>& extra_allow);

// Warnings about what a policy opens that the user may not have meant (stderr, unless
// --log-level error): an allow entry that is an internal address (loopback reaches the host's
// own services, 169.254.169.254 the cloud metadata service), and --enable-host-access turned
// off by a block rule that covers host.docker.internal.
void warn_about_policy(const Options& options, const policy::Policy& policy);

struct DnsSettings {
  std::vector<std::string> servers;  // --dns-servers, as the resolver takes them
  std::optional<dns::DohUrl> doh;    // --dns-over-https
};

// Throws UsageError naming the flag of an unusable value.
DnsSettings dns_settings(const Options& options);

// Sends the resolver's queries over HTTPS when --dns-over-https is given.
void use_dns_over_https(dns::Resolver& resolver, const DnsSettings& dns, const Options& options);

// The policy manifest (audit_files.h) of this run.
std::string run_manifest(const Options& options, const policy::Policy& policy,
                         const dns::Resolver& resolver, const std::vector<peers::Peer>& peers);

}  // namespace awf::cli
