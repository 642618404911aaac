#include "cli/run_name.h"

#include <cstdio>
#include <ctime>

namespace awf::cli {
namespace {

// "YYYYMMDDTHHMMSS.mmmZ-" followed by eight lower-case hex digits.
constexpr std::string_view kShape = "ddddddddTdddddd.dddZ-xxxxxxxx";

bool fits(char c, char kind) {
  if (kind == 'd') return c >= '0' && c <= '9';
  if (kind == 'x') return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  return c == kind;
}

}  // namespace

std::string run_dir_name(std::int64_t start_ms, std::uint32_t random) {
  const std::time_t seconds = static_cast<std::time_t>(start_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &utc);
  char name[64];
  std::snprintf(name, sizeof name, "%s.%03dZ-%08x", stamp, static_cast<int>(start_ms % 1000),
                random);
  return name;
}

bool is_run_dir_name(std::string_view name) {
  if (name.size() != kShape.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!fits(name[i], kShape[i])) return false;
  }
  return true;
}

}  // namespace awf::cli
