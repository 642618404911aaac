#include "dns/answer_filter.h"

#include <arpa/inet.h>

#include "policy/host_addresses.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace awf::dns {
namespace {

using Bytes = std::vector<std::uint8_t>;

void put16(Bytes& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

void put_name(Bytes& out, const std::string& dotted) {
  std::size_t start = 0;
  while (start < dotted.size()) {
    const std::size_t dot = dotted.find('.', start);
    const std::string label =
        dotted.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    out.push_back(static_cast<std::uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  out.push_back(0);
}

struct Rr {
  std::uint16_t type;
  Bytes rdata;
  bool pointer_to_question = true;
};

// A response to "allowed.test A" with the given answer, authority and additional records.
Bytes response(const std::vector<Rr>& answers, const std::vector<Rr>& additional = {}) {
  Bytes m;
  put16(m, 0x1234);
  put16(m, 0x8180);
  put16(m, 1);
  put16(m, static_cast<std::uint16_t>(answers.size()));
  put16(m, 0);
  put16(m, static_cast<std::uint16_t>(additional.size()));
  put_name(m, "allowed.test");
  put16(m, 1);
  put16(m, 1);
  for (const auto* section : {&answers, &additional}) {
    for (const Rr& rr : *section) {
      if (rr.pointer_to_question) {
        put16(m, 0xc00c);
      } else {
        put_name(m, "allowed.test");
      }
      put16(m, rr.type);
      put16(m, 1);
      m.insert(m.end(), {0, 0, 0, 60});
      put16(m, static_cast<std::uint16_t>(rr.rdata.size()));
      m.insert(m.end(), rr.rdata.begin(), rr.rdata.end());
    }
  }
  return m;
}

Rr a(std::uint8_t a0, std::uint8_t a1, std::uint8_t a2, std::uint8_t a3) {
  return {1, {a0, a1, a2, a3}};
}

Rr aaaa(std::initializer_list<std::uint8_t> prefix) {
  Bytes bytes(16, 0);
  std::size_t i = 0;
  for (std::uint8_t b : prefix) bytes[i++] = b;
  return {28, bytes};
}

TEST(AnswerFilter, PublicAnswersPassUnchanged) {
  const Bytes m = response({a(203, 0, 113, 10), aaaa({0x20, 0x01, 0x0d, 0xb8, 0, 1})});
  const FilteredAnswer f = filter_internal_answers(m);
  EXPECT_EQ(f.result, FilteredAnswer::Result::Unchanged);
  EXPECT_TRUE(f.removed.empty());
}

TEST(AnswerFilter, RemovesInternalIpv4AndKeepsPublic) {
  const Bytes m = response({a(10, 99, 0, 10), a(203, 0, 113, 10), a(169, 254, 169, 254)});
  const FilteredAnswer f = filter_internal_answers(m);
  ASSERT_EQ(f.result, FilteredAnswer::Result::Filtered);
  EXPECT_EQ(f.removed, (std::vector<std::string>{"10.99.0.10", "169.254.169.254"}));
  const FilteredAnswer again = filter_internal_answers(f.message);
  EXPECT_EQ(again.result, FilteredAnswer::Result::Unchanged) << "rebuilt answer must parse";
  EXPECT_EQ(f.message[7], 1);  // ANCOUNT
  const Bytes tail(f.message.end() - 4, f.message.end());
  EXPECT_EQ(tail, (Bytes{203, 0, 113, 10}));
}

TEST(AnswerFilter, RemovesInternalIpv6AndMappedForms) {
  Rr loopback = aaaa({});
  loopback.rdata[15] = 1;
  Rr mapped = aaaa({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1});
  const FilteredAnswer f = filter_internal_answers(response({loopback, mapped, aaaa({0xfd, 0})}));
  ASSERT_EQ(f.result, FilteredAnswer::Result::Filtered);
  EXPECT_EQ(f.removed.size(), 3u);
  EXPECT_EQ(f.message[7], 0);
}

TEST(AnswerFilter, InternalGlueInAdditionalIsDropped) {
  const FilteredAnswer f =
      filter_internal_answers(response({a(203, 0, 113, 10)}, {a(192, 168, 1, 1)}));
  ASSERT_EQ(f.result, FilteredAnswer::Result::Filtered);
  EXPECT_EQ(f.message[7], 1);
  EXPECT_EQ(f.message[11], 0);  // ARCOUNT
}

TEST(AnswerFilter, HostsOwnAddressesGoWhenGiven) {
  policy::HostAddresses host;
  in_addr own{};
  inet_pton(AF_INET, "203.0.113.1", &own);
  host.add_v4(own, 32);
  const auto m = response({a(203, 0, 113, 1), a(203, 0, 113, 10)});
  EXPECT_EQ(filter_internal_answers(m).result, FilteredAnswer::Result::Unchanged);
  const FilteredAnswer f = filter_internal_answers(m, &host);
  ASSERT_EQ(f.result, FilteredAnswer::Result::Filtered);
  EXPECT_EQ(f.removed, std::vector<std::string>{"203.0.113.1"});
  EXPECT_EQ(f.message[7], 1);  // one answer left
}

TEST(AnswerFilter, UncompressedOwnerNamesWork) {
  Rr internal = a(127, 0, 0, 1);
  internal.pointer_to_question = false;
  Rr good = a(203, 0, 113, 11);
  good.pointer_to_question = false;
  const FilteredAnswer f = filter_internal_answers(response({internal, good}));
  ASSERT_EQ(f.result, FilteredAnswer::Result::Filtered);
  EXPECT_EQ(filter_internal_answers(f.message).result, FilteredAnswer::Result::Unchanged);
}

TEST(AnswerFilter, TruncatedOrLoopingAnswersAreMalformed) {
  const Bytes m = response({a(10, 0, 0, 1)});
  for (std::size_t cut = 0; cut < m.size(); ++cut) {
    const Bytes prefix(m.begin(), m.begin() + static_cast<std::ptrdiff_t>(cut));
    EXPECT_NE(filter_internal_answers(prefix).result, FilteredAnswer::Result::Filtered) << cut;
  }
  Bytes loop = response({});
  loop[7] = 1;  // one answer whose owner name points at itself
  const std::size_t at = loop.size();
  put16(loop, static_cast<std::uint16_t>(0xc000 | at));
  loop.insert(loop.end(), {0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 10, 0, 0, 1});
  EXPECT_EQ(filter_internal_answers(loop).result, FilteredAnswer::Result::Malformed);
}

// Found by fuzz_dns_answer_filter: the question name is a pointer into the header, whose counts
// a rebuild changes. The rebuilt answer must stand on its own.
TEST(AnswerFilter, QuestionPointingIntoTheHeaderIsRebuiltUncompressed) {
  const Bytes hostile = {
      0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00,
      0x01, 0x00, 0x01, 0x00, 0x0c, 0xc0, 0x00, 0x00, 0x01, 0x01, 0x00, 0x01, 0x00, 0x01, 0x00,
      0x10, 0x00, 0x3c, 0x00, 0x04, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x1c, 0x00, 0x01, 0x00, 0x10, 0x00, 0x0a, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0xf0, 0x00, 0x00, 0x00, 0x00, 0x29, 0xee, 0xf7, 0xff, 0x00, 0x00,
      0x00, 0x00, 0xff, 0x00, 0x01, 0x00, 0x71, 0x0a};
  const FilteredAnswer f = filter_internal_answers(hostile);
  ASSERT_EQ(f.result, FilteredAnswer::Result::Filtered);
  EXPECT_EQ(filter_internal_answers(f.message).result, FilteredAnswer::Result::Unchanged);
}

}  // namespace
}  // namespace awf::dns
