// Why an unprivileged awf cannot build its sandbox, and what the caller can do about it. Without
// root, the sandbox's namespaces come from an unprivileged user namespace, which hosts disable
// or restrict in several ways; each has its own switch, so the message names the one that
// applies. Pure: the sysctl values and the failure are read and observed by the caller.
#pragma once

#include <optional>
#include <string>

namespace awf::sandbox {

// The sysctls that govern unprivileged user namespaces (nullopt: the file does not exist).
struct UsernsSysctls {
  std::optional<long> max_user_namespaces;        // user.max_user_namespaces (every kernel)
  std::optional<long> unprivileged_userns_clone;  // kernel.unprivileged_userns_clone (Debian)
  std::optional<long> apparmor_restrict;  // kernel.apparmor_restrict_unprivileged_userns (Ubuntu)
};

enum class UsernsStep {
  Preflight,  // before anything is created: only sysctls that disable them outright
  Clone,      // clone(CLONE_NEWUSER | ...) failed with `error`
  Setup,      // the namespace exists but grants no privileges (`error` is EPERM or EACCES)
};

struct UsernsFailure {
  UsernsStep step = UsernsStep::Preflight;
  int error = 0;     // errno of the failed step
  std::string what;  // the failed step and its error, for the message ("sethostname: ...")
};

// "cannot create the sandbox: <cause> (<sysctl>=<value>); run awf with sudo, or <fix>", or
// nullopt when nothing explains the failure (the caller reports the plain error then).
std::optional<std::string> userns_problem(const UsernsSysctls& sysctls,
                                          const UsernsFailure& failure);

// One sysctl file's text ("0\n") as a number; nullopt for anything else.
std::optional<long> parse_sysctl_value(const std::string& text);

}  // namespace awf::sandbox
