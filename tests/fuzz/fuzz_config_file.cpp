// Fuzzes the command line's structured inputs: --ruleset-file, --config, --env-file and -v
// specs. Each either parses or throws std::invalid_argument (never anything else, never a
// crash); accepted values keep their documented invariants.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "cli/config_file.h"
#include "cli/environment.h"
#include "cli/mount_spec.h"

namespace {

using namespace awf::cli;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

std::optional<std::string> fixed_env(const std::string& name) {
  if (name == "HOME") return std::string("/home/u");
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    for (const RulesetRule& rule : parse_ruleset(text)) check(!rule.domain.empty());
  } catch (const std::invalid_argument&) {
  }
  try {
    for (const ConfigSetting& setting : parse_config(text)) {
      check(setting.flag.find('_') == std::string::npos);
    }
  } catch (const std::invalid_argument&) {
  }
  try {
    for (const EnvEntry& entry : parse_env_file(text)) check(is_valid_env_name(entry.first));
  } catch (const std::invalid_argument&) {
  }
  try {
    const MountSpec spec = parse_mount_spec(text, fixed_env);
    check(spec.host.starts_with('/') && spec.container.starts_with('/'));
    check(spec.container != "/" && spec.host.find("//") == std::string::npos);
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
