#include "dns/message.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace awf::dns {
namespace {

using Bytes = std::vector<std::uint8_t>;

void put16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v & 0xff));
}

// Labels as raw strings, so a test can put any byte (even '.') into a label.
Bytes encode_name(const std::vector<std::string>& labels) {
  Bytes out;
  for (const auto& l : labels) {
    out.push_back(static_cast<std::uint8_t>(l.size()));
    out.insert(out.end(), l.begin(), l.end());
  }
  out.push_back(0);
  return out;
}

std::vector<std::string> split(const std::string& dotted) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at <= dotted.size() && !dotted.empty()) {
    const auto dot = dotted.find('.', at);
    out.push_back(dotted.substr(at, dot - at));
    if (dot == std::string::npos) break;
    at = dot + 1;
  }
  return out;
}

struct QuerySpec {
  std::uint16_t id = 0x1234;
  std::uint16_t flags = 0x0100;  // RD, as dig and the glibc stub send
  std::uint16_t qdcount = 1;
  Bytes name = encode_name(split("api.github.com"));
  std::uint16_t qtype = 1;
  std::uint16_t qclass = 1;
  bool edns = false;  // an OPT pseudo-record in the additional section
};

Bytes build_query(const QuerySpec& s) {
  Bytes b;
  put16(b, s.id);
  put16(b, s.flags);
  put16(b, s.qdcount);
  put16(b, 0);
  put16(b, 0);
  put16(b, s.edns ? 1 : 0);
  b.insert(b.end(), s.name.begin(), s.name.end());
  put16(b, s.qtype);
  put16(b, s.qclass);
  if (s.edns) {
    // root name, TYPE OPT, UDP size 1232, extended rcode/version 0, DO flag, no options
    b.push_back(0);
    put16(b, 41);
    put16(b, 1232);
    put16(b, 0);
    put16(b, 0x8000);
    put16(b, 0);
  }
  return b;
}

// "dig @127.0.0.1 example.com A" as sent by dig 9.18: id 0xc0de, RD+AD, with a cookie option.
const Bytes kDigQuery = {0xc0, 0xde, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
                         0x01, 0x07, 'e',  'x',  'a',  'm',  'p',  'l',  'e',  0x03, 'c',
                         'o',  'm',  0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x29, 0x04,
                         0xd0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00, 0x08,
                         0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};

TEST(DnsMessage, ParsesDigQuery) {
  const auto q = parse_query(kDigQuery);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->id, 0xc0de);
  EXPECT_EQ(q->flags, 0x0120);
  EXPECT_TRUE(q->question.name_ok);
  EXPECT_EQ(q->question.name, "example.com");
  EXPECT_EQ(q->question.qtype, 1);
  EXPECT_EQ(q->question.qclass, 1);
}

TEST(DnsMessage, ParsesATypes) {
  for (std::uint16_t type : {1, 28, 16, 65, 255}) {
    QuerySpec s;
    s.qtype = type;
    const auto q = parse_query(build_query(s));
    ASSERT_TRUE(q) << type;
    EXPECT_EQ(q->question.qtype, type);
    EXPECT_EQ(q->question.name, "api.github.com");
    EXPECT_TRUE(q->question.name_ok);
  }
}

TEST(DnsMessage, EdnsOptAllowed) {
  QuerySpec s;
  s.qtype = 28;
  s.edns = true;
  const auto q = parse_query(build_query(s));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->question.name, "api.github.com");
  EXPECT_EQ(q->question.qtype, 28);
}

TEST(DnsMessage, Lowercases) {
  QuerySpec s;
  s.name = encode_name({"ApI", "GitHub", "COM"});
  const auto q = parse_query(build_query(s));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->question.name, "api.github.com");
}

TEST(DnsMessage, RootName) {
  QuerySpec s;
  s.name = {0};
  s.qtype = 2;
  const auto q = parse_query(build_query(s));
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->question.name_ok);
  EXPECT_EQ(q->question.name, "");
}

TEST(DnsMessage, UnderscoreAndHyphenLabels) {
  QuerySpec s;
  s.name = encode_name({"_acme-challenge", "x-1", "example", "org"});
  s.qtype = 16;
  const auto q = parse_query(build_query(s));
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->question.name_ok);
  EXPECT_EQ(q->question.name, "_acme-challenge.x-1.example.org");
}

