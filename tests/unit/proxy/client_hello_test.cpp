#include "proxy/client_hello.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace awf::tls {
namespace {

using Bytes = std::vector<std::uint8_t>;

// A ClientHello written by OpenSSL 3.0 (TLS_client_method(), SNI api.github.com, ALPN h2 and
// http/1.1), captured from a memory BIO: one TLS 1.0-versioned record carrying a TLS 1.3
// hello with key_share, supported_versions and the rest of a real client's extensions.
const Bytes kOpenSslHello = {
    0x16, 0x03, 0x01, 0x01, 0x4d, 0x01, 0x00, 0x01, 0x49, 0x03, 0x03, 0xc4, 0xea, 0x95, 0xd8, 0x71,
    0x20, 0xb3, 0xeb, 0x8c, 0x67, 0x75, 0x9d, 0x62, 0x52, 0xae, 0x03, 0x10, 0x6c, 0xbe, 0x76, 0xad,
    0xd6, 0x14, 0xbc, 0xb0, 0x54, 0x46, 0x9d, 0x6e, 0xb3, 0x6c, 0xef, 0x20, 0xe5, 0x10, 0x2f, 0xc9,
    0x24, 0xe1, 0x7e, 0x85, 0x15, 0x5b, 0xb7, 0xe5, 0xf8, 0xa3, 0x14, 0xea, 0x49, 0x03, 0xa4, 0x21,
    0xa1, 0x93, 0x58, 0xd8, 0xd2, 0xe9, 0xd3, 0xe2, 0xc7, 0x96, 0x01, 0xda, 0x00, 0x3e, 0x13, 0x02,
    0x13, 0x03, 0x13, 0x01, 0xc0, 0x2c, 0xc0, 0x30, 0x00, 0x9f, 0xcc, 0xa9, 0xcc, 0xa8, 0xcc, 0xaa,
    0xc0, 0x2b, 0xc0, 0x2f, 0x00, 0x9e, 0xc0, 0x24, 0xc0, 0x28, 0x00, 0x6b, 0xc0, 0x23, 0xc0, 0x27,
    0x00, 0x67, 0xc0, 0x0a, 0xc0, 0x14, 0x00, 0x39, 0xc0, 0x09, 0xc0, 0x13, 0x00, 0x33, 0x00, 0x9d,
    0x00, 0x9c, 0x00, 0x3d, 0x00, 0x3c, 0x00, 0x35, 0x00, 0x2f, 0x00, 0xff, 0x01, 0x00, 0x00, 0xc2,
    0x00, 0x00, 0x00, 0x13, 0x00, 0x11, 0x00, 0x00, 0x0e, 0x61, 0x70, 0x69, 0x2e, 0x67, 0x69, 0x74,
    0x68, 0x75, 0x62, 0x2e, 0x63, 0x6f, 0x6d, 0x00, 0x0b, 0x00, 0x04, 0x03, 0x00, 0x01, 0x02, 0x00,
    0x0a, 0x00, 0x16, 0x00, 0x14, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x1e, 0x00, 0x19, 0x00, 0x18, 0x01,
    0x00, 0x01, 0x01, 0x01, 0x02, 0x01, 0x03, 0x01, 0x04, 0x00, 0x23, 0x00, 0x00, 0x00, 0x10, 0x00,
    0x0e, 0x00, 0x0c, 0x02, 0x68, 0x32, 0x08, 0x68, 0x74, 0x74, 0x70, 0x2f, 0x31, 0x2e, 0x31, 0x00,
    0x16, 0x00, 0x00, 0x00, 0x17, 0x00, 0x00, 0x00, 0x0d, 0x00, 0x2a, 0x00, 0x28, 0x04, 0x03, 0x05,
    0x03, 0x06, 0x03, 0x08, 0x07, 0x08, 0x08, 0x08, 0x09, 0x08, 0x0a, 0x08, 0x0b, 0x08, 0x04, 0x08,
    0x05, 0x08, 0x06, 0x04, 0x01, 0x05, 0x01, 0x06, 0x01, 0x03, 0x03, 0x03, 0x01, 0x03, 0x02, 0x04,
    0x02, 0x05, 0x02, 0x06, 0x02, 0x00, 0x2b, 0x00, 0x09, 0x08, 0x03, 0x04, 0x03, 0x03, 0x03, 0x02,
    0x03, 0x01, 0x00, 0x2d, 0x00, 0x02, 0x01, 0x01, 0x00, 0x33, 0x00, 0x26, 0x00, 0x24, 0x00, 0x1d,
    0x00, 0x20, 0x01, 0x4c, 0xce, 0xce, 0x12, 0x0b, 0x2d, 0xea, 0xda, 0xce, 0x74, 0x96, 0x59, 0xb8,
    0x1f, 0xe4, 0xc3, 0xdd, 0xf2, 0xda, 0x52, 0x84, 0x94, 0x3c, 0x15, 0x7b, 0x1c, 0xde, 0xaa, 0x43,
    0x2b, 0x58,
};

void put8(Bytes& b, std::size_t v) {
  b.push_back(static_cast<std::uint8_t>(v));
}
void put16(Bytes& b, std::size_t v) {
  put8(b, v >> 8);
  put8(b, v & 0xff);
}
void put24(Bytes& b, std::size_t v) {
  put8(b, v >> 16);
  put16(b, v & 0xffff);
}
void append(Bytes& b, const Bytes& more) {
  b.insert(b.end(), more.begin(), more.end());
}
void append(Bytes& b, const std::string& s) {
  b.insert(b.end(), s.begin(), s.end());
}

Bytes extension(std::uint16_t type, const Bytes& data) {
  Bytes out;
  put16(out, type);
  put16(out, data.size());
  append(out, data);
  return out;
}

// server_name extension data with one entry per name (name_type host_name unless given).
Bytes sni_data(const std::vector<std::string>& names, std::uint8_t name_type = 0) {
  Bytes list;
  for (const auto& n : names) {
    put8(list, name_type);
    put16(list, n.size());
    append(list, n);
  }
  Bytes out;
  put16(out, list.size());
  append(out, list);
  return out;
}

Bytes alpn_data(const std::vector<std::string>& protos) {
  Bytes list;
  for (const auto& p : protos) {
    put8(list, p.size());
    append(list, p);
  }
  Bytes out;
  put16(out, list.size());
  append(out, list);
  return out;
}

struct HelloSpec {
  std::uint16_t legacy_version = 0x0303;
  bool tls13 = true;  // supported_versions + key_share, 32-byte legacy session id
  std::vector<std::string> sni = {"api.github.com"};
  std::vector<std::string> alpn;
  bool with_extensions = true;
  std::vector<Bytes> extra_extensions;  // appended after the standard ones
  std::size_t padding = 0;              // RFC 7685 padding extension of this size
};

// The ClientHello handshake message (type, 24-bit length, body) a TLS 1.2 or 1.3 client sends.
Bytes build_hello(const HelloSpec& spec) {
  Bytes body;
  put16(body, spec.legacy_version);
  for (int i = 0; i < 32; ++i) put8(body, 0x40 + i);  // random
  const std::size_t sid = spec.tls13 ? 32 : 0;
  put8(body, sid);
  for (std::size_t i = 0; i < sid; ++i) put8(body, 0xa0 + i);
  const Bytes suites = {0x13, 0x01, 0x13, 0x02, 0xc0, 0x2f, 0xc0, 0x2b, 0x00, 0xff};
  put16(body, suites.size());
  append(body, suites);
  put8(body, 1);
  put8(body, 0);  // null compression
  if (spec.with_extensions) {
    Bytes ext;
    if (!spec.sni.empty()) append(ext, extension(0, sni_data(spec.sni)));
    append(ext, extension(10, {0x00, 0x04, 0x00, 0x1d, 0x00, 0x17}));  // supported_groups
    append(ext, extension(11, {0x01, 0x00}));                          // ec_point_formats
    append(ext, extension(13, {0x00, 0x04, 0x04, 0x03, 0x08, 0x04}));  // signature_algorithms
    if (!spec.alpn.empty()) append(ext, extension(16, alpn_data(spec.alpn)));
    if (spec.tls13) {
      append(ext, extension(43, {0x04, 0x03, 0x04, 0x03, 0x03}));  // supported_versions
      Bytes ks = {0x00, 0x24, 0x00, 0x1d, 0x00, 0x20};
      for (int i = 0; i < 32; ++i) put8(ks, i);
      append(ext, extension(51, ks));  // key_share (x25519)
    }
    for (const auto& e : spec.extra_extensions) append(ext, e);
    if (spec.padding > 0) append(ext, extension(21, Bytes(spec.padding, 0)));
    put16(body, ext.size());
    append(body, ext);
  }
  Bytes msg;
  put8(msg, 1);
  put24(msg, body.size());
  append(msg, body);
  return msg;
}

Bytes record(const Bytes& fragment, std::uint16_t version = 0x0301, std::uint8_t type = 22) {
  Bytes out;
  put8(out, type);
  put16(out, version);
  put16(out, fragment.size());
  append(out, fragment);
  return out;
}

// Splits a handshake message into records of at most `chunk` bytes.
Bytes records(const Bytes& msg, std::size_t chunk, std::uint16_t version = 0x0301) {
  Bytes out;
  for (std::size_t at = 0; at < msg.size(); at += chunk) {
    const auto end = std::min(msg.size(), at + chunk);
    append(out, record(Bytes(msg.begin() + at, msg.begin() + end), version));
  }
  return out;
}

// Splits a handshake message into records at the given offsets.
Bytes records_at(const Bytes& msg, const std::vector<std::size_t>& cuts) {
  Bytes out;
  std::size_t at = 0;
  for (auto cut : cuts) {
    append(out, record(Bytes(msg.begin() + at, msg.begin() + cut)));
    at = cut;
  }
  append(out, record(Bytes(msg.begin() + at, msg.end())));
  return out;
}

ClientHello parse(const Bytes& b) {
  return parse_client_hello(b);
}

// Every strict prefix is NeedMore (never Complete), and the whole is `expected`.
void expect_prefixes_need_more(const Bytes& b) {
  for (std::size_t n = 0; n < b.size(); ++n) {
    const auto h = parse_client_hello(std::span(b.data(), n));
    ASSERT_EQ(h.status, HelloStatus::NeedMore) << "prefix of " << n << " bytes";
    EXPECT_FALSE(h.has_sni);
  }
}

TEST(ClientHello, RealOpenSslHello) {
  const auto h = parse(kOpenSslHello);
  ASSERT_EQ(h.status, HelloStatus::Complete);
  EXPECT_TRUE(h.has_sni);
  EXPECT_EQ(h.sni, "api.github.com");
  EXPECT_EQ(h.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_EQ(h.legacy_version, 0x0303);
}

TEST(ClientHello, RealHelloEveryPrefixNeedsMore) {
  expect_prefixes_need_more(kOpenSslHello);
}

TEST(ClientHello, RealHelloResplitIntoRecords) {
  const Bytes msg(kOpenSslHello.begin() + 5, kOpenSslHello.end());
  for (std::size_t chunk : {1u, 2u, 3u, 4u, 5u, 7u, 100u, 200u}) {
    const auto h = parse(records(msg, chunk));
    ASSERT_EQ(h.status, HelloStatus::Complete) << chunk;
    EXPECT_EQ(h.sni, "api.github.com");
    EXPECT_EQ(h.alpn.size(), 2u);
  }
}

TEST(ClientHello, RealHelloFollowedByMoreRecords) {
  Bytes b = kOpenSslHello;
  append(b, record({0x01}, 0x0303, 20));        // TLS 1.3 middlebox-compat ChangeCipherSpec
  append(b, record({0xde, 0xad}, 0x0303, 23));  // early data
  const auto h = parse(b);
  ASSERT_EQ(h.status, HelloStatus::Complete);
  EXPECT_EQ(h.sni, "api.github.com");
}

TEST(ClientHello, Tls12WithSni) {
  HelloSpec spec;
  spec.tls13 = false;
  const auto h = parse(record(build_hello(spec)));
  ASSERT_EQ(h.status, HelloStatus::Complete);
  EXPECT_TRUE(h.has_sni);
  EXPECT_EQ(h.sni, "api.github.com");
  EXPECT_TRUE(h.alpn.empty());
  EXPECT_EQ(h.legacy_version, 0x0303);
}

TEST(ClientHello, Tls13WithAlpn) {
  HelloSpec spec;
  spec.sni = {"Example.COM"};
  spec.alpn = {"h2", "http/1.1"};
  const auto h = parse(record(build_hello(spec), 0x0303));
  ASSERT_EQ(h.status, HelloStatus::Complete);
  EXPECT_EQ(h.sni, "Example.COM");  // as sent, not normalized
  EXPECT_EQ(h.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
}

TEST(ClientHello, WithoutSni) {
  HelloSpec spec;
  spec.sni.clear();
  spec.alpn = {"http/1.1"};
  const auto h = parse(record(build_hello(spec)));
  ASSERT_EQ(h.status, HelloStatus::Complete);
  EXPECT_FALSE(h.has_sni);
  EXPECT_TRUE(h.sni.empty());
  EXPECT_EQ(h.alpn, std::vector<std::string>{"http/1.1"});
}

TEST(ClientHello, WithoutExtensionsAtAll) {
  HelloSpec spec;
  spec.tls13 = false;
  spec.with_extensions = false;
  spec.legacy_version = 0x0301;
  const auto h = parse(record(build_hello(spec)));
  ASSERT_EQ(h.status, HelloStatus::Complete);
  EXPECT_FALSE(h.has_sni);
  EXPECT_EQ(h.legacy_version, 0x0301);
}

TEST(ClientHello, RecordVersionsAccepted) {
  const auto msg = build_hello({});
  for (std::uint16_t v : {0x0300, 0x0301, 0x0302, 0x0303, 0x0304}) {
    EXPECT_EQ(parse(record(msg, v)).status, HelloStatus::Complete) << v;
  }
  for (std::uint16_t v : {0x0305, 0x0200, 0x0403, 0xfeff}) {
    EXPECT_EQ(parse(record(msg, v)).status, HelloStatus::NotTls) << v;
  }
}

TEST(ClientHello, OneByteSegmentsEveryPrefix) {
  HelloSpec spec;
  spec.alpn = {"h2"};
  const auto b = record(build_hello(spec));
  // Whatever the TCP segmentation, the caller holds a prefix of the stream.
  expect_prefixes_need_more(b);
  EXPECT_EQ(parse(b).status, HelloStatus::Complete);
}

TEST(ClientHello, OneByteRecords) {
  HelloSpec spec;
  spec.alpn = {"h2"};
  const auto b = records(build_hello(spec), 1);
  const auto h = parse(b);
  ASSERT_EQ(h.status, HelloStatus::Complete);
  EXPECT_EQ(h.sni, "api.github.com");
  expect_prefixes_need_more(b);
}

TEST(ClientHello, SplitAcrossTwoAndThreeRecords) {
  HelloSpec spec;
  spec.alpn = {"h2", "http/1.1"};
  const auto msg = build_hello(spec);
  // Cuts inside the handshake header, inside the SNI, and everywhere else.
  for (std::size_t cut = 1; cut < msg.size(); ++cut) {
    const auto h = parse(records_at(msg, {cut}));
    ASSERT_EQ(h.status, HelloStatus::Complete) << cut;
    EXPECT_EQ(h.sni, "api.github.com");
    EXPECT_EQ(h.alpn.size(), 2u);
  }
  for (std::size_t a = 1; a < msg.size(); a += 7) {
    for (std::size_t b = a + 1; b < msg.size(); b += 11) {
      const auto bytes = records_at(msg, {a, b});
      const auto h = parse(bytes);
      ASSERT_EQ(h.status, HelloStatus::Complete) << a << "," << b;
      EXPECT_EQ(h.sni, "api.github.com");
    }
  }
  expect_prefixes_need_more(records_at(msg, {2, 60}));
}

TEST(ClientHello, NotTls) {
  for (const std::string& s :
       std::vector<std::string>{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "CONNECT x:443 HTTP/1.1\r\n",
                                "SSH-2.0-OpenSSH_9.2\r\n", "\x80\x2e\x01\x03\x01"}) {
    EXPECT_EQ(parse(Bytes(s.begin(), s.end())).status, HelloStatus::NotTls) << s;
  }
  EXPECT_EQ(parse({0x17, 0x03, 0x03, 0x00, 0x05}).status, HelloStatus::NotTls);  // app data
  EXPECT_EQ(parse({0x15}).status, HelloStatus::NotTls);                          // alert
  EXPECT_EQ(parse({0x16, 0x02}).status, HelloStatus::NotTls);
  EXPECT_EQ(parse({0x16, 0x03, 0x05}).status, HelloStatus::NotTls);
  EXPECT_EQ(parse({0x16, 0x03}).status, HelloStatus::NeedMore);
  EXPECT_EQ(parse({0x16}).status, HelloStatus::NeedMore);
  EXPECT_EQ(parse({}).status, HelloStatus::NeedMore);
}

TEST(ClientHello, RecordLengthLimits) {
  EXPECT_EQ(parse({0x16, 0x03, 0x01, 0x00, 0x00}).status, HelloStatus::Malformed);  // empty
  // 16384 + 2048 is the most a record may claim; one more is Malformed at once.
  EXPECT_EQ(parse({0x16, 0x03, 0x01, 0x48, 0x00, 0x01}).status, HelloStatus::NeedMore);
  EXPECT_EQ(parse({0x16, 0x03, 0x01, 0x48, 0x01}).status, HelloStatus::Malformed);
  EXPECT_EQ(parse({0x16, 0x03, 0x01, 0xff, 0xff}).status, HelloStatus::Malformed);
}

TEST(ClientHello, NotAClientHello) {
  // ServerHello (2), Certificate (11) in a handshake record.
  EXPECT_EQ(parse(record({0x02, 0x00, 0x00, 0x02, 0x03, 0x03})).status, HelloStatus::Malformed);
  EXPECT_EQ(parse({0x16, 0x03, 0x03, 0x00, 0x10, 0x0b}).status, HelloStatus::Malformed);
}

TEST(ClientHello, LaterRecordOfAnotherType) {
  auto msg = build_hello({});
  Bytes b = record(Bytes(msg.begin(), msg.begin() + 20));
  append(b, record(Bytes(msg.begin() + 20, msg.end()), 0x0301, 23));
  EXPECT_EQ(parse(b).status, HelloStatus::Malformed);
  Bytes c = record(Bytes(msg.begin(), msg.begin() + 20));
  append(c, Bytes{0x16, 0x02});
  EXPECT_EQ(parse(c).status, HelloStatus::Malformed);
}

TEST(ClientHello, TrailingBytesInSameRecord) {
  auto msg = build_hello({});
  msg.push_back(0x00);
  EXPECT_EQ(parse(record(msg)).status, HelloStatus::Malformed);
  // A second handshake message after the hello inside the record.
  auto two = build_hello({});
  append(two, build_hello({}));
  EXPECT_EQ(parse(record(two)).status, HelloStatus::Malformed);
}

TEST(ClientHello, TwoHostNamesInOneExtension) {
  HelloSpec spec;
  spec.sni = {"allowed.example", "evil.example"};
  EXPECT_EQ(parse(record(build_hello(spec))).status, HelloStatus::Malformed);
}

TEST(ClientHello, TwoServerNameExtensions) {
  HelloSpec spec;
  spec.sni = {"allowed.example"};
  spec.extra_extensions = {extension(0, sni_data({"evil.example"}))};
  EXPECT_EQ(parse(record(build_hello(spec))).status, HelloStatus::Malformed);
  // Same name twice is still refused: the structure itself is suspicious.
  spec.extra_extensions = {extension(0, sni_data({"allowed.example"}))};
  EXPECT_EQ(parse(record(build_hello(spec))).status, HelloStatus::Malformed);
}

TEST(ClientHello, DuplicateExtensionOfAnyType) {
  HelloSpec spec;
  spec.extra_extensions = {extension(11, {0x01, 0x00})};
  EXPECT_EQ(parse(record(build_hello(spec))).status, HelloStatus::Malformed);
  HelloSpec alpn;
  alpn.alpn = {"h2"};
  alpn.extra_extensions = {extension(16, alpn_data({"http/1.1"}))};
  EXPECT_EQ(parse(record(build_hello(alpn))).status, HelloStatus::Malformed);
}

TEST(ClientHello, NonHostNameType) {
  HelloSpec spec;
  spec.sni.clear();
  spec.extra_extensions = {extension(0, sni_data({"x.example"}, 1))};
  EXPECT_EQ(parse(record(build_hello(spec))).status, HelloStatus::Malformed);
}

TEST(ClientHello, BadServerNameStructure) {
  for (const Bytes& data :
       {Bytes{}, Bytes{0x00, 0x00}, Bytes{0x00, 0x05, 0x00, 0x00, 0x02, 'a'},
        Bytes{0x00, 0x04, 0x00, 0x00, 0x01, 'a', 'b'}, Bytes{0x00, 0x03, 0x00, 0x00, 0x00}}) {
    HelloSpec spec;
    spec.sni.clear();
    spec.extra_extensions = {extension(0, data)};
    EXPECT_EQ(parse(record(build_hello(spec))).status, HelloStatus::Malformed) << data.size();
  }
}

TEST(ClientHello, HostNameCharacters) {
  const std::vector<std::string> bad = {"",
                                        "a b.example",
                                        std::string("a\0b.example", 11),
                                        "tab\t.example",
                                        "new\nline.example",
                                        "del\x7f.example",
                                        "caf\xc3\xa9.example",
                                        std::string(256, 'a')};
  for (const auto& name : bad) {
    HelloSpec spec;
    spec.sni = {name};
    EXPECT_EQ(parse(record(build_hello(spec))).status, HelloStatus::Malformed) << name;
  }
  HelloSpec ok;
  ok.sni = {std::string(255, 'a')};
  const auto h = parse(record(build_hello(ok)));
  ASSERT_EQ(h.status, HelloStatus::Complete);
  EXPECT_EQ(h.sni.size(), 255u);
  ok.sni = {"x"};
  EXPECT_EQ(parse(record(build_hello(ok))).sni, "x");
  ok.sni = {"1.2.3.4"};
  EXPECT_EQ(parse(record(build_hello(ok))).sni, "1.2.3.4");
}

TEST(ClientHello, BadAlpn) {
  for (const Bytes& data :
       {Bytes{}, Bytes{0x00, 0x00}, Bytes{0x00, 0x01, 0x00},
        Bytes{0x00, 0x03, 0x02, 'h', '2', 0x00}, Bytes{0x00, 0x04, 0x05, 'h', '2', 'x'}}) {
    HelloSpec spec;
    spec.extra_extensions = {extension(16, data)};
    EXPECT_EQ(parse(record(build_hello(spec))).status, HelloStatus::Malformed) << data.size();
  }
}

// Flips the body's structure at a given offset (offsets relative to the handshake body).
Bytes with_body_patch(Bytes msg, std::size_t at, std::uint8_t value) {
  msg.at(4 + at) = value;
  return msg;
}

TEST(ClientHello, InconsistentStructure) {
  HelloSpec spec;
  spec.tls13 = false;  // session id length 0 at body offset 34
  const auto msg = build_hello(spec);
  EXPECT_EQ(parse(record(with_body_patch(msg, 34, 33))).status, HelloStatus::Malformed);
  EXPECT_EQ(parse(record(with_body_patch(msg, 34, 1))).status, HelloStatus::Malformed);
  // Odd cipher suite length (body offset 35..36).
  EXPECT_EQ(parse(record(with_body_patch(msg, 36, 9))).status, HelloStatus::Malformed);
  EXPECT_EQ(parse(record(with_body_patch(msg, 36, 0))).status, HelloStatus::Malformed);
  // Empty compression methods (offset 47).
  EXPECT_EQ(parse(record(with_body_patch(msg, 47, 0))).status, HelloStatus::Malformed);
  // Extensions length one too large / one too small (offset 49..50).
  const std::size_t ext_len = (msg[4 + 49] << 8) | msg[4 + 50];
  EXPECT_EQ(parse(record(with_body_patch(msg, 50, (ext_len + 1) & 0xff))).status,
            HelloStatus::Malformed);
  EXPECT_EQ(parse(record(with_body_patch(msg, 50, (ext_len - 1) & 0xff))).status,
            HelloStatus::Malformed);
  // legacy_version with a major other than 3.
  EXPECT_EQ(parse(record(with_body_patch(msg, 0, 2))).status, HelloStatus::Malformed);
  // Handshake length shorter than the body: the record carries trailing bytes.
  auto short_len = msg;
  short_len[3] -= 1;
  EXPECT_EQ(parse(record(short_len)).status, HelloStatus::Malformed);
  // A body too short for the fixed fields.
  EXPECT_EQ(parse(record({0x01, 0x00, 0x00, 0x02, 0x03, 0x03})).status, HelloStatus::Malformed);
  EXPECT_EQ(parse(record({0x01, 0x00, 0x00, 0x00})).status, HelloStatus::Malformed);
}

TEST(ClientHello, HandshakeLengthLimit) {
  // A header announcing more than kMaxClientHelloBytes is refused before any body arrives.
  const std::size_t too_big = kMaxClientHelloBytes + 1;
  EXPECT_EQ(
      parse(record({0x01, static_cast<std::uint8_t>(too_big >> 16),
                    static_cast<std::uint8_t>(too_big >> 8), static_cast<std::uint8_t>(too_big)}))
          .status,
      HelloStatus::Malformed);
  EXPECT_EQ(parse(record({0x01, 0xff, 0xff, 0xff})).status, HelloStatus::Malformed);
  EXPECT_EQ(parse(record({0x01, 0x01, 0x00, 0x00})).status, HelloStatus::NeedMore);
}

TEST(ClientHello, LargestAcceptedHelloAcrossRecords) {
  HelloSpec spec;
  spec.alpn = {"h2"};
  const std::size_t base = build_hello(spec).size() - 4;
  spec.padding = kMaxClientHelloBytes - base - 4;  // 4 = padding extension header
  const auto msg = build_hello(spec);
  ASSERT_EQ(msg.size(), 4 + kMaxClientHelloBytes);
  const auto h = parse(records(msg, 16384));
  ASSERT_EQ(h.status, HelloStatus::Complete);
  EXPECT_EQ(h.sni, "api.github.com");

  spec.padding += 1;
  EXPECT_EQ(parse(records(build_hello(spec), 16384)).status, HelloStatus::Malformed);
}

TEST(ClientHello, SingleByteCorruptionNeverCrashes) {
  // Every single-byte change of the real hello gives some status, and any Complete result
  // that still has an SNI has a valid one.
  for (std::size_t i = 0; i < kOpenSslHello.size(); ++i) {
    for (std::uint8_t v : {0x00, 0x01, 0x7f, 0x80, 0xff}) {
      Bytes b = kOpenSslHello;
      b[i] = v;
      const auto h = parse(b);
      if (h.status == HelloStatus::Complete && h.has_sni) {
        EXPECT_FALSE(h.sni.empty());
        EXPECT_LE(h.sni.size(), 255u);
      }
    }
  }
}

}  // namespace
}  // namespace awf::tls
