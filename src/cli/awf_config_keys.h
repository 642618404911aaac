// The table from AWF config keys to awf's flags or notices (awf_config_keys.cpp). Pure data.
#pragma once

#include <span>
#include <string_view>

namespace awf::cli {

// Why a key or flag has no effect in awf, or is not built yet (shared by both tables).
inline constexpr std::string_view kWhyDocker = "it applies to AWF's Docker backend";
inline constexpr std::string_view kWhyMicroVm =
    "awf runs no microVM (it provides Linux namespaces and seccomp)";
inline constexpr std::string_view kWhyBudget =
    "the API proxy does not enforce budgets or model policy yet; the value is ignored";
inline constexpr std::string_view kWhyProvider =
    "the API proxy does not support this provider setting yet; the value is ignored";
inline constexpr std::string_view kWhyGithubPoints =
    "awf does not count GitHub API points yet; the value is ignored";
inline constexpr std::string_view kWhyOneMode =
    "awf's sandbox is the same in every mode (namespaces and seccomp, no iptables or sudo)";

struct KeyUse {
  enum class Kind {
    Flag,        // the flag `flag` does what the key says (a list: one value each)
    JoinedFlag,  // likewise, a list joined with ',' into one value
    NoEffect,    // accepted; one notice "has no effect in awf: <why>"
    NotYet,      // accepted; one notice "is not yet built in awf: <why>"
    Accept,      // accepted silently ($schema), or read from the section's JSON by its user
  };
  std::string_view path;  // "container.mounts"; a section's name covers the whole section
  Kind kind;
  std::string_view text;  // the flag's long name, or the notice's reason
  // For a boolean key: the switch that `false` turns on ("" when false sets nothing).
  std::string_view false_flag = "";
};

const KeyUse* find_key_use(std::string_view path);
std::span<const KeyUse> key_uses();

}  // namespace awf::cli
