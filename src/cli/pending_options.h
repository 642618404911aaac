// The values of AWF's API-proxy budget, model-policy and GitHub CLI proxy flags: checked
// with AWF's value shapes and kept (PendingApiOptions) until awf acts on them. Pure.
#pragma once

#include <string>

#include "cli/flag_table.h"
#include "cli/options.h"

namespace awf::cli {

// Throws UsageError naming the flag, the value and the shape wanted.
PendingApiOptions convert_pending(const CLI::App& app, const RawValues& raw,
                                  std::string api_proxy_config);

}  // namespace awf::cli
