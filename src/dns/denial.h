// How a denied name is answered. NXDOMAIN, not REFUSED: resolvers report REFUSED as a temporary
// failure (glibc's EAI_AGAIN, "Temporary failure in name resolution"), so agents retry and blame
// the network, and glibc asks every listed server again; NXDOMAIN fails the lookup at once
// ("Could not resolve host", "Name or service not known"). A client that sent EDNS also gets
// the reason as an Extended DNS Error (RFC 8914, code 15 "Blocked"), which dig and kdig print.
// Pure logic.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace awf::dns {

// The answer to `query` (which must parse with parse_query()) for a name the policy denies:
// NXDOMAIN with the question echoed, plus an OPT record carrying `why` as the EDE's text when
// the query had one. Empty when the query does not parse.
std::vector<std::uint8_t> make_denied_response(std::span<const std::uint8_t> query,
                                               const std::string& why);

}  // namespace awf::dns
