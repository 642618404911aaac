#include "sandbox/userns.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace awf::sandbox {
namespace {

UsernsFailure clone_failed(int error) {
  return {UsernsStep::Clone, error, "clone sandbox: error " + std::to_string(error)};
}

TEST(UsernsProblem, MaxUserNamespacesZeroNamesTheSysctlAndTheFix) {
  const auto message = userns_problem({0L, std::nullopt, std::nullopt}, {});
  ASSERT_TRUE(message);
  EXPECT_EQ(*message,
            "cannot create the sandbox: unprivileged user namespaces are disabled "
            "(user.max_user_namespaces=0); run awf with sudo, or allow them: sudo sysctl -w "
            "user.max_user_namespaces=15000");
  // The same whatever step noticed it (ENOSPC from the clone).
  EXPECT_EQ(userns_problem({0L, std::nullopt, std::nullopt}, clone_failed(ENOSPC)), message);
}

TEST(UsernsProblem, DebianSwitch) {
  const auto message = userns_problem({15000L, 0L, std::nullopt}, clone_failed(EPERM));
  ASSERT_TRUE(message);
  EXPECT_EQ(*message,
            "cannot create the sandbox: unprivileged user namespaces are disabled "
            "(kernel.unprivileged_userns_clone=0); run awf with sudo, or allow them: sudo "
            "sysctl -w kernel.unprivileged_userns_clone=1");
  EXPECT_EQ(userns_problem({15000L, 0L, std::nullopt}, {}), message);
}

TEST(UsernsProblem, PreflightRefusesOnlyOutrightSwitches) {
  EXPECT_FALSE(userns_problem({15000L, 1L, 1L}, {}));
  EXPECT_FALSE(userns_problem({std::nullopt, std::nullopt, std::nullopt}, {}));
  EXPECT_FALSE(userns_problem({15000L, std::nullopt, std::nullopt}, {}));
}

TEST(UsernsProblem, AppArmorRestrictionNamesTheSysctlAndBothFixes) {
  const auto message = userns_problem(
      {15000L, std::nullopt, 1L}, {UsernsStep::Setup, EPERM, "sethostname: Operation not permitted"});
  ASSERT_TRUE(message);
  EXPECT_EQ(*message,
            "cannot create the sandbox: unprivileged user namespaces are restricted by AppArmor "
            "(kernel.apparmor_restrict_unprivileged_userns=1: sethostname: Operation not "
            "permitted); run awf with sudo, or allow them for awf: an AppArmor profile for awf "
            "with the `userns,` rule (docs/security.md), or sudo sysctl -w "
            "kernel.apparmor_restrict_unprivileged_userns=0");
  // A uid_map write refused (EACCES) is the same restriction.
  EXPECT_TRUE(userns_problem({15000L, std::nullopt, 1L},
                             {UsernsStep::Setup, EACCES, "write /proc/9/uid_map: denied"}));
}

TEST(UsernsProblem, AppArmorSysctlDoesNotExplainOtherErrors) {
  // A failure that is not a denial (a missing -v source...) is reported as it is.
  EXPECT_FALSE(userns_problem({15000L, std::nullopt, 1L}, {UsernsStep::Setup, ENOENT, "x"}));
  EXPECT_FALSE(userns_problem({15000L, std::nullopt, 0L}, clone_failed(ENOMEM)));
}

TEST(UsernsProblem, LimitReached) {
  const auto message = userns_problem({20L, std::nullopt, std::nullopt}, clone_failed(ENOSPC));
  ASSERT_TRUE(message);
  EXPECT_NE(message->find("user.max_user_namespaces=20"), std::string::npos) << *message;
  EXPECT_NE(message->find("sudo sysctl -w user.max_user_namespaces=15000"), std::string::npos)
      << *message;
  const auto large = userns_problem({20000L, std::nullopt, std::nullopt}, clone_failed(ENOSPC));
  ASSERT_TRUE(large);
  EXPECT_NE(large->find("user.max_user_namespaces=40000"), std::string::npos) << *large;
}

TEST(UsernsProblem, NestingAndForbiddenClone) {
  const auto nested = userns_problem({15000L, std::nullopt, std::nullopt}, clone_failed(EUSERS));
  ASSERT_TRUE(nested);
  EXPECT_NE(nested->find("nested too deeply"), std::string::npos) << *nested;
  const auto forbidden = userns_problem({15000L, std::nullopt, std::nullopt},
                                        {UsernsStep::Clone, EPERM, "clone sandbox: denied"});
  ASSERT_TRUE(forbidden);
  EXPECT_EQ(*forbidden,
            "cannot create the sandbox: unprivileged user namespaces are not permitted here "
            "(clone sandbox: denied; a container's seccomp profile or a security module forbids "
            "them); run awf with sudo, or allow user namespaces where awf runs "
            "(docs/security.md)");
}

TEST(ParseSysctlValue, Values) {
  EXPECT_EQ(parse_sysctl_value("0\n"), 0L);
  EXPECT_EQ(parse_sysctl_value("96367\n"), 96367L);
  EXPECT_EQ(parse_sysctl_value("1"), 1L);
  EXPECT_FALSE(parse_sysctl_value(""));
  EXPECT_FALSE(parse_sysctl_value("\n"));
  EXPECT_FALSE(parse_sysctl_value("x\n"));
  EXPECT_FALSE(parse_sysctl_value("1 2\n"));
}

}  // namespace
}  // namespace awf::sandbox
