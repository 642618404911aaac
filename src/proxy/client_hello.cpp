#include "proxy/client_hello.h"

#include <algorithm>
#include <cstddef>
#include <optional>

namespace awf::tls {
namespace {

constexpr std::uint8_t kContentHandshake = 22;
constexpr std::uint8_t kHandshakeClientHello = 1;
constexpr std::size_t kRecordHeaderBytes = 5;
constexpr std::size_t kHandshakeHeaderBytes = 4;
// TLSCiphertext may carry up to 2^14 + 2048 bytes; a plaintext record never more.
constexpr std::size_t kMaxRecordBytes = 16384 + 2048;
constexpr std::uint16_t kExtServerName = 0;
constexpr std::uint16_t kExtAlpn = 16;
constexpr std::uint8_t kNameTypeHostName = 0;
constexpr std::size_t kMaxHostNameBytes = 255;

ClientHello with_status(HelloStatus status) {
  ClientHello hello;
  hello.status = status;
  return hello;
}

// Bounds-checked big-endian reader over a byte span. Every read fails (returns false /
// nullopt) instead of running past the end.
class Reader {
 public:
  explicit Reader(std::span<const std::uint8_t> bytes) : bytes_(bytes) {}

  std::size_t remaining() const { return bytes_.size() - pos_; }
  bool empty() const { return remaining() == 0; }

  std::optional<std::uint8_t> u8() {
    if (remaining() < 1) return std::nullopt;
    return bytes_[pos_++];
  }
  std::optional<std::uint16_t> u16() {
    if (remaining() < 2) return std::nullopt;
    auto v = static_cast<std::uint16_t>((bytes_[pos_] << 8) | bytes_[pos_ + 1]);
    pos_ += 2;
    return v;
  }
  std::optional<std::span<const std::uint8_t>> take(std::size_t n) {
    if (remaining() < n) return std::nullopt;
    auto out = bytes_.subspan(pos_, n);
    pos_ += n;
    return out;
  }
  // A vector prefixed by an 8-bit length.
  std::optional<std::span<const std::uint8_t>> vec8() {
    auto n = u8();
    if (!n) return std::nullopt;
    return take(*n);
  }
  // A vector prefixed by a 16-bit length.
  std::optional<std::span<const std::uint8_t>> vec16() {
    auto n = u16();
    if (!n) return std::nullopt;
    return take(*n);
  }

