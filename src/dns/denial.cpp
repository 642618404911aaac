#include "dns/denial.h"

#include "dns/message.h"
#include "dns/upstream_query.h"
#include "dns/wire.h"

namespace awf::dns {
namespace {

using wire::put16;

constexpr std::uint16_t kTypeOpt = 41;
constexpr std::uint16_t kOptionEde = 15;
constexpr std::uint16_t kEdeBlocked = 15;
// Keeps the answer far below 512 bytes, the smallest size any client accepts.
constexpr std::size_t kMaxWhyBytes = 200;

}  // namespace

std::vector<std::uint8_t> make_denied_response(std::span<const std::uint8_t> query,
                                               const std::string& why) {
  if (!parse_query(query)) return {};
  std::vector<std::uint8_t> out = make_local_response(query, kRcodeNxDomain);
  const auto edns = find_edns(query);
  if (!edns) return out;
  const std::string text = why.substr(0, kMaxWhyBytes);
  out[11] = 1;       // ARCOUNT
  out.push_back(0);  // the root
  put16(out, kTypeOpt);
  put16(out, kMaxUpstreamUdpSize);
  put16(out, 0);  // extended rcode 0, version 0
  put16(out, 0);  // flags
  put16(out, static_cast<std::uint16_t>(4 + 2 + text.size()));
  put16(out, kOptionEde);
  put16(out, static_cast<std::uint16_t>(2 + text.size()));
  put16(out, kEdeBlocked);
  out.insert(out.end(), text.begin(), text.end());
  return out;
}

}  // namespace awf::dns