TEST(DnsMessage, OddLabelsParseButAreNotOk) {
  const std::vector<std::vector<std::string>> odd = {
      {"evil.com", "allowed", "com"},  // a '.' inside a label
      {"a b", "com"},
      {std::string("nul\0", 4), "com"},
      {"caf\xc3\xa9", "com"},
      {"star*", "com"},
      {"x\\", "com"},
      {"\x7f", "com"},
  };
  for (const auto& labels : odd) {
    QuerySpec s;
    s.name = encode_name(labels);
    const auto q = parse_query(build_query(s));
    ASSERT_TRUE(q) << labels[0];
    EXPECT_FALSE(q->question.name_ok) << labels[0];
    EXPECT_TRUE(q->question.name.empty()) << labels[0];
    EXPECT_EQ(q->question.qtype, 1);
    // Such queries are answered REFUSED with the question echoed byte for byte.
    const auto resp = make_local_response(build_query(s), kRcodeRefused);
    ASSERT_GE(resp.size(), 12u + s.name.size() + 4);
    EXPECT_TRUE(std::equal(s.name.begin(), s.name.end(), resp.begin() + 12));
  }
}

TEST(DnsMessage, LabelLengthsAndNameLength) {
  QuerySpec s;
  s.name = encode_name({std::string(63, 'a'), "com"});
  EXPECT_TRUE(parse_query(build_query(s))->question.name_ok);
  // 0x40 as a length byte is not a 64-byte label but the obsolete extended label type.
  s.name = encode_name({std::string(64, 'a'), "com"});
  EXPECT_FALSE(parse_query(build_query(s)));
  // An empty label is the end of the name: what follows is read as QTYPE/QCLASS.
  s.name = encode_name({"", "com"});
  auto root = parse_query(build_query(s));
  ASSERT_TRUE(root);
  EXPECT_EQ(root->question.name, "");
  EXPECT_EQ(root->question.qtype, 0x0363);

  // 255 wire bytes is the most a name may have: 3 x (1+63) + (1+61) + 1 = 255.
  const std::string l63(63, 'b');
  s.name = encode_name({l63, l63, l63, std::string(61, 'c')});
  ASSERT_EQ(s.name.size(), 255u);
  auto q = parse_query(build_query(s));
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->question.name_ok);
  EXPECT_EQ(q->question.name.size(), 253u);
  s.name = encode_name({l63, l63, l63, std::string(62, 'c')});
  EXPECT_FALSE(parse_query(build_query(s)));
}

TEST(DnsMessage, CompressionPointers) {
  // Question name "www" + pointer to a "github.com" placed in the additional data after the
  // question; dnslib-style forward pointers are followed too.
  Bytes b;
  put16(b, 7);
  put16(b, 0x0100);
  put16(b, 1);
  put16(b, 0);
  put16(b, 0);
  put16(b, 0);
  b.insert(b.end(), {3, 'W', 'W', 'W', 0xc0, 0});  // pointer patched below
  put16(b, 28);
  put16(b, 1);
  const std::size_t target = b.size();
  const auto tail = encode_name({"GitHub", "com"});
  b.insert(b.end(), tail.begin(), tail.end());
  b[12 + 5] = static_cast<std::uint8_t>(target);
  const auto q = parse_query(b);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->question.name, "www.github.com");
  EXPECT_EQ(q->question.qtype, 28);
  // The echoed question is uncompressed and keeps the client's case.
  const auto resp = make_local_response(b, kRcodeNxDomain);
  const Bytes expected_name = encode_name({"WWW", "GitHub", "com"});
  ASSERT_EQ(resp.size(), 12 + expected_name.size() + 4);
  EXPECT_TRUE(std::equal(expected_name.begin(), expected_name.end(), resp.begin() + 12));
  EXPECT_EQ(resp[resp.size() - 3], 28);
}

