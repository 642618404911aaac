// TLS ClientHello inspection: extracts the facts the gateway decides on (SNI, ALPN) from the
// first bytes a client sends, and nothing else. Pure logic; the caller buffers the bytes.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace awf::tls {

enum class HelloStatus {
  NeedMore,   // a valid prefix of a ClientHello: read more bytes and call again
  Complete,   // the whole ClientHello handshake message was parsed
  NotTls,     // the first bytes are not a TLS handshake record
  Malformed,  // TLS framing, but not a well-formed ClientHello (or larger than the limit)
};

struct ClientHello {
  HelloStatus status = HelloStatus::NeedMore;
  bool has_sni = false;
  std::string sni;                  // host_name from server_name, as sent (not normalized)
  std::vector<std::string> alpn;    // protocol names in client order
  std::uint16_t legacy_version = 0; // client_version field
};

// Largest ClientHello accepted (handshake message body, reassembled across records).
inline constexpr std::size_t kMaxClientHelloBytes = 64 * 1024;

// Parses `bytes` = everything the client has sent so far. The ClientHello may span several
// TLS records and any number of TCP segments. Never reads past `bytes`, never throws.
ClientHello parse_client_hello(std::span<const std::uint8_t> bytes);

}  // namespace awf::tls
