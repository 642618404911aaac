#include "policy/port_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace awf::policy {
namespace {

using ::testing::HasSubstr;

std::string spec_error(std::string_view text) {
  try {
    parse_port_spec(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(PortSpec, SinglesAndRanges) {
  const auto ranges = parse_port_spec("3000,8000-8010,65535,1");
  ASSERT_EQ(ranges.size(), 4u);
  EXPECT_EQ(ranges[0].first, 3000);
  EXPECT_EQ(ranges[0].last, 3000);
  EXPECT_EQ(ranges[1].first, 8000);
  EXPECT_EQ(ranges[1].last, 8010);
  EXPECT_TRUE(ranges[1].contains(8005));
  EXPECT_FALSE(ranges[1].contains(8011));
  EXPECT_EQ(ranges[2].first, 65535);
  EXPECT_EQ(ranges[3].first, 1);
}

TEST(PortSpec, RejectsBadSyntax) {
  for (const char* bad : {"", "0", "65536", "99999", "080", "3000 ", " 3000", "30 00", "+80",
                          "-80", "80-", "-", "3000,", ",3000", "3000,,3001", "9000-8000",
                          "0x50", "1e3", "123456"}) {
    EXPECT_NE(spec_error(bad), "<no error>") << bad;
  }
  EXPECT_THAT(spec_error("080"), HasSubstr("leading zeros"));
  EXPECT_THAT(spec_error("9000-8000"), HasSubstr("larger"));
}

TEST(PortSpec, NeverOpensDangerousPorts) {
  for (const std::uint16_t port : dangerous_ports()) {
    EXPECT_THAT(spec_error(std::to_string(port)), HasSubstr("dangerous")) << port;
  }
  // A range that merely covers one is refused too.
  EXPECT_THAT(spec_error("20-30"), HasSubstr("port 22"));
  EXPECT_THAT(spec_error("1-65535"), HasSubstr("dangerous"));
  EXPECT_THAT(spec_error("5000-5431"), HasSubstr("<no error>"));
  EXPECT_THAT(spec_error("5000-5432"), HasSubstr("5432"));
  EXPECT_TRUE(is_dangerous_port(6379));
  EXPECT_FALSE(is_dangerous_port(3000));
}

TEST(PortSpec, ServicePortsMayNameDangerousOnesOnPurpose) {
  const auto ranges = parse_port_spec("5432,6379", DangerousPorts::Allowed);
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0].first, 5432);
  EXPECT_EQ(ranges[1].last, 6379);
  // The syntax rules still hold.
  EXPECT_THROW(parse_port_spec("05432", DangerousPorts::Allowed), std::invalid_argument);
  EXPECT_THROW(parse_port_spec("", DangerousPorts::Allowed), std::invalid_argument);
}

}  // namespace
}  // namespace awf::policy
