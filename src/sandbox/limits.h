// The sandbox's resource limits and the text formats of the cgroup files that enforce them.
// Pure: parsing and formatting only, no I/O (cgroup.cpp does the file work).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace awf::sandbox {

struct ResourceLimits {
  std::uint64_t memory_bytes = std::uint64_t{6} << 30;  // --memory-limit (default 6g)
  std::uint64_t pids = 1000;                            // --pids-limit
  // Whether the caller set the limit (flag or config file): a default that cannot be enforced
  // is a warning, a limit asked for refuses the run.
  bool memory_explicit = false;
  bool pids_explicit = false;
};

// "--memory-limit 2g cannot be enforced: <reason> (<fix>)" for the explicit limits, or "" when
// none was set explicitly. `rootless`: the fix is a delegated cgroup or sudo.
std::string unenforceable_limits_message(const ResourceLimits& limits, const std::string& reason,
                                         bool rootless);

// Below these the command cannot even start (the init alone counts as one task and needs a
// few pages); refusing them up front beats a confusing failure inside the sandbox.
constexpr std::uint64_t kMinMemoryLimit = std::uint64_t{4} << 20;
constexpr std::uint64_t kMinPidsLimit = 2;

// "N[bkmgt]" (case-insensitive, 1024-based; no suffix means bytes), at least kMinMemoryLimit.
// Throws std::invalid_argument with a message that names the flag.
std::uint64_t parse_memory_limit(std::string_view text);

// A decimal count, at least kMinPidsLimit. Throws std::invalid_argument.
std::uint64_t parse_pids_limit(std::string_view text);

// The shortest exact spelling with a suffix: 67108864 -> "64m", 6442450944 -> "6g".
std::string format_size(std::uint64_t bytes);

// The cgroup of `controller` in the text of /proc/<pid>/cgroup. An empty controller names the
// cgroup v2 (unified) line "0::/path". nullopt when the text has no such line.
std::optional<std::string> cgroup_path_of(std::string_view proc_cgroup,
                                          std::string_view controller);

// Whether a space-separated controller list (cgroup.controllers, cgroup.subtree_control) holds
// `controller`.
bool lists_controller(std::string_view list, std::string_view controller);

// The pid in a run's cgroup name ("<prefix><pid>"), nullopt for any other name.
std::optional<long> run_pid_from_name(std::string_view name, std::string_view prefix);

// The value of `key` in a flat keyed file ("key value" lines: memory.events, pids.events,
// memory.oom_control). nullopt when the key is missing.
std::optional<std::uint64_t> keyed_value(std::string_view text, std::string_view key);

}  // namespace awf::sandbox
