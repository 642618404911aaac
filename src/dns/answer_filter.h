// DNS rebinding defence: an allowed name must not hand the command an internal address
// (loopback, the metadata service, the LAN). Upstream answers are checked before they are
// relayed; internal A/AAAA records are removed, and so are the host's own addresses when a
// set of them is given (a daemon on 0.0.0.0 answers on a public address too). Pure logic on
// untrusted bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace awf::policy {
class HostAddresses;
}

namespace awf::dns {

struct FilteredAnswer {
  enum class Result {
    Unchanged,  // no internal address anywhere: relay the upstream bytes as they are
    Filtered,   // `message` is a rebuilt answer without the internal records
    Malformed,  // the answer could not be parsed: answer SERVFAIL instead
  } result = Result::Unchanged;
  std::vector<std::uint8_t> message;  // the rebuilt answer when Filtered
  std::vector<std::string> removed;   // the removed addresses, for the log
};

// Looks at every A/AAAA record of `response` (all three sections). When one is internal, the
// answer is rebuilt: the header as received, the question and the answer records without the
// internal ones (all names written uncompressed), authority and additional sections dropped.
FilteredAnswer filter_internal_answers(std::span<const std::uint8_t> response,
                                       const policy::HostAddresses* host = nullptr);

}  // namespace awf::dns
