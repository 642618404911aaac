#include "sandbox/userns.h"

#include <cerrno>
#include <charconv>
#include <string_view>

namespace awf::sandbox {
namespace {

constexpr const char* kPrefix = "cannot create the sandbox: ";
constexpr const char* kSudo = "; run awf with sudo, or ";

bool is_denial(int error) {
  return error == EPERM || error == EACCES;
}

std::string disabled(const char* sysctl, long value, const std::string& enable) {
  return std::string(kPrefix) + "unprivileged user namespaces are disabled (" + sysctl + "=" +
         std::to_string(value) + ")" + kSudo + "allow them: sudo sysctl -w " + sysctl + "=" +
         enable;
}

std::string with_detail(const UsernsFailure& failure) {
  return failure.what.empty() ? "" : ": " + failure.what;
}

}  // namespace

std::optional<std::string> userns_problem(const UsernsSysctls& sysctls,
                                          const UsernsFailure& failure) {
  // Outright switches first: they explain any failure, and are known before trying.
  if (sysctls.max_user_namespaces == 0L) {
    return disabled("user.max_user_namespaces", 0, "15000");
  }
  if (sysctls.unprivileged_userns_clone == 0L) {
    return disabled("kernel.unprivileged_userns_clone", 0, "1");
  }
  if (failure.step == UsernsStep::Preflight) return std::nullopt;
  const bool denied = is_denial(failure.error);
  // Ubuntu 23.10 and later: the clone works, but the namespace runs under AppArmor's
  // unprivileged_userns profile, which grants no capability in it.
  if (sysctls.apparmor_restrict.value_or(0) != 0 && denied) {
    return std::string(kPrefix) +
           "unprivileged user namespaces are restricted by AppArmor "
           "(kernel.apparmor_restrict_unprivileged_userns=" +
           std::to_string(*sysctls.apparmor_restrict) + with_detail(failure) + ")" + kSudo +
           "allow them for awf: an AppArmor profile for awf with the `userns,` rule "
           "(docs/security.md), or sudo sysctl -w "
           "kernel.apparmor_restrict_unprivileged_userns=0";
  }
  if (failure.step == UsernsStep::Clone && failure.error == ENOSPC) {
    const long limit = sysctls.max_user_namespaces.value_or(0);
    return std::string(kPrefix) + "no more user namespaces may be created (the limit " +
           "user.max_user_namespaces=" + std::to_string(limit) +
           ", or that of an enclosing namespace, is reached)" + kSudo +
           "raise it: sudo sysctl -w user.max_user_namespaces=" +
           std::to_string(limit < 7500 ? 15000 : 2 * limit);
  }
  if (failure.step == UsernsStep::Clone && failure.error == EUSERS) {
    return std::string(kPrefix) +
           "user namespaces are nested too deeply here (the kernel allows 32 levels)" + kSudo +
           "start awf from a less nested container";
  }
  if (denied) {
    return std::string(kPrefix) + "unprivileged user namespaces are not permitted here (" +
           (failure.step == UsernsStep::Clone ? failure.what
                                              : "the namespace grants no privileges" +
                                                    with_detail(failure)) +
           "; a container's seccomp profile or a security module forbids them)" + kSudo +
           "allow user namespaces where awf runs (docs/security.md)";
  }
  return std::nullopt;
}

std::optional<long> parse_sysctl_value(const std::string& text) {
  std::string_view view(text);
  while (!view.empty() && (view.back() == '\n' || view.back() == ' ')) view.remove_suffix(1);
  if (view.empty() || view.size() > 19) return std::nullopt;
  long value = 0;
  const auto [end, ec] = std::from_chars(view.data(), view.data() + view.size(), value);
  if (ec != std::errc() || end != view.data() + view.size()) return std::nullopt;
  return value;
}

}  // namespace awf::sandbox
