#include "dns/lookup.h"

#include <algorithm>
#include <optional>

#include "dns/wire.h"

namespace awf::dns {
namespace {

using wire::kHeaderBytes;
using wire::put16;
using wire::kMaxNameWireBytes;
using wire::read16;
using wire::read_name;

constexpr std::uint16_t kTypeCname = 5;
constexpr std::uint16_t kClassIn = 1;
constexpr std::uint16_t kFlagQr = 0x8000;
constexpr std::uint16_t kFlagRd = 0x0100;
// CNAME hops followed from the name asked (resolvers stop well before this).
constexpr int kMaxChain = 16;

std::optional<std::vector<std::uint8_t>> name_wire(std::string_view name) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  std::vector<std::uint8_t> out;
  while (!name.empty()) {
    const std::size_t dot = name.find('.');
    const std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > 63) return std::nullopt;
    out.push_back(static_cast<std::uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    if (dot == std::string_view::npos) break;
    name.remove_prefix(dot + 1);
    if (name.empty()) return std::nullopt;  // "a..": an empty label
  }
  out.push_back(0);
  if (out.size() > kMaxNameWireBytes) return std::nullopt;
  return out;
}

void lowercase(std::vector<std::uint8_t>& wire) {
  for (std::uint8_t& c : wire) {
    if (c >= 'A' && c <= 'Z') c = static_cast<std::uint8_t>(c - 'A' + 'a');
  }
}

struct Record {
  std::vector<std::uint8_t> owner;  // uncompressed, lowercase
  std::uint16_t type = 0;
  std::uint16_t klass = 0;
  std::uint32_t ttl = 0;
  std::size_t rdata_at = 0;
  std::uint16_t rdlength = 0;
};

LookupAnswer failure(std::string error) {
  LookupAnswer answer;
  answer.error = std::move(error);
  return answer;
}

// The records of the answer section, past the questions; nullopt when `m` does not parse.
std::optional<std::vector<Record>> read_answer_records(std::span<const std::uint8_t> m) {
  const std::uint16_t questions = read16(m, 4);
  const std::uint16_t answers = read16(m, 6);
  std::size_t pos = kHeaderBytes;
  for (std::uint16_t i = 0; i < questions; ++i) {
    std::size_t next = 0;
    if (!read_name(m, pos, next) || next + 4 > m.size()) return std::nullopt;
    pos = next + 4;
  }
  std::vector<Record> records;
  for (std::uint16_t i = 0; i < answers; ++i) {
    std::size_t next = 0;
    auto owner = read_name(m, pos, next);
    if (!owner || next + 10 > m.size()) return std::nullopt;
    Record record;
    record.owner = std::move(*owner);
    lowercase(record.owner);
    record.type = read16(m, next);
    record.klass = read16(m, next + 2);
    record.ttl = (static_cast<std::uint32_t>(read16(m, next + 4)) << 16) | read16(m, next + 6);
    record.rdlength = read16(m, next + 8);
    record.rdata_at = next + 10;
    if (record.rdata_at + record.rdlength > m.size()) return std::nullopt;
    pos = record.rdata_at + record.rdlength;
    records.push_back(std::move(record));
  }
  return records;
}

// The smallest TTL of the records used.
struct TtlFloor {
  std::uint32_t& ttl;
  bool set = false;
  void take(std::uint32_t value) {
    ttl = set ? std::min(ttl, value) : value;
    set = true;
  }
};

// The names the CNAME chain from `owners[0]` reaches, appended to `owners`. Follows one hop
// per pass: each pass adds the target of a CNAME owned by the name the chain has reached so
// far. False for a malformed CNAME record.
bool follow_cnames(std::span<const std::uint8_t> m, const std::vector<Record>& records,
                   std::vector<std::vector<std::uint8_t>>& owners, TtlFloor& ttl) {
  for (int hop = 0; hop < kMaxChain; ++hop) {
    bool extended = false;
    for (const Record& record : records) {
      if (record.type != kTypeCname || record.klass != kClassIn || record.owner != owners.back()) {
        continue;
      }
      std::size_t next = 0;
      auto target = read_name(m, record.rdata_at, next);
      if (!target || next != record.rdata_at + record.rdlength) return false;
      lowercase(*target);
      if (std::find(owners.begin(), owners.end(), *target) != owners.end()) break;  // a loop
      owners.push_back(std::move(*target));
      ttl.take(record.ttl);
      extended = true;
      break;
    }
    if (!extended) break;
  }
  return true;
}

// The `qtype` addresses owned by one of `owners`.
void collect_addresses(std::span<const std::uint8_t> m, const std::vector<Record>& records,
                       const std::vector<std::vector<std::uint8_t>>& owners, std::uint16_t qtype,
                       LookupAnswer& answer, TtlFloor& ttl) {
  for (const Record& record : records) {
    if (record.type != qtype || record.klass != kClassIn ||
        std::find(owners.begin(), owners.end(), record.owner) == owners.end()) {
      continue;
    }
    if (qtype == kTypeA && record.rdlength == 4) {
      std::array<std::uint8_t, 4> address{};
      std::copy_n(m.begin() + static_cast<std::ptrdiff_t>(record.rdata_at), 4, address.begin());
      answer.v4.push_back(address);
      ttl.take(record.ttl);
    } else if (qtype == kTypeAaaa && record.rdlength == 16) {
      std::array<std::uint8_t, 16> address{};
      std::copy_n(m.begin() + static_cast<std::ptrdiff_t>(record.rdata_at), 16, address.begin());
      answer.v6.push_back(address);
      ttl.take(record.ttl);
    }
  }
}

}  // namespace

std::vector<std::uint8_t> make_lookup_query(std::string_view name, std::uint16_t qtype,
                                            std::uint16_t id) {
  const auto wire = name_wire(name);
  if (!wire || wire->size() == 1) return {};
  std::vector<std::uint8_t> out;
  out.reserve(kHeaderBytes + wire->size() + 4);
  put16(out, id);
  put16(out, kFlagRd);
  put16(out, 1);  // QDCOUNT
  put16(out, 0);
  put16(out, 0);
  put16(out, 0);
  out.insert(out.end(), wire->begin(), wire->end());
  put16(out, qtype);
  put16(out, kClassIn);
  return out;
}

LookupAnswer read_lookup_answer(std::span<const std::uint8_t> m, std::string_view name,
                                std::uint16_t qtype) {
  auto asked = name_wire(name);
  if (!asked) return failure("unusable name");
  lowercase(*asked);
  if (m.size() < kHeaderBytes) return failure("answer shorter than a DNS header");
  if ((read16(m, 2) & kFlagQr) == 0) return failure("not an answer");
  const std::optional<std::vector<Record>> records = read_answer_records(m);
  if (!records) return failure("malformed answer");

  LookupAnswer answer;
  answer.parsed = true;
  answer.rcode = static_cast<std::uint8_t>(m[3] & 0x0f);
  std::vector<std::vector<std::uint8_t>> owners{*asked};
  TtlFloor ttl{answer.ttl};
  if (!follow_cnames(m, *records, owners, ttl)) return failure("malformed CNAME record");
  collect_addresses(m, *records, owners, qtype, answer, ttl);
  return answer;
}

}  // namespace awf::dns
