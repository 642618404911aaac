#include "dns/upstream_query.h"

#include <algorithm>

#include "dns/message.h"
#include "dns/wire.h"

namespace awf::dns {
namespace {

using wire::kHeaderBytes;
using wire::put16;
using wire::read16;

constexpr std::uint16_t kTypeOpt = 41;
constexpr std::uint16_t kPassedFlags = 0x0100 | 0x0020 | 0x0010;  // RD, AD, CD
constexpr std::uint16_t kDnssecOk = 0x8000;                       // in the OPT TTL's low half

std::uint8_t lower(std::uint8_t c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<std::uint8_t>(c - 'A' + 'a') : c;
}

// "a.example" -> 1 'a' 7 'example' 0. The name is plain (parse_query's name_ok).
void put_name(std::vector<std::uint8_t>& out, const std::string& dotted) {
  std::size_t start = 0;
  while (start < dotted.size()) {
    const std::size_t dot = std::min(dotted.find('.', start), dotted.size());
    out.push_back(static_cast<std::uint8_t>(dot - start));
    out.insert(out.end(), dotted.begin() + static_cast<std::ptrdiff_t>(start),
               dotted.begin() + static_cast<std::ptrdiff_t>(dot));
    start = dot + 1;
  }
  out.push_back(0);
}

}  // namespace

std::optional<EdnsRequest> find_edns(std::span<const std::uint8_t> query) {
  if (query.size() < kHeaderBytes) return std::nullopt;
  std::size_t pos = 0;
  if (!wire::read_name(query, kHeaderBytes, pos) || pos + 4 > query.size()) return std::nullopt;
  pos += 4;
  const unsigned before_additional = read16(query, 6) + read16(query, 8);
  const unsigned records = before_additional + read16(query, 10);
  for (unsigned i = 0; i < records; ++i) {
    std::size_t next = 0;
    const auto owner = wire::read_name(query, pos, next);
    if (!owner || next + 10 > query.size()) return std::nullopt;
    const std::uint16_t type = read16(query, next);
    const std::size_t end = next + 10 + read16(query, next + 8);
    if (end > query.size()) return std::nullopt;
    if (i >= before_additional && type == kTypeOpt && owner->size() == 1) {
      const std::uint16_t size = read16(query, next + 2);
      return EdnsRequest{std::clamp<std::uint16_t>(size, 512, kMaxUpstreamUdpSize),
                         (read16(query, next + 6) & kDnssecOk) != 0};
    }
    pos = end;
  }
  return std::nullopt;
}

std::vector<std::uint8_t> make_upstream_query(std::span<const std::uint8_t> query) {
  const std::optional<Query> parsed = parse_query(query);
  if (!parsed || !parsed->question.name_ok) return {};
  const std::optional<EdnsRequest> edns = find_edns(query);
  std::vector<std::uint8_t> out;
  out.reserve(kHeaderBytes + parsed->question.name.size() + 2 + 4 + 11);
  put16(out, parsed->id);
  put16(out, parsed->flags & kPassedFlags);
  put16(out, 1);             // QDCOUNT
  put16(out, 0);             // ANCOUNT
  put16(out, 0);             // NSCOUNT
  put16(out, edns ? 1 : 0);  // ARCOUNT
  put_name(out, parsed->question.name);
  put16(out, parsed->question.qtype);
  put16(out, parsed->question.qclass);
  if (edns) {
    out.push_back(0);  // the root
    put16(out, kTypeOpt);
    put16(out, edns->udp_size);
    put16(out, 0);  // extended rcode 0, version 0
    put16(out, edns->dnssec_ok ? kDnssecOk : 0);
    put16(out, 0);  // no options
  }
  return out;
}

void restore_question_case(std::span<std::uint8_t> response, std::span<const std::uint8_t> query) {
  std::size_t query_end = 0;
  std::size_t response_end = 0;
  const auto asked = wire::read_name(query, kHeaderBytes, query_end);
  const auto echoed = wire::read_name(response, kHeaderBytes, response_end);
  if (!asked || !echoed || asked->size() != echoed->size()) return;
  // Uncompressed in the response: the name's bytes are where it was read from.
  if (response_end != kHeaderBytes + echoed->size()) return;
  if (!std::equal(asked->begin(), asked->end(), echoed->begin(),
                  [](std::uint8_t a, std::uint8_t b) { return lower(a) == lower(b); })) {
    return;
  }
  std::copy(asked->begin(), asked->end(), response.begin() + kHeaderBytes);
}

}  // namespace awf::dns
