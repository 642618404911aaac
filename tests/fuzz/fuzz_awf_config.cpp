// Fuzzes AWF's structured config file (--config): JSON, YAML or either, then the schema, the
// cross-key rules and the mapping onto flags. Each input either loads or throws
// std::invalid_argument (never anything else, never a crash or a hang); what loads keeps the
// mapping's invariants.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "cli/awf_config.h"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  // The first byte picks the syntax, as the file name would.
  const awf::cli::ConfigSyntax syntax = data[0] % 3 == 0   ? awf::cli::ConfigSyntax::Json
                                        : data[0] % 3 == 1 ? awf::cli::ConfigSyntax::Yaml
                                                           : awf::cli::ConfigSyntax::Either;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    const awf::cli::AwfConfig config = awf::cli::load_config(text, syntax);
    for (const awf::cli::ConfigSetting& setting : config.settings) {
      // A structured key names a flag of the table and sets it only with a value (an empty
      // list sets nothing); flat keys are whatever the file says, checked by the caller.
      if (setting.origin.empty()) continue;
      check(!setting.flag.empty() && !setting.values.empty());
    }
    for (const std::string& notice : config.notices) check(notice.starts_with("awf: config."));
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
