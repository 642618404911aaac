#include "dns/denial.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dns/message.h"
#include "dns/upstream_query.h"

namespace awf::dns {
namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes query(bool edns) {
  Bytes b{0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, static_cast<std::uint8_t>(edns ? 1 : 0)};
  for (const std::string label : {"blocked", "test"}) {
    b.push_back(static_cast<std::uint8_t>(label.size()));
    b.insert(b.end(), label.begin(), label.end());
  }
  b.insert(b.end(), {0, 0, 1, 0, 1});
  if (edns) b.insert(b.end(), {0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0});
  return b;
}

std::string tail_text(const Bytes& message, std::size_t n) {
  return std::string(message.end() - static_cast<std::ptrdiff_t>(n), message.end());
}

TEST(Denial, NxdomainWithTheQuestionAndNoRecordsWithoutEdns) {
  const Bytes response = make_denied_response(query(false), "awf: blocked.test is not allowed");
  EXPECT_EQ(response, make_local_response(query(false), kRcodeNxDomain));
  EXPECT_EQ(response_rcode(response), kRcodeNxDomain);
  EXPECT_EQ(response[0], 0x12);
  EXPECT_EQ(response[11], 0);  // no OPT: the client did not speak EDNS
}

TEST(Denial, ReasonAsExtendedDnsErrorBlocked) {
  const std::string why = "awf: blocked.test is not allowed";
  const Bytes response = make_denied_response(query(true), why);
  EXPECT_EQ(response_rcode(response), kRcodeNxDomain);
  EXPECT_EQ(response[11], 1);  // ARCOUNT: the OPT record
  EXPECT_EQ(tail_text(response, why.size()), why);
  // Option 15 (EDE), length, INFO-CODE 15 (Blocked), then the text.
  const std::size_t option = response.size() - why.size() - 6;
  EXPECT_EQ(Bytes(response.begin() + option, response.begin() + option + 6),
            (Bytes{0, 15, 0, static_cast<std::uint8_t>(2 + why.size()), 0, 15}));
  const auto edns = find_edns(response);
  ASSERT_TRUE(edns);
}

TEST(Denial, LongReasonIsCut) {
  const Bytes response = make_denied_response(query(true), std::string(1000, 'x'));
  EXPECT_LT(response.size(), 512u);
}

TEST(Denial, UnparsableQueryGetsNothing) {
  EXPECT_TRUE(make_denied_response(Bytes{1, 2, 3}, "why").empty());
}

}  // namespace
}  // namespace awf::dns