TEST(DnsMessage, CompressionLoops) {
  // Pointer to itself.
  QuerySpec s;
  s.name = {0xc0, 12};
  EXPECT_FALSE(parse_query(build_query(s)));
  // Two pointers to each other.
  s.name = {0xc0, 14, 0xc0, 12};
  EXPECT_FALSE(parse_query(build_query(s)));
  // A label followed by a pointer back to it: cut off by the hop or the name limit.
  s.name = {1, 'a', 0xc0, 12};
  EXPECT_FALSE(parse_query(build_query(s)));
  // Pointer past the end of the message.
  s.name = {0xff, 0xff};
  EXPECT_FALSE(parse_query(build_query(s)));
  // Pointer into the header: the high byte of QDCOUNT (0) reads as the root name.
  s.name = {0xc0, 4};
  const auto q = parse_query(build_query(s));
  ASSERT_TRUE(q);
  EXPECT_EQ(q->question.name, "");
  // A long chain of pointers is cut off by the hop limit.
  Bytes chain;
  put16(chain, 1);
  put16(chain, 0);
  put16(chain, 1);
  put16(chain, 0);
  put16(chain, 0);
  put16(chain, 0);
  for (int i = 0; i < 100; ++i) {
    const auto next = chain.size() + 2;
    chain.push_back(static_cast<std::uint8_t>(0xc0 | (next >> 8)));
    chain.push_back(static_cast<std::uint8_t>(next & 0xff));
  }
  chain.push_back(0);
  put16(chain, 1);
  put16(chain, 1);
  EXPECT_FALSE(parse_query(chain));
}

TEST(DnsMessage, NotAQuery) {
  QuerySpec s;
  s.flags = 0x8180;  // a response
  EXPECT_FALSE(parse_query(build_query(s)));
  s.flags = 0x2800;  // UPDATE
  EXPECT_FALSE(parse_query(build_query(s)));
  s.flags = 0x1000;  // IQUERY
  EXPECT_FALSE(parse_query(build_query(s)));
  s.flags = 0x0100;
  s.qdcount = 0;
  EXPECT_FALSE(parse_query(build_query(s)));
  s.qdcount = 2;
  EXPECT_FALSE(parse_query(build_query(s)));
  // Reserved label types 0x40 and 0x80.
  s.qdcount = 1;
  s.name = {0x41, 'a', 0};
  EXPECT_FALSE(parse_query(build_query(s)));
  s.name = {0x81, 'a', 0};
  EXPECT_FALSE(parse_query(build_query(s)));
  EXPECT_FALSE(parse_query(Bytes{}));
}

TEST(DnsMessage, TruncatedAtEveryOffset) {
  QuerySpec s;
  s.qtype = 16;
  for (const auto& msg : {build_query(s), kDigQuery}) {
    // The question ends 4 bytes after the name; everything shorter is refused.
    const auto q = parse_query(msg);
    ASSERT_TRUE(q);
    std::size_t question_end = 12;
    while (msg[question_end] != 0) question_end += msg[question_end] + 1;
    question_end += 5;
    for (std::size_t n = 0; n < msg.size(); ++n) {
      const auto t = parse_query(std::span(msg.data(), n));
      if (n < question_end) {
        EXPECT_FALSE(t) << n;
      } else {
        ASSERT_TRUE(t) << n;
        EXPECT_EQ(t->question.name, q->question.name);
      }
      // Building a response never fails or overreads.
      const auto resp = make_local_response(std::span(msg.data(), n), kRcodeFormErr);
      EXPECT_EQ(resp.empty(), n < 12);
    }
  }
}

TEST(DnsMessage, ResponseEchoesQuestion) {
  QuerySpec s;
  s.id = 0xbeef;
  s.qtype = 28;
  s.edns = true;
  const auto query = build_query(s);
  const auto resp = make_local_response(query, kRcodeRefused);
  Bytes expected;
  put16(expected, 0xbeef);
  put16(expected, 0x8185);  // QR, RD copied, RA, REFUSED
  put16(expected, 1);
  put16(expected, 0);
  put16(expected, 0);
  put16(expected, 0);
  expected.insert(expected.end(), s.name.begin(), s.name.end());
  put16(expected, 28);
  put16(expected, 1);
  EXPECT_EQ(resp, expected);
  EXPECT_EQ(response_rcode(resp), kRcodeRefused);
  // The response is not itself a query.
  EXPECT_FALSE(parse_query(resp));
}

TEST(DnsMessage, ResponseWithoutRd) {
  QuerySpec s;
  s.flags = 0x0010;  // CD only
  const auto resp = make_local_response(build_query(s), kRcodeNxDomain);
  ASSERT_GE(resp.size(), 12u);
  EXPECT_EQ(resp[2], 0x80);
  EXPECT_EQ(resp[3], 0x83);
  EXPECT_EQ(response_rcode(resp), kRcodeNxDomain);
}

