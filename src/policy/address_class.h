// Classifies resolved addresses: the proxy refuses to connect to internal ones even for an
// allowed name (SSRF to the metadata service, host daemons, the LAN). Pure logic.
#pragma once

#include <netinet/in.h>

#include <optional>
#include <string>
#include <string_view>

namespace awf::policy {

// nullopt for a public address; otherwise a short reason such as "loopback",
// "link-local (cloud metadata)", "private (RFC 1918)", "shared address space (RFC 6598)",
// "unique local (fc00::/7)", "multicast", "unspecified", "reserved", "IPv4-mapped loopback".
std::optional<std::string> internal_address_reason(const in_addr& addr);
std::optional<std::string> internal_address_reason(const in6_addr& addr);

// Parses an IPv4 or IPv6 literal (IPv6 may be in brackets) and returns its canonical text
// (inet_ntop form), or "" when `text` is not an IP literal.
std::string canonical_ip_literal(std::string_view text);

}  // namespace awf::policy
