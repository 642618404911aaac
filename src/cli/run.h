// Runs one sandboxed command behind the gateway and returns awf's exit status.
#pragma once

#include "cli/options.h"

namespace awf::cli {

int run(const Options& options);

}  // namespace awf::cli
