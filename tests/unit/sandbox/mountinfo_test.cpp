#include "sandbox/mountinfo.h"

#include <gtest/gtest.h>

namespace awf::sandbox {
namespace {

using Mounts = std::vector<std::string>;

constexpr std::string_view kInfo =
    "22 1 0:21 / / rw,relatime - ext4 /dev/sda1 rw\n"
    "30 22 0:25 / /sys rw,nosuid - sysfs sysfs rw\n"
    "31 30 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
    "40 22 0:30 / /system rw - tmpfs tmpfs rw\n"
    "41 22 0:31 / /data/a\\040b rw - tmpfs tmpfs rw\n"
    "42 41 0:32 / /data/a\\040b/in\\134side rw - tmpfs tmpfs rw\n";

TEST(MountsAtOrBelow, TheMountAndItsSubmountsInOrder) {
  EXPECT_EQ(mounts_at_or_below(kInfo, "/sys"), (Mounts{"/sys", "/sys/fs/cgroup"}));
}

TEST(MountsAtOrBelow, APrefixThatIsNotAParentDirectoryIsNotBelow) {
  EXPECT_EQ(mounts_at_or_below(kInfo, "/sys/fs"), (Mounts{"/sys/fs/cgroup"}));
  EXPECT_EQ(mounts_at_or_below(kInfo, "/syst"), Mounts{});
}

TEST(MountsAtOrBelow, EscapesAreDecoded) {
  EXPECT_EQ(mounts_at_or_below(kInfo, "/data/a b"), (Mounts{"/data/a b", "/data/a b/in\\side"}));
}

TEST(MountsAtOrBelow, TheRootHoldsEverything) {
  EXPECT_EQ(mounts_at_or_below(kInfo, "/").size(), 6u);
}

TEST(MountsAtOrBelow, ShortAndBrokenLinesAreSkipped) {
  EXPECT_EQ(mounts_at_or_below("1 2 3\n\n9 9 0:1 / /sys rw\n7 7 0:1 / /sys\\04", "/sys"),
            (Mounts{"/sys"}));
  // An escape cut short stays as it is.
  EXPECT_EQ(mounts_at_or_below("7 7 0:1 / /x\\04", "/x\\04"), (Mounts{"/x\\04"}));
  EXPECT_EQ(mounts_at_or_below("", "/sys"), Mounts{});
}

}  // namespace
}  // namespace awf::sandbox
