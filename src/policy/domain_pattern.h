// Internal to src/policy: validating one allow/block entry, normalizing host names into a
// fixed buffer (no heap allocation for ASCII names) and glob matching. Pure logic, no I/O.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace awf::policy::detail {

inline constexpr std::size_t kMaxNameLength = 253;
inline constexpr std::size_t kMaxLabelLength = 63;
// Longest raw (UTF-8) host accepted before IDN conversion; anything longer cannot fit in 253
// bytes of punycode anyway.
inline constexpr std::size_t kMaxRawHostLength = 1024;

// An IP address as 16 bytes; IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) so that the v4 and the
// v4-mapped v6 spelling of one destination compare equal.
using IpBytes = std::array<std::uint8_t, 16>;

enum class NameStatus {
  kOk,
  kEmpty,
  kEmptyLabel,
  kLabelTooLong,
  kNameTooLong,
  kBadCharacter,
  kBadIdn,
  kWildcardNonAscii,
};

struct NameBuffer {
  char data[kMaxNameLength + 1];
  std::size_t size = 0;
  std::string_view view() const { return {data, size}; }
};

// Lowercases, removes one trailing dot, converts non-ASCII labels to punycode (libidn2) and
// validates: labels of 1..63 bytes of [a-z0-9_-] (plus '*' when allow_wildcard), at most 253
// bytes in all.
NameStatus normalize_name(std::string_view in, bool allow_wildcard, NameBuffer& out);

// True when the last label of a normalized name is numeric (decimal digits, or 0x + hex digits):
// such a name can only be an IPv4 address (WHATWG URL rule), never a host name.
bool has_numeric_last_label(std::string_view name);

// Strict IP literal parse (inet_pton): dotted-quad IPv4, or IPv6 optionally in brackets.
bool parse_ip_literal(std::string_view text, IpBytes& out);

// Display form of an address produced by parse_ip_literal (v4-mapped shown as IPv4).
std::string ip_to_string(const IpBytes& ip);

enum class HostKind { kInvalid, kName, kIp };

// Classifies a requested host: a valid normalized name (in `name`), an IP literal (in `ip`),
// or invalid. Never throws.
HostKind classify_host(std::string_view host, NameBuffer& name, IpBytes& ip) noexcept;

// Full-string glob match where '*' matches any (possibly empty) run of characters. Both sides
// are normalized host text. Leftmost-first segment search: O(len(text) * len(pattern)) worst.
bool glob_match(std::string_view pattern, std::string_view text) noexcept;

enum class ListKind { kAllow, kBlock };

inline constexpr std::uint8_t kProtoHttp = 1;
inline constexpr std::uint8_t kProtoHttps = 2;
inline constexpr std::uint8_t kProtoBoth = kProtoHttp | kProtoHttps;

enum class EntryKind { kName, kWildcard, kIp };

struct Entry {
  std::string rule;  // as written: trimmed, one trailing '/' removed
  EntryKind kind = EntryKind::kName;
  std::uint8_t protocols = kProtoBoth;
  std::string name;              // normalized name or wildcard pattern (lowercase punycode)
  std::size_t suffix_start = 0;  // wildcard: offset of the literal suffix in `name`
  IpBytes ip{};                  // kIp
};

// Parses and validates one entry; throws PolicyError quoting the entry on any problem.
Entry parse_entry(std::string_view raw, ListKind list);

// `'entry'` with control bytes escaped as \xNN, for error messages.
std::string quote_entry(std::string_view entry);

// Trims spaces, tabs, CR and LF on both sides.
std::string_view trim(std::string_view s) noexcept;

}  // namespace awf::policy::detail
