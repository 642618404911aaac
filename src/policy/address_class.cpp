#include "policy/address_class.h"

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>

namespace awf::policy {
namespace {

std::optional<std::string> classify_v4(std::uint32_t a) {
  const auto in = [a](std::uint32_t net, int bits) {
    const std::uint32_t mask = bits == 0 ? 0 : ~std::uint32_t{0} << (32 - bits);
    return (a & mask) == net;
  };
  if (in(0x00000000, 8)) return "unspecified/this network";
  if (in(0x0a000000, 8) || in(0xac100000, 12) || in(0xc0a80000, 16)) return "private (RFC 1918)";
  if (in(0x64400000, 10)) return "shared address space (RFC 6598)";
  if (in(0x7f000000, 8)) return "loopback";
  if (in(0xa9fe0000, 16)) return "link-local (cloud metadata)";
  if (in(0xe0000000, 4)) return "multicast";
  if (in(0xf0000000, 4)) return "reserved";  // includes 255.255.255.255
  return std::nullopt;
}

std::uint32_t read_be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

std::optional<std::string> embedded(const char* kind, const std::uint8_t* v4) {
  auto reason = classify_v4(read_be32(v4));
  if (!reason) return std::nullopt;
  return std::string(kind) + " " + *reason;
}

bool all_zero(const std::uint8_t* p, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (p[i] != 0) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> internal_address_reason(const in_addr& addr) {
  return classify_v4(ntohl(addr.s_addr));
}

std::optional<std::string> internal_address_reason(const in6_addr& addr) {
  std::uint8_t b[16];
  std::memcpy(b, &addr, 16);
  if (all_zero(b, 16)) return "unspecified";
  if (all_zero(b, 15) && b[15] == 1) return "loopback";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "link-local";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return "site-local";
  if ((b[0] & 0xfe) == 0xfc) return "unique local (fc00::/7)";
  if (b[0] == 0xff) return "multicast";
  if (all_zero(b, 10) && b[10] == 0xff && b[11] == 0xff) return embedded("IPv4-mapped", b + 12);
  if (all_zero(b, 12)) return embedded("IPv4-compatible", b + 12);
  static constexpr std::uint8_t kNat64[12] = {0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(b, kNat64, 12) == 0) return embedded("NAT64", b + 12);
  if (b[0] == 0x20 && b[1] == 0x02) return embedded("6to4", b + 2);
  return std::nullopt;
}

std::string canonical_ip_literal(std::string_view text) {
  bool v6 = false;
  if (!text.empty() && text.front() == '[') {
    if (text.size() < 2 || text.back() != ']') return {};
    text = text.substr(1, text.size() - 2);
    v6 = true;
  } else if (text.find(':') != std::string_view::npos) {
    v6 = true;
  }
  char buf[64];
  if (text.empty() || text.size() >= sizeof buf) return {};
  if (std::memchr(text.data(), '\0', text.size()) != nullptr) return {};
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  char out[INET6_ADDRSTRLEN];
  if (v6) {
    in6_addr addr{};
    if (inet_pton(AF_INET6, buf, &addr) != 1) return {};
    if (inet_ntop(AF_INET6, &addr, out, sizeof out) == nullptr) return {};
    return out;
  }
  in_addr addr{};
  if (inet_pton(AF_INET, buf, &addr) != 1) return {};
  if (inet_ntop(AF_INET, &addr, out, sizeof out) == nullptr) return {};
  return out;
}

}  // namespace awf::policy
