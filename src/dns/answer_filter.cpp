#include "dns/answer_filter.h"

#include <arpa/inet.h>

#include <cstring>
#include <optional>

#include "dns/wire.h"
#include "policy/address_class.h"
#include "policy/host_addresses.h"

namespace awf::dns {
namespace {

using wire::kHeaderBytes;
using wire::read16;
using wire::read_name;

constexpr std::uint16_t kTypeA = 1;
constexpr std::uint16_t kTypeAaaa = 28;
constexpr std::uint16_t kClassIn = 1;

struct Record {
  std::vector<std::uint8_t> name;  // uncompressed
  std::uint16_t type = 0;
  std::uint16_t klass = 0;
  std::size_t fixed_at = 0;  // offset of TYPE in the message
  std::uint16_t rdlength = 0;
  std::size_t rdata_at = 0;
  std::optional<std::string> internal;  // address text when the record is an internal A/AAAA
};

std::optional<std::string> internal_address(std::span<const std::uint8_t> m, const Record& r,
                                            const policy::HostAddresses* host) {
  char text[INET6_ADDRSTRLEN] = {};
  if (r.klass != kClassIn) return std::nullopt;
  if (r.type == kTypeA && r.rdlength == 4) {
    in_addr address{};
    std::memcpy(&address, &m[r.rdata_at], 4);
    if (!policy::internal_address_reason(address) && !(host && host->contains(address))) {
      return std::nullopt;
    }
    inet_ntop(AF_INET, &address, text, sizeof text);
    return std::string(text);
  }
  if (r.type == kTypeAaaa && r.rdlength == 16) {
    in6_addr address{};
    std::memcpy(&address, &m[r.rdata_at], 16);
    if (!policy::internal_address_reason(address) && !(host && host->contains(address))) {
      return std::nullopt;
    }
    inet_ntop(AF_INET6, &address, text, sizeof text);
    return std::string(text);
  }
  return std::nullopt;
}

}  // namespace

FilteredAnswer filter_internal_answers(std::span<const std::uint8_t> m,
                                       const policy::HostAddresses* host) {
  FilteredAnswer out;
  if (m.size() < kHeaderBytes) {
    out.result = FilteredAnswer::Result::Malformed;
    return out;
  }
  const std::uint16_t questions = read16(m, 4);
  const std::size_t counts[3] = {read16(m, 6), read16(m, 8), read16(m, 10)};
  std::size_t pos = kHeaderBytes;
  // Questions kept uncompressed for a rebuild: a name may point anywhere, the header
  // included, whose counts a rebuild changes.
  std::vector<std::uint8_t> question_section;
  for (std::uint16_t i = 0; i < questions; ++i) {
    std::size_t next = 0;
    const auto name = read_name(m, pos, next);
    if (!name || next + 4 > m.size()) {
      out.result = FilteredAnswer::Result::Malformed;
      return out;
    }
    question_section.insert(question_section.end(), name->begin(), name->end());
    question_section.insert(question_section.end(), m.begin() + static_cast<std::ptrdiff_t>(next),
                            m.begin() + static_cast<std::ptrdiff_t>(next + 4));
    pos = next + 4;
  }
  std::vector<Record> answers;
  bool any_internal = false;
  for (int section = 0; section < 3; ++section) {
    for (std::size_t i = 0; i < counts[section]; ++i) {
      Record record;
      std::size_t next = 0;
      auto name = read_name(m, pos, next);
      if (!name || next + 10 > m.size()) {
        out.result = FilteredAnswer::Result::Malformed;
        return out;
      }
      record.name = std::move(*name);
      record.fixed_at = next;
      record.type = read16(m, next);
      record.klass = read16(m, next + 2);
      record.rdlength = read16(m, next + 8);
      record.rdata_at = next + 10;
      if (record.rdata_at + record.rdlength > m.size()) {
        out.result = FilteredAnswer::Result::Malformed;
        return out;
      }
      pos = record.rdata_at + record.rdlength;
      record.internal = internal_address(m, record, host);
      if (record.internal) {
        any_internal = true;
        out.removed.push_back(*record.internal);
      }
      if (section == 0) answers.push_back(std::move(record));
    }
  }
  if (!any_internal) return out;

  out.result = FilteredAnswer::Result::Filtered;
  std::vector<std::uint8_t>& message = out.message;
  message.assign(m.begin(), m.begin() + static_cast<std::ptrdiff_t>(kHeaderBytes));
  message.insert(message.end(), question_section.begin(), question_section.end());
  std::uint16_t kept = 0;
  for (const Record& record : answers) {
    if (record.internal) continue;
    // Owner names are written uncompressed, so records move. RDATA that may hold compressed
    // names (CNAME, MX, ...) could then point at bytes that moved or went away: only records
    // whose RDATA holds no names are kept in a rebuilt answer.
    const bool opaque_rdata =
        record.type == kTypeA || record.type == kTypeAaaa || record.type == 16 /* TXT */;
    if (!opaque_rdata) continue;
    message.insert(message.end(), record.name.begin(), record.name.end());
    message.insert(message.end(), m.begin() + static_cast<std::ptrdiff_t>(record.fixed_at),
                   m.begin() + static_cast<std::ptrdiff_t>(record.rdata_at + record.rdlength));
    ++kept;
  }
  message[6] = static_cast<std::uint8_t>(kept >> 8);  // ANCOUNT
  message[7] = static_cast<std::uint8_t>(kept & 0xff);
  for (std::size_t at = 8; at < 12; ++at) message[at] = 0;  // authority, additional dropped
  return out;
}

}  // namespace awf::dns
