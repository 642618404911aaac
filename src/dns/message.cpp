#include "dns/message.h"

#include <array>

#include "dns/wire.h"

namespace awf::dns {
namespace {

using wire::kHeaderBytes;
using wire::put16;
using wire::kMaxNameWireBytes;
using wire::kMaxPointerHops;
using wire::read16;

constexpr std::uint16_t kFlagQr = 0x8000;
constexpr std::uint16_t kFlagRd = 0x0100;
constexpr std::uint16_t kFlagRa = 0x0080;
constexpr std::uint16_t kOpcodeMask = 0x7800;

bool plain_label_char(std::uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

struct Parsed {
  Query query;
  // The question name as on the wire, decompressed, with the case the client sent (echoed
  // as is: resolvers using 0x20 case randomization check it).
  std::vector<std::uint8_t> name_wire;
};

std::optional<Parsed> parse(std::span<const std::uint8_t> m) {
  if (m.size() < kHeaderBytes) return std::nullopt;
  Parsed p;
  p.query.id = read16(m, 0);
  p.query.flags = read16(m, 2);
  if ((p.query.flags & kFlagQr) != 0) return std::nullopt;
  if ((p.query.flags & kOpcodeMask) != 0) return std::nullopt;
  if (read16(m, 4) != 1) return std::nullopt;

  std::size_t pos = kHeaderBytes;  // where the next label is read
  std::size_t end = 0;             // where the question continues after the name
  bool jumped = false;
  int hops = 0;
  bool ok = true;
  std::string name;
  while (true) {
    if (pos >= m.size()) return std::nullopt;
    const std::uint8_t len = m[pos];
    if ((len & 0xc0) == 0xc0) {
      if (pos + 1 >= m.size()) return std::nullopt;
      if (++hops > kMaxPointerHops) return std::nullopt;
      if (!jumped) end = pos + 2;
      jumped = true;
      pos = static_cast<std::size_t>(read16(m, pos) & 0x3fff);
      continue;
    }
    if ((len & 0xc0) != 0) return std::nullopt;  // 0x40 / 0x80: obsolete or reserved
    if (p.name_wire.size() + 1 + len > kMaxNameWireBytes) return std::nullopt;
    if (len == 0) {
      p.name_wire.push_back(0);
      if (!jumped) end = pos + 1;
      break;
    }
    if (pos + 1 + len > m.size()) return std::nullopt;
    const auto label = m.subspan(pos + 1, len);
    p.name_wire.push_back(len);
    p.name_wire.insert(p.name_wire.end(), label.begin(), label.end());
    if (!name.empty()) name.push_back('.');
    for (std::uint8_t c : label) {
      if (!plain_label_char(c)) ok = false;
      name.push_back(static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c));
    }
    pos += 1 + len;
  }
  if (end + 4 > m.size()) return std::nullopt;
  p.query.question.qtype = read16(m, end);
  p.query.question.qclass = read16(m, end + 2);
  p.query.question.name_ok = ok;
  if (ok) p.query.question.name = std::move(name);
  return p;
}

}  // namespace

std::optional<Query> parse_query(std::span<const std::uint8_t> message) {
  auto parsed = parse(message);
  if (!parsed) return std::nullopt;
  return std::move(parsed->query);
}

std::vector<std::uint8_t> make_local_response(std::span<const std::uint8_t> query,
                                              std::uint8_t rcode) {
  std::vector<std::uint8_t> out;
  if (query.size() < kHeaderBytes) return out;
  const auto parsed = parse(query);
  const std::uint16_t in_flags = read16(query, 2);
  const auto flags = static_cast<std::uint16_t>(kFlagQr | (in_flags & kOpcodeMask) |
                                                (in_flags & kFlagRd) | kFlagRa | (rcode & 0x0f));
  out.reserve(kHeaderBytes + (parsed ? parsed->name_wire.size() + 4 : 0));
  put16(out, read16(query, 0));
  put16(out, flags);
  put16(out, parsed ? 1 : 0);  // QDCOUNT
  put16(out, 0);               // ANCOUNT
  put16(out, 0);               // NSCOUNT
  put16(out, 0);               // ARCOUNT
  if (parsed) {
    out.insert(out.end(), parsed->name_wire.begin(), parsed->name_wire.end());
    put16(out, parsed->query.question.qtype);
    put16(out, parsed->query.question.qclass);
  }
  return out;
}

std::vector<std::uint8_t> make_address_response(std::span<const std::uint8_t> query,
                                                const std::uint8_t (&ipv4)[4],
                                                std::uint32_t ttl) {
  if (!parse(query)) return {};
  std::vector<std::uint8_t> out = make_local_response(query, kRcodeNoError);
  const Question question = parse(query)->query.question;
  constexpr std::uint16_t kTypeA = 1;
  constexpr std::uint16_t kTypeAny = 255;
  constexpr std::uint16_t kClassIn = 1;
  constexpr std::uint16_t kFlagAa = 0x0400;
  out[2] = static_cast<std::uint8_t>(out[2] | (kFlagAa >> 8));
  if ((question.qtype != kTypeA && question.qtype != kTypeAny) || question.qclass != kClassIn) {
    return out;
  }
  out[7] = 1;  // ANCOUNT
  put16(out, 0xc000 | kHeaderBytes);  // the name: a pointer to the question's
  put16(out, kTypeA);
  put16(out, kClassIn);
  put16(out, static_cast<std::uint16_t>(ttl >> 16));
  put16(out, static_cast<std::uint16_t>(ttl & 0xffff));
  put16(out, 4);
  out.insert(out.end(), ipv4, ipv4 + 4);
  return out;
}

std::optional<std::uint8_t> response_rcode(std::span<const std::uint8_t> message) {
  if (message.size() < kHeaderBytes) return std::nullopt;
  return static_cast<std::uint8_t>(message[3] & 0x0f);
}

void set_message_id(std::span<std::uint8_t> message, std::uint16_t id) {
  if (message.size() < 2) return;
  message[0] = static_cast<std::uint8_t>(id >> 8);
  message[1] = static_cast<std::uint8_t>(id & 0xff);
}

std::string qtype_name(std::uint16_t qtype) {
  struct Entry {
    std::uint16_t type;
    const char* name;
  };
  static constexpr std::array<Entry, 28> kTypes = {{
      {1, "A"},      {2, "NS"},      {5, "CNAME"},  {6, "SOA"},    {12, "PTR"},  {13, "HINFO"},
      {15, "MX"},    {16, "TXT"},    {17, "RP"},    {18, "AFSDB"}, {28, "AAAA"}, {29, "LOC"},
      {33, "SRV"},   {35, "NAPTR"},  {39, "DNAME"}, {41, "OPT"},   {43, "DS"},   {46, "RRSIG"},
      {47, "NSEC"},  {48, "DNSKEY"}, {50, "NSEC3"}, {52, "TLSA"},  {64, "SVCB"}, {65, "HTTPS"},
      {251, "IXFR"}, {252, "AXFR"},  {255, "ANY"},  {257, "CAA"},
  }};
  for (const auto& e : kTypes) {
    if (e.type == qtype) return e.name;
  }
  return "TYPE" + std::to_string(qtype);
}

std::string rcode_name(std::uint8_t rcode) {
  static constexpr std::array<const char*, 11> kNames = {
      "NOERROR",  "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
      "YXDOMAIN", "YXRRSET", "NXRRSET",  "NOTAUTH",  "NOTZONE"};
  if (rcode < kNames.size()) return kNames[rcode];
  return "RCODE" + std::to_string(rcode);
}

}  // namespace awf::dns
