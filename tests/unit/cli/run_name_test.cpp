#include "cli/run_name.h"

#include <gtest/gtest.h>

namespace awf::cli {
namespace {

TEST(RunName, StartTimeInUtcWithMillisecondsThenRandomHex) {
  // 2026-12-07 02:11:02.123 UTC
  EXPECT_EQ(run_dir_name(1796609462123, 0x9f3c0a1b), "20261207T021102.123Z-9f3c0a1b");
  EXPECT_EQ(run_dir_name(1796609462005, 0x1), "20261207T021102.005Z-00000001");
}

TEST(RunName, NamesSortByStartTime) {
  EXPECT_LT(run_dir_name(1796609462999, 0xffffffff), run_dir_name(1796609463000, 0));
  EXPECT_LT(run_dir_name(999999999000, 0), run_dir_name(1796609462000, 0));
}

TEST(RunName, AcceptsOnlyTheNamesAwfGives) {
  EXPECT_TRUE(is_run_dir_name(run_dir_name(1796609462123, 0xdeadbeef)));
  EXPECT_TRUE(is_run_dir_name("20261207T021102.123Z-9f3c0a1b"));
  for (const char* other : {"", "latest", "..", "awf-logs-20261207T021102-42",
                            "20261207T021102-4242",              // the old /tmp form
                            "20261207T021102.123Z-9F3C0A1B",     // upper-case hex
                            "20261207T021102.123Z-9f3c0a1",      // short
                            "20261207T021102.123Z-9f3c0a1b0",    // long
                            "20261207T021102.123Z-9f3c0a1b/..",  // a path
                            "29991231T000000.000Z-0000000g"}) {
    EXPECT_FALSE(is_run_dir_name(other)) << other;
  }
}

}  // namespace
}  // namespace awf::cli
