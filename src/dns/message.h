// DNS wire format, the parts the stub server needs: read the question of a query, build a
// local answer (REFUSED, SERVFAIL, ...). Pure logic; untrusted input, so bounds-checked.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace awf::dns {

inline constexpr std::uint8_t kRcodeNoError = 0;
inline constexpr std::uint8_t kRcodeFormErr = 1;
inline constexpr std::uint8_t kRcodeServFail = 2;
inline constexpr std::uint8_t kRcodeNxDomain = 3;
inline constexpr std::uint8_t kRcodeNotImp = 4;
inline constexpr std::uint8_t kRcodeRefused = 5;

struct Question {
  // Dotted, lowercase, no trailing dot ("" for the root). Only filled when every label is a
  // plain host-name label ([A-Za-z0-9_-], 1..63 bytes): a label holding a '.', a space or any
  // other byte makes parse_query() return a query with name_ok = false.
  std::string name;
  bool name_ok = false;
  std::uint16_t qtype = 0;
  std::uint16_t qclass = 0;
};

struct Query {
  std::uint16_t id = 0;
  std::uint16_t flags = 0;  // header flags word as received
  Question question;
};

// Parses a query: QR = 0, opcode QUERY, exactly one question. Compression pointers are
// followed (bounded). Answer/authority/additional sections are not interpreted (EDNS OPT is
// allowed). Returns nullopt when the message is not such a query or is truncated.
std::optional<Query> parse_query(std::span<const std::uint8_t> message);

// Builds a response to `query` answered locally: same ID, RD copied, QR=1, RA=1, the given
// rcode, the question echoed, no records. `query` must have parsed with parse_query(); when
// it did not, a bare header-only response is built from the first 12 bytes (if present, else
// empty vector).
std::vector<std::uint8_t> make_local_response(std::span<const std::uint8_t> query,
                                              std::uint8_t rcode);

// Builds a local authoritative answer to `query` (which must parse with parse_query()): for
// an A (or ANY) question of class IN, one A record with `ipv4` and `ttl`; for any other type
// NOERROR without records ("no data"). Empty vector when the query does not parse.
std::vector<std::uint8_t> make_address_response(std::span<const std::uint8_t> query,
                                                const std::uint8_t (&ipv4)[4],
                                                std::uint32_t ttl);

// Reads the rcode of a response (low 4 bits of the flags), nullopt when shorter than a header.
std::optional<std::uint8_t> response_rcode(std::span<const std::uint8_t> message);

// Overwrites the ID of a message (no-op when shorter than 2 bytes).
void set_message_id(std::span<std::uint8_t> message, std::uint16_t id);

// "A", "AAAA", "TXT", ... or "TYPE<n>".
std::string qtype_name(std::uint16_t qtype);
// "NOERROR", "REFUSED", ... or "RCODE<n>".
std::string rcode_name(std::uint8_t rcode);

}  // namespace awf::dns