 private:
  std::span<const std::uint8_t> bytes_;
  std::size_t pos_ = 0;
};

bool valid_host_name(std::span<const std::uint8_t> name) {
  if (name.empty() || name.size() > kMaxHostNameBytes) return false;
  return std::all_of(name.begin(), name.end(), [](std::uint8_t c) { return c > 0x20 && c < 0x7f; });
}

// server_name extension body (RFC 6066 section 3). Exactly one entry, of type host_name:
// a second name (or a second list) could make the gateway and the origin see different names.
bool parse_server_name(std::span<const std::uint8_t> data, ClientHello& hello) {
  Reader ext(data);
  auto list = ext.vec16();
  if (!list || !ext.empty() || list->empty()) return false;
  Reader entries(*list);
  bool seen = false;
  while (!entries.empty()) {
    auto type = entries.u8();
    auto name = entries.vec16();
    if (!type || !name) return false;
    // OpenSSL and most servers accept only host_name; an unknown type is not something a
    // real client sends, and allowing it would leave room for a name the gateway ignores.
    if (*type != kNameTypeHostName) return false;
    if (seen) return false;
    if (!valid_host_name(*name)) return false;
    seen = true;
    hello.sni.assign(name->begin(), name->end());
  }
  hello.has_sni = seen;
  return seen;
}

// application_layer_protocol_negotiation extension body (RFC 7301).
bool parse_alpn(std::span<const std::uint8_t> data, ClientHello& hello) {
  Reader ext(data);
  auto list = ext.vec16();
  if (!list || !ext.empty() || list->empty()) return false;
  Reader entries(*list);
  while (!entries.empty()) {
    auto proto = entries.vec8();
    if (!proto || proto->empty()) return false;
    hello.alpn.emplace_back(proto->begin(), proto->end());
  }
  return true;
}

// Parses the body of a ClientHello handshake message (everything after the 4-byte handshake
// header), which must be consumed exactly.
bool parse_body(std::span<const std::uint8_t> body, ClientHello& hello) {
  Reader r(body);
  auto version = r.u16();
  if (!version || (*version >> 8) != 3) return false;
  hello.legacy_version = *version;
  if (!r.take(32)) return false;  // random
  auto session_id = r.vec8();
  if (!session_id || session_id->size() > 32) return false;
  auto suites = r.vec16();
  if (!suites || suites->empty() || suites->size() % 2 != 0) return false;
  auto compression = r.vec8();
  if (!compression || compression->empty()) return false;
  if (r.empty()) return true;  // no extensions at all (pre-TLS 1.2 style)

  auto extensions = r.vec16();
  if (!extensions || !r.empty()) return false;
  Reader ext(*extensions);
  std::vector<std::uint16_t> seen;
  while (!ext.empty()) {
    auto type = ext.u16();
    auto data = ext.vec16();
    if (!type || !data) return false;
    seen.push_back(*type);
    if (*type == kExtServerName) {
      if (!parse_server_name(*data, hello)) return false;
    } else if (*type == kExtAlpn) {
      if (!parse_alpn(*data, hello)) return false;
    }
  }
  // RFC 8446 4.2: no extension type may appear twice. A second server_name in particular
  // would let a client show one name to the gateway and another to the origin.
  std::sort(seen.begin(), seen.end());
  return std::adjacent_find(seen.begin(), seen.end()) == seen.end();
}

}  // namespace

ClientHello parse_client_hello(std::span<const std::uint8_t> bytes) {
  if (bytes.empty()) return with_status(HelloStatus::NeedMore);

  // Reassemble the handshake layer from consecutive handshake records. Only the bytes up to
  // the end of the ClientHello are looked at; nothing may follow it inside the same record.
  std::vector<std::uint8_t> handshake;
  std::size_t message_bytes = 0;  // 4 + body length, once the handshake header is known
  std::size_t pos = 0;
  bool first = true;
  while (true) {
    const std::size_t avail = bytes.size() - pos;
    const std::uint8_t* rec = bytes.data() + pos;
    // Each header byte is checked as soon as it arrives, so garbage is rejected early.
    // For the first record, implausible framing means "not TLS at all"; later, it means a
    // broken TLS stream.
    const auto bad_framing = first ? HelloStatus::NotTls : HelloStatus::Malformed;
    if (avail >= 1 && rec[0] != kContentHandshake) return with_status(bad_framing);
    if (avail >= 2 && rec[1] != 3) return with_status(bad_framing);
    if (avail >= 3 && rec[2] > 4) return with_status(bad_framing);
    if (avail < kRecordHeaderBytes) return with_status(HelloStatus::NeedMore);
    const std::size_t length = (static_cast<std::size_t>(rec[3]) << 8) | rec[4];
    // Zero-length handshake fragments are forbidden (RFC 8446 5.1).
    if (length == 0 || length > kMaxRecordBytes) return with_status(HelloStatus::Malformed);

    const std::size_t in_record = std::min(length, avail - kRecordHeaderBytes);
    handshake.insert(handshake.end(), rec + kRecordHeaderBytes,
                     rec + kRecordHeaderBytes + in_record);

    if (message_bytes == 0 && handshake.size() >= 1 && handshake[0] != kHandshakeClientHello) {
      return with_status(HelloStatus::Malformed);
    }
    if (message_bytes == 0 && handshake.size() >= kHandshakeHeaderBytes) {
      const std::size_t body = (static_cast<std::size_t>(handshake[1]) << 16) |
                               (static_cast<std::size_t>(handshake[2]) << 8) | handshake[3];
      if (body > kMaxClientHelloBytes) return with_status(HelloStatus::Malformed);
      message_bytes = kHandshakeHeaderBytes + body;
    }
    // The ClientHello is the only handshake message of the client's first flight, so a
    // record that carries bytes past its end is not a well-formed ClientHello.
    if (message_bytes != 0 && handshake.size() > message_bytes) {
      return with_status(HelloStatus::Malformed);
    }
    if (in_record < length) return with_status(HelloStatus::NeedMore);
    pos += kRecordHeaderBytes + length;
    first = false;
    if (message_bytes != 0 && handshake.size() == message_bytes) break;
    if (pos == bytes.size()) return with_status(HelloStatus::NeedMore);
  }

  ClientHello hello;
  if (!parse_body(std::span(handshake).subspan(kHandshakeHeaderBytes), hello)) {
    return with_status(HelloStatus::Malformed);
  }
  hello.status = HelloStatus::Complete;
  return hello;
}

}  // namespace awf::tls
