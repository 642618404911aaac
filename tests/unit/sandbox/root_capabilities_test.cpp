#include "sandbox/root_capabilities.h"

#include <gtest/gtest.h>
#include <linux/capability.h>

namespace awf::sandbox {
namespace {

constexpr std::uint64_t bit(int capability) { return std::uint64_t{1} << capability; }

constexpr std::uint64_t kAll = (std::uint64_t{1} << (CAP_LAST_CAP + 1)) - 1;

TEST(RootCapabilities, AFullSetHasNoProblem) {
  EXPECT_EQ(root_capability_problem(kAll), std::nullopt);
}

TEST(RootCapabilities, EachMissingOneIsNamed) {
  for (const auto& [capability, name] :
       {std::pair{CAP_SYS_ADMIN, "CAP_SYS_ADMIN"}, {CAP_SYS_PTRACE, "CAP_SYS_PTRACE"},
        {CAP_NET_RAW, "CAP_NET_RAW"}, {CAP_SETPCAP, "CAP_SETPCAP"}}) {
    const auto problem = root_capability_problem(kAll & ~bit(capability));
    ASSERT_TRUE(problem) << name;
    EXPECT_NE(problem->find(std::string("without ") + name + " ("), std::string::npos) << *problem;
  }
}

// Docker's default set: no SYS_ADMIN, NET_ADMIN or SYS_PTRACE.
TEST(RootCapabilities, DockersDefaultSetNamesAllThreeAndTheFix) {
  const std::uint64_t docker = bit(CAP_CHOWN) | bit(CAP_DAC_OVERRIDE) | bit(CAP_FSETID) |
                               bit(CAP_FOWNER) | bit(CAP_MKNOD) | bit(CAP_NET_RAW) |
                               bit(CAP_SETGID) | bit(CAP_SETUID) | bit(CAP_SETFCAP) |
                               bit(CAP_SETPCAP) | bit(CAP_NET_BIND_SERVICE) |
                               bit(CAP_SYS_CHROOT) | bit(CAP_KILL) | bit(CAP_AUDIT_WRITE);
  const auto problem = root_capability_problem(docker);
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->find("without CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SYS_PTRACE ("),
            std::string::npos)
      << *problem;
  EXPECT_NE(problem->find("--cap-add"), std::string::npos);
  EXPECT_NE(problem->find("non-root user"), std::string::npos);
}

TEST(RootCapabilities, NoneAtAllNamesEveryOne) {
  const auto problem = root_capability_problem(0);
  ASSERT_TRUE(problem);
  for (const char* name : {"CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_NET_BIND_SERVICE",
                           "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_SYS_PTRACE"}) {
    EXPECT_NE(problem->find(name), std::string::npos) << name;
  }
}

}  // namespace
}  // namespace awf::sandbox
