#include "sandbox/limits.h"

#include <charconv>
#include <limits>
#include <stdexcept>

namespace awf::sandbox {
namespace {

std::optional<std::uint64_t> parse_decimal(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

int suffix_shift(char suffix) {
  switch (suffix) {
    case 'b':
    case 'B':
      return 0;
    case 'k':
    case 'K':
      return 10;
    case 'm':
    case 'M':
      return 20;
    case 'g':
    case 'G':
      return 30;
    case 't':
    case 'T':
      return 40;
    default:
      return -1;
  }
}

}  // namespace

std::uint64_t parse_memory_limit(std::string_view text) {
  const std::string quoted = "--memory-limit '" + std::string(text) + "'";
  std::string_view digits = text;
  int shift = 0;
  if (!text.empty() && (text.back() < '0' || text.back() > '9')) {
    shift = suffix_shift(text.back());
    digits.remove_suffix(1);
  }
  const auto value = shift < 0 ? std::nullopt : parse_decimal(digits);
  if (!value) {
    throw std::invalid_argument(quoted +
                                ": expected a size such as 512m or 6g (units b, k, m, "
                                "g, t)");
  }
  if (*value > (std::numeric_limits<std::uint64_t>::max() >> shift)) {
    throw std::invalid_argument(quoted + ": too large");
  }
  const std::uint64_t bytes = *value << shift;
  if (bytes < kMinMemoryLimit) {
    throw std::invalid_argument(quoted + ": must be at least " + format_size(kMinMemoryLimit));
  }
  return bytes;
}

std::uint64_t parse_pids_limit(std::string_view text) {
  const std::string quoted = "--pids-limit '" + std::string(text) + "'";
  const auto value = parse_decimal(text);
  if (!value) throw std::invalid_argument(quoted + ": expected a number of processes");
  if (*value < kMinPidsLimit) {
    throw std::invalid_argument(quoted + ": must be at least " + std::to_string(kMinPidsLimit) +
                                " (the sandbox's init and the command)");
  }
  return *value;
}

std::string format_size(std::uint64_t bytes) {
  static constexpr char kSuffixes[] = {'t', 'g', 'm', 'k'};
  int shift = 40;
  for (char suffix : kSuffixes) {
    const std::uint64_t unit = std::uint64_t{1} << shift;
    if (bytes != 0 && bytes % unit == 0) return std::to_string(bytes / unit) + suffix;
    shift -= 10;
  }
  return std::to_string(bytes) + "b";
}

std::string unenforceable_limits_message(const ResourceLimits& limits, const std::string& reason,
                                         bool rootless) {
  std::string flags;
  if (limits.memory_explicit) flags = "--memory-limit " + format_size(limits.memory_bytes);
  if (limits.pids_explicit) {
    flags += (flags.empty() ? "" : " and ") + std::string("--pids-limit ") +
             std::to_string(limits.pids);
  }
  if (flags.empty()) return "";
  const std::string fix =
      rootless ? "run awf with sudo, or in a cgroup delegated to your user with the memory and "
                 "pids controllers, e.g. systemd-run --user --scope -p Delegate=yes awf ...; or "
                 "leave the limit out"
               : "awf needs cgroup v2 with the memory and pids controllers, or cgroup v1 memory "
                 "and pids hierarchies, writable at /sys/fs/cgroup; or leave the limit out";
  return flags + " cannot be enforced: " + reason + " (" + fix + ")";
}

std::optional<std::string> cgroup_path_of(std::string_view proc_cgroup,
                                          std::string_view controller) {
  while (!proc_cgroup.empty()) {
    const std::size_t end = proc_cgroup.find('\n');
    std::string_view line = proc_cgroup.substr(0, end);
    proc_cgroup.remove_prefix(end == std::string_view::npos ? proc_cgroup.size() : end + 1);
    // "hierarchy-id:controller,controller:path"; the path may itself hold ':'.
    const std::size_t first = line.find(':');
    const std::size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    std::string_view controllers = line.substr(first + 1, second - first - 1);
    const std::string_view path = line.substr(second + 1);
    if (controller.empty()) {
      if (line.substr(0, first) == "0" && controllers.empty()) return std::string(path);
      continue;
    }
    while (!controllers.empty()) {
      const std::size_t comma = controllers.find(',');
      if (controllers.substr(0, comma) == controller) return std::string(path);
      controllers.remove_prefix(comma == std::string_view::npos ? controllers.size() : comma + 1);
    }
  }
  return std::nullopt;
}

bool lists_controller(std::string_view list, std::string_view controller) {
  while (!list.empty()) {
    const std::size_t start = list.find_first_not_of(" \t\n");
    if (start == std::string_view::npos) break;
    list.remove_prefix(start);
    const std::size_t end = list.find_first_of(" \t\n");
    if (list.substr(0, end) == controller) return true;
    list.remove_prefix(end == std::string_view::npos ? list.size() : end);
  }
  return false;
}

std::optional<long> run_pid_from_name(std::string_view name, std::string_view prefix) {
  if (!name.starts_with(prefix)) return std::nullopt;
  name.remove_prefix(prefix.size());
  if (name.empty() || name.size() > 10 || name.front() == '0') return std::nullopt;
  const auto value = parse_decimal(name);
  if (!value || *value > static_cast<std::uint64_t>(std::numeric_limits<int>::max())) {
    return std::nullopt;
  }
  return static_cast<long>(*value);
}

std::optional<std::uint64_t> keyed_value(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    if (line.size() > key.size() && line.starts_with(key) && line[key.size()] == ' ') {
      return parse_decimal(line.substr(key.size() + 1));
    }
  }
  return std::nullopt;
}

}  // namespace awf::sandbox
