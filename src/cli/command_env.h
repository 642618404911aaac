// The command's environment, the I/O half of environment.h: awf's own variables (the proxy,
// identity, locale, colour), the host's with --env-all, --env-file and -e, secrets withheld.
#pragma once

#include <string>
#include <vector>

#include "cli/environment.h"
#include "cli/options.h"
#include "sandbox/identity.h"

namespace awf::cli {

// "NAME=value" entries for the command. `overrides` (the API proxy's and --ssl-bump's
// variables) win over everything; `java_options` is appended to JAVA_TOOL_OPTIONS. Warns
// about variables withheld. Throws UsageError for an unusable --env-file.
std::vector<std::string> command_environment(const Options& options,
                                             const sandbox::Identity& identity,
                                             std::vector<EnvEntry> overrides,
                                             const std::string& java_options);

}  // namespace awf::cli
