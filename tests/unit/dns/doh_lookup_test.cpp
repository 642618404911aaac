// The address lookups awf makes itself over DNS over HTTPS (dns/lookup.h).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dns/lookup.h"
#include "dns/message.h"

namespace awf::dns {
namespace {

using Bytes = std::vector<std::uint8_t>;

void put16(Bytes& b, std::uint16_t v) {
  b.push_back(static_cast<std::uint8_t>(v >> 8));
  b.push_back(static_cast<std::uint8_t>(v & 0xff));
}

Bytes name(const std::string& dotted) {
  Bytes out;
  std::size_t start = 0;
  while (start < dotted.size()) {
    std::size_t dot = dotted.find('.', start);
    if (dot == std::string::npos) dot = dotted.size();
    out.push_back(static_cast<std::uint8_t>(dot - start));
    out.insert(out.end(), dotted.begin() + static_cast<long>(start),
               dotted.begin() + static_cast<long>(dot));
    start = dot + 1;
  }
  out.push_back(0);
  return out;
}

struct Rr {
  Bytes owner;
  std::uint16_t type;
  std::uint32_t ttl;
  Bytes rdata;
};

// An answer to `qname`/`qtype` with the given records in the answer section.
Bytes answer(const std::string& qname, std::uint16_t qtype, const std::vector<Rr>& records,
             std::uint8_t rcode = 0) {
  Bytes m;
  put16(m, 0);
  put16(m, static_cast<std::uint16_t>(0x8180 | rcode));
  put16(m, 1);
  put16(m, static_cast<std::uint16_t>(records.size()));
  put16(m, 0);
  put16(m, 0);
  const Bytes q = name(qname);
  m.insert(m.end(), q.begin(), q.end());
  put16(m, qtype);
  put16(m, 1);
  for (const Rr& r : records) {
    m.insert(m.end(), r.owner.begin(), r.owner.end());
    put16(m, r.type);
    put16(m, 1);
    put16(m, static_cast<std::uint16_t>(r.ttl >> 16));
    put16(m, static_cast<std::uint16_t>(r.ttl & 0xffff));
    put16(m, static_cast<std::uint16_t>(r.rdata.size()));
    m.insert(m.end(), r.rdata.begin(), r.rdata.end());
  }
  return m;
}

const Bytes kPointerToQuestion = {0xc0, 0x0c};

TEST(DohLookupQuery, BuildsAStandardQuery) {
  const Bytes query = make_lookup_query("Allowed.Test.", kTypeAaaa, 0);
  const std::optional<Query> parsed = parse_query(query);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->id, 0);
  EXPECT_EQ(parsed->flags, 0x0100);  // RD
  EXPECT_EQ(parsed->question.name, "allowed.test");
  EXPECT_EQ(parsed->question.qtype, kTypeAaaa);
  EXPECT_EQ(parsed->question.qclass, 1);
}

TEST(DohLookupQuery, RefusesUnwritableNames) {
  EXPECT_TRUE(make_lookup_query("", kTypeA, 0).empty());
  EXPECT_TRUE(make_lookup_query(".", kTypeA, 0).empty());
  EXPECT_TRUE(make_lookup_query("a..b", kTypeA, 0).empty());
  EXPECT_TRUE(make_lookup_query(std::string(64, 'a') + ".test", kTypeA, 0).empty());
  std::string long_name;
  for (int i = 0; i < 5; ++i) long_name += std::string(60, 'a') + ".";
  EXPECT_TRUE(make_lookup_query(long_name, kTypeA, 0).empty());
}

TEST(DohLookupAnswer, ReadsAddressesAndSmallestTtl) {
  const Bytes m = answer("allowed.test", kTypeA,
                         {{kPointerToQuestion, kTypeA, 300, {203, 0, 113, 10}},
                          {name("ALLOWED.test"), kTypeA, 30, {203, 0, 113, 12}}});
  const LookupAnswer a = read_lookup_answer(m, "allowed.test", kTypeA);
  ASSERT_TRUE(a.parsed) << a.error;
  EXPECT_EQ(a.rcode, 0);
  ASSERT_EQ(a.v4.size(), 2u);
  EXPECT_EQ(a.v4[0], (std::array<std::uint8_t, 4>{203, 0, 113, 10}));
  EXPECT_EQ(a.ttl, 30u);
  EXPECT_TRUE(a.v6.empty());
}

TEST(DohLookupAnswer, ReadsAaaa) {
  Bytes v6(16, 0);
  v6[0] = 0x20;
  v6[15] = 1;
  const LookupAnswer a = read_lookup_answer(
      answer("allowed.test", kTypeAaaa, {{kPointerToQuestion, kTypeAaaa, 60, v6}}),
      "allowed.test", kTypeAaaa);
  ASSERT_EQ(a.v6.size(), 1u);
  EXPECT_EQ(a.v6[0][15], 1);
}

TEST(DohLookupAnswer, FollowsTheCnameChain) {
  const Bytes m = answer("cname.test", kTypeA,
                         {{kPointerToQuestion, 5, 100, name("mid.test")},
                          {name("mid.test"), 5, 20, name("allowed.test")},
                          {name("allowed.test"), kTypeA, 60, {203, 0, 113, 10}}});
  const LookupAnswer a = read_lookup_answer(m, "cname.test", kTypeA);
  ASSERT_EQ(a.v4.size(), 1u);
  EXPECT_EQ(a.ttl, 20u);
}

TEST(DohLookupAnswer, IgnoresRecordsForOtherNames) {
  // An answer cannot hand out addresses for a name that was not asked (nor reached by CNAME).
  const Bytes m = answer("allowed.test", kTypeA,
                         {{name("evil.test"), kTypeA, 60, {203, 0, 113, 20}},
                          {name("other.test"), 5, 60, name("allowed.test")},
                          {kPointerToQuestion, kTypeA, 60, {203, 0, 113, 10}}});
  const LookupAnswer a = read_lookup_answer(m, "allowed.test", kTypeA);
  ASSERT_EQ(a.v4.size(), 1u);
  EXPECT_EQ(a.v4[0][3], 10);
}

TEST(DohLookupAnswer, CnameLoopEnds) {
  const Bytes m = answer("a.test", kTypeA,
                         {{kPointerToQuestion, 5, 60, name("b.test")},
                          {name("b.test"), 5, 60, name("a.test")}});
  const LookupAnswer a = read_lookup_answer(m, "a.test", kTypeA);
  EXPECT_TRUE(a.parsed);
  EXPECT_TRUE(a.v4.empty());
}

TEST(DohLookupAnswer, Rcode) {
  const LookupAnswer a = read_lookup_answer(answer("nx.test", kTypeA, {}, kRcodeNxDomain),
                                            "nx.test", kTypeA);
  ASSERT_TRUE(a.parsed);
  EXPECT_EQ(a.rcode, kRcodeNxDomain);
}

TEST(DohLookupAnswer, WrongLengthRecordsSkipped) {
  const LookupAnswer a = read_lookup_answer(
      answer("allowed.test", kTypeA, {{kPointerToQuestion, kTypeA, 60, {1, 2, 3}}}),
      "allowed.test", kTypeA);
  EXPECT_TRUE(a.parsed);
  EXPECT_TRUE(a.v4.empty());
}

TEST(DohLookupAnswer, MalformedAnswers) {
  const Bytes good = answer("allowed.test", kTypeA,
                            {{kPointerToQuestion, kTypeA, 60, {203, 0, 113, 10}}});
  for (std::size_t cut = 0; cut < good.size(); ++cut) {
    const Bytes truncated(good.begin(), good.begin() + static_cast<long>(cut));
    EXPECT_FALSE(read_lookup_answer(truncated, "allowed.test", kTypeA).parsed) << cut;
  }
  Bytes query = make_lookup_query("allowed.test", kTypeA, 0);  // QR clear: not an answer
  EXPECT_FALSE(read_lookup_answer(query, "allowed.test", kTypeA).parsed);
  Bytes loop = good;
  loop[12] = 0xc0;  // the question's name points at itself
  loop[13] = 0x0c;
  EXPECT_FALSE(read_lookup_answer(loop, "allowed.test", kTypeA).parsed);
}

}  // namespace
}  // namespace awf::dns
