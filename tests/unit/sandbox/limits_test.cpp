#include "sandbox/limits.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace awf::sandbox {
namespace {

TEST(MemoryLimit, AcceptsSuffixesCaseInsensitively) {
  EXPECT_EQ(parse_memory_limit("64m"), 64ull << 20);
  EXPECT_EQ(parse_memory_limit("64M"), 64ull << 20);
  EXPECT_EQ(parse_memory_limit("6g"), 6ull << 30);
  EXPECT_EQ(parse_memory_limit("8192k"), 8ull << 20);
  EXPECT_EQ(parse_memory_limit("1t"), 1ull << 40);
  EXPECT_EQ(parse_memory_limit("4194304"), 4ull << 20);
  EXPECT_EQ(parse_memory_limit("4194304b"), 4ull << 20);
}

TEST(MemoryLimit, RejectsMalformedValues) {
  for (const char* bad : {"", "m", "-1m", "+5m", "1.5g", "5x", "5mb", " 5m", "5m ", "0x10m",
                          "99999999999999999999", "18446744073709551615k"}) {
    EXPECT_THROW(parse_memory_limit(bad), std::invalid_argument) << bad;
  }
}

TEST(MemoryLimit, RejectsTooSmallAndNamesTheFlag) {
  EXPECT_EQ(parse_memory_limit("4m"), kMinMemoryLimit);
  try {
    parse_memory_limit("1m");
    FAIL() << "1m accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("--memory-limit '1m'"), std::string::npos);
    EXPECT_NE(std::string(error.what()).find("at least 4m"), std::string::npos);
  }
  EXPECT_THROW(parse_memory_limit("0"), std::invalid_argument);
}

TEST(PidsLimit, AcceptsCountsAndRejectsTheRest) {
  EXPECT_EQ(parse_pids_limit("1000"), 1000u);
  EXPECT_EQ(parse_pids_limit("2"), 2u);
  for (const char* bad : {"", "0", "1", "-5", "10k", "1e3", " 5", "abc"}) {
    EXPECT_THROW(parse_pids_limit(bad), std::invalid_argument) << bad;
  }
}

TEST(FormatSize, UsesTheLargestExactUnit) {
  EXPECT_EQ(format_size(64ull << 20), "64m");
  EXPECT_EQ(format_size(6ull << 30), "6g");
  EXPECT_EQ(format_size(1536ull << 20), "1536m");
  EXPECT_EQ(format_size(1ull << 40), "1t");
  EXPECT_EQ(format_size(4097), "4097b");
  EXPECT_EQ(format_size(0), "0b");
}

constexpr const char* kHybrid =
    "9:name=systemd:/\n"
    "8:pids:/user.slice\n"
    "4:memory:/process_api/abc\n"
    "2:cpu,cpuacct:/x:y\n"
    "0::/unified/path\n";

TEST(CgroupPath, FindsV1ControllersAndTheUnifiedLine) {
  EXPECT_EQ(cgroup_path_of(kHybrid, "memory"), "/process_api/abc");
  EXPECT_EQ(cgroup_path_of(kHybrid, "pids"), "/user.slice");
  EXPECT_EQ(cgroup_path_of(kHybrid, "cpuacct"), "/x:y");  // joined controllers, ':' in path
  EXPECT_EQ(cgroup_path_of(kHybrid, ""), "/unified/path");
  EXPECT_EQ(cgroup_path_of(kHybrid, "blkio"), std::nullopt);
  EXPECT_EQ(cgroup_path_of("0::/\n", "memory"), std::nullopt);
  EXPECT_EQ(cgroup_path_of("0::/\n", ""), "/");
  EXPECT_EQ(cgroup_path_of("garbage\n", ""), std::nullopt);
}

TEST(ControllerList, MatchesWholeNames) {
  EXPECT_TRUE(lists_controller("cpuset cpu io memory hugetlb pids rdma misc\n", "memory"));
  EXPECT_TRUE(lists_controller("cpuset cpu io memory hugetlb pids rdma misc\n", "pids"));
  EXPECT_FALSE(lists_controller("cpuset cpu io memory_x\n", "memory"));
  EXPECT_FALSE(lists_controller("", "memory"));
}

TEST(RunPid, ParsesOnlyRunNames) {
  EXPECT_EQ(run_pid_from_name("run-1234", "run-"), 1234);
  EXPECT_EQ(run_pid_from_name("awf-run-7", "awf-run-"), 7);
  for (const char* bad :
       {"run-", "run-0", "run-01", "run-12a", "run-99999999999", "other-5", "."}) {
    EXPECT_EQ(run_pid_from_name(bad, "run-"), std::nullopt) << bad;
  }
}

TEST(KeyedValue, ReadsEventCounters) {
  const char* events = "low 0\nhigh 0\nmax 12\noom 1\noom_kill 3\noom_group_kill 0\n";
  EXPECT_EQ(keyed_value(events, "oom_kill"), 3u);
  EXPECT_EQ(keyed_value(events, "oom"), 1u);
  EXPECT_EQ(keyed_value(events, "max"), 12u);
  EXPECT_EQ(keyed_value(events, "missing"), std::nullopt);
  EXPECT_EQ(keyed_value("oom_kill_disable 0\nunder_oom 0\noom_kill 2", "oom_kill"), 2u);
}

TEST(UnenforceableLimits, DefaultsAreNotRefused) {
  EXPECT_EQ(unenforceable_limits_message(ResourceLimits{}, "why", true), "");
  EXPECT_EQ(unenforceable_limits_message(ResourceLimits{}, "why", false), "");
}

TEST(UnenforceableLimits, NamesEachExplicitLimitWithReasonAndFix) {
  ResourceLimits limits;
  limits.memory_bytes = 2ull << 30;
  limits.memory_explicit = true;
  EXPECT_EQ(unenforceable_limits_message(limits, "awf is not running as root", true),
            "--memory-limit 2g cannot be enforced: awf is not running as root (run awf with "
            "sudo, or in a cgroup delegated to your user with the memory and pids controllers, "
            "e.g. systemd-run --user --scope -p Delegate=yes awf ...; or leave the limit out)");
  limits.pids = 100;
  limits.pids_explicit = true;
  const std::string both = unenforceable_limits_message(limits, "no cgroupfs", false);
  EXPECT_TRUE(both.starts_with("--memory-limit 2g and --pids-limit 100 cannot be enforced: "
                               "no cgroupfs (awf needs cgroup v2"))
      << both;
  limits.memory_explicit = false;
  EXPECT_TRUE(unenforceable_limits_message(limits, "x", true)
                  .starts_with("--pids-limit 100 cannot be enforced: x ("));
}

}  // namespace
}  // namespace awf::sandbox
