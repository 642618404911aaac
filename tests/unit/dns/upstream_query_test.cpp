#include "dns/upstream_query.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "dns/message.h"

namespace awf::dns {
namespace {

using Bytes = std::vector<std::uint8_t>;

void put16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v & 0xff));
}

// A query for `name` (labels as given, case kept) with the header counts and flags given and
// `sections` appended after the question.
Bytes query(const std::vector<std::string>& labels, std::uint16_t flags = 0x0100,
            std::uint16_t ancount = 0, std::uint16_t arcount = 0, const Bytes& sections = {}) {
  Bytes b;
  put16(b, 0x1234);
  put16(b, flags);
  put16(b, 1);
  put16(b, ancount);
  put16(b, 0);
  put16(b, arcount);
  for (const auto& l : labels) {
    b.push_back(static_cast<std::uint8_t>(l.size()));
    b.insert(b.end(), l.begin(), l.end());
  }
  b.push_back(0);
  put16(b, 16);  // TXT
  put16(b, 1);
  b.insert(b.end(), sections.begin(), sections.end());
  return b;
}

// An OPT record: payload size, DO bit, and one option carrying `option_data`.
Bytes opt(std::uint16_t size, bool dnssec_ok, const std::string& option_data = "") {
  Bytes b{0};
  put16(b, 41);
  put16(b, size);
  put16(b, 0);
  put16(b, dnssec_ok ? 0x8000 : 0);
  const std::uint16_t rdlength = option_data.empty() ? 0 : 4 + option_data.size();
  put16(b, rdlength);
  if (!option_data.empty()) {
    put16(b, 65001);
    put16(b, static_cast<std::uint16_t>(option_data.size()));
    b.insert(b.end(), option_data.begin(), option_data.end());
  }
  return b;
}

// A TXT record owned by the question's name (a pointer to it) carrying `text`.
Bytes txt_record(const std::string& text) {
  Bytes b{0xc0, 0x0c};
  put16(b, 16);
  put16(b, 1);
  put16(b, 0);
  put16(b, 60);
  put16(b, static_cast<std::uint16_t>(text.size() + 1));
  b.push_back(static_cast<std::uint8_t>(text.size()));
  b.insert(b.end(), text.begin(), text.end());
  return b;
}

bool contains(const Bytes& haystack, const std::string& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

const Bytes kPlain = query({"allowed", "test"}, 0x0100);

TEST(UpstreamQuery, PlainQueryIsRebuiltAsIs) {
  EXPECT_EQ(make_upstream_query(kPlain), kPlain);
}

TEST(UpstreamQuery, AdditionalRecordDataStaysHome) {
  const Bytes smuggled = query({"allowed", "test"}, 0x0100, 0, 1, txt_record("SECRET-1"));
  const Bytes upstream = make_upstream_query(smuggled);
  EXPECT_FALSE(contains(upstream, "SECRET-1"));
  EXPECT_EQ(upstream, kPlain);
}

TEST(UpstreamQuery, AnswerSectionDataStaysHome) {
  const Bytes smuggled = query({"allowed", "test"}, 0x0100, 1, 0, txt_record("SECRET-2"));
  EXPECT_EQ(make_upstream_query(smuggled), kPlain);
}

TEST(UpstreamQuery, TrailingBytesStayHome) {
  Bytes smuggled = kPlain;
  const std::string tail = "SECRET-3";
  smuggled.insert(smuggled.end(), tail.begin(), tail.end());
  EXPECT_EQ(make_upstream_query(smuggled), kPlain);
}

TEST(UpstreamQuery, EdnsOptionDataStaysHomeSizeAndDoBitPass) {
  const Bytes smuggled = query({"allowed", "test"}, 0x0100, 0, 1, opt(4096, true, "SECRET-4"));
  const Bytes upstream = make_upstream_query(smuggled);
  EXPECT_FALSE(contains(upstream, "SECRET-4"));
  EXPECT_EQ(upstream, query({"allowed", "test"}, 0x0100, 0, 1, opt(kMaxUpstreamUdpSize, true)));
  const auto edns = find_edns(upstream);
  ASSERT_TRUE(edns);
  EXPECT_EQ(edns->udp_size, kMaxUpstreamUdpSize);
  EXPECT_TRUE(edns->dnssec_ok);
}

TEST(UpstreamQuery, SmallEdnsSizeIsRaisedTo512) {
  const Bytes q = query({"allowed", "test"}, 0x0100, 0, 1, opt(100, false));
  EXPECT_EQ(find_edns(q)->udp_size, 512);
}

TEST(UpstreamQuery, OptOutsideAdditionalIsNotEdns) {
  const Bytes q = query({"allowed", "test"}, 0x0100, 1, 0, opt(1232, true));
  EXPECT_FALSE(find_edns(q));
  EXPECT_EQ(make_upstream_query(q), kPlain);
}

TEST(UpstreamQuery, TruncatedSectionsMeanNoEdns) {
  Bytes q = query({"allowed", "test"}, 0x0100, 0, 1, opt(1232, true));
  q.resize(q.size() - 3);
  EXPECT_FALSE(find_edns(q));
  EXPECT_EQ(make_upstream_query(q), kPlain);
}

TEST(UpstreamQuery, OnlyRdAdCdFlagsPass) {
  // Every header bit a query may set: opcode stays QUERY (parse_query), AA/TC/Z dropped.
  const Bytes q = query({"allowed", "test"}, 0x0100 | 0x0400 | 0x0200 | 0x0040 | 0x0020 | 0x0010);
  EXPECT_EQ(make_upstream_query(q), query({"allowed", "test"}, 0x0100 | 0x0020 | 0x0010));
}

TEST(UpstreamQuery, NameGoesUpInLowerCaseAndComesBackInTheClientsCase) {
  const Bytes mixed = query({"AlLoWeD", "TeSt"});
  EXPECT_EQ(make_upstream_query(mixed), kPlain);
  Bytes response = kPlain;
  response[2] |= 0x80;
  restore_question_case(response, mixed);
  Bytes expected = mixed;
  expected[2] |= 0x80;
  EXPECT_EQ(response, expected);
}

TEST(UpstreamQuery, RestoreLeavesAnotherNameAlone) {
  Bytes response = query({"other", "test"});
  const Bytes before = response;
  restore_question_case(response, query({"OTHER", "TESX"}));
  EXPECT_EQ(response, before);
  restore_question_case(response, Bytes{1, 2, 3});
  EXPECT_EQ(response, before);
}

TEST(UpstreamQuery, UnparsableOrOddNamesAreNotBuilt) {
  EXPECT_TRUE(make_upstream_query(Bytes{1, 2, 3}).empty());
  EXPECT_TRUE(make_upstream_query(query({"a b", "test"})).empty());
}

}  // namespace
}  // namespace awf::dns