TEST(DnsMessage, HeaderOnlyResponseForUnparsable) {
  QuerySpec s;
  s.flags = 0x2900;  // UPDATE with RD
  s.qdcount = 0;
  const auto resp = make_local_response(build_query(s), kRcodeNotImp);
  const Bytes expected = {0x12, 0x34, 0xa9, 0x84, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(resp, expected);
  EXPECT_TRUE(make_local_response(Bytes{1, 2, 3}, kRcodeFormErr).empty());
  EXPECT_EQ(make_local_response(Bytes(12, 0), 0xff).at(3), 0x8f);  // rcode masked to 4 bits
}

TEST(DnsMessage, RcodeAndId) {
  EXPECT_FALSE(response_rcode(Bytes(11, 0)));
  Bytes m(12, 0);
  m[3] = 0x83;
  EXPECT_EQ(response_rcode(m), 3);
  set_message_id(m, 0xabcd);
  EXPECT_EQ(m[0], 0xab);
  EXPECT_EQ(m[1], 0xcd);
  Bytes one = {7};
  set_message_id(one, 0xabcd);
  EXPECT_EQ(one, Bytes{7});
}

TEST(DnsMessage, Names) {
  EXPECT_EQ(qtype_name(1), "A");
  EXPECT_EQ(qtype_name(28), "AAAA");
  EXPECT_EQ(qtype_name(16), "TXT");
  EXPECT_EQ(qtype_name(65), "HTTPS");
  EXPECT_EQ(qtype_name(255), "ANY");
  EXPECT_EQ(qtype_name(4242), "TYPE4242");
  EXPECT_EQ(rcode_name(kRcodeNoError), "NOERROR");
  EXPECT_EQ(rcode_name(kRcodeFormErr), "FORMERR");
  EXPECT_EQ(rcode_name(kRcodeServFail), "SERVFAIL");
  EXPECT_EQ(rcode_name(kRcodeNxDomain), "NXDOMAIN");
  EXPECT_EQ(rcode_name(kRcodeNotImp), "NOTIMP");
  EXPECT_EQ(rcode_name(kRcodeRefused), "REFUSED");
  EXPECT_EQ(rcode_name(23), "RCODE23");
}

}  // namespace
}  // namespace awf::dns

namespace awf::dns {
namespace {

TEST(DnsMessage, AddressResponseAnswersAWithOneRecord) {
  QuerySpec s;
  s.name = encode_name(split("Host.Docker.Internal"));
  const Bytes query = build_query(s);
  const std::uint8_t address[4] = {172, 17, 0, 1};
  const auto resp = make_address_response(query, address, 60);
  ASSERT_EQ(resp.size(), query.size() + 16);
  EXPECT_EQ(resp[0], 0x12);
  EXPECT_EQ(resp[1], 0x34);
  EXPECT_EQ(resp[2] & 0x80, 0x80);  // QR
  EXPECT_EQ(resp[2] & 0x04, 0x04);  // AA
  EXPECT_EQ(response_rcode(resp), kRcodeNoError);
  EXPECT_EQ(resp[7], 1);  // ANCOUNT
  const std::size_t at = query.size();
  EXPECT_EQ(resp[at], 0xc0);
  EXPECT_EQ(resp[at + 1], 12);
  EXPECT_EQ(resp[at + 3], 1);   // A
  EXPECT_EQ(resp[at + 5], 1);   // IN
  EXPECT_EQ(resp[at + 9], 60);  // TTL
  EXPECT_EQ(resp[at + 11], 4);
  EXPECT_EQ(Bytes(resp.end() - 4, resp.end()), (Bytes{172, 17, 0, 1}));
}

TEST(DnsMessage, AddressResponseHasNoDataForOtherTypes) {
  QuerySpec s;
  s.qtype = 28;  // AAAA
  const std::uint8_t address[4] = {172, 17, 0, 1};
  const auto resp = make_address_response(build_query(s), address, 60);
  EXPECT_EQ(response_rcode(resp), kRcodeNoError);
  EXPECT_EQ(resp[7], 0);
  EXPECT_EQ(resp.size(), 12u + s.name.size() + 4);
  EXPECT_TRUE(make_address_response(Bytes{1, 2, 3}, address, 60).empty());
}

}  // namespace
}  // namespace awf::dns
