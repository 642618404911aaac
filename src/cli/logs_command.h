// `awf logs [stats|summary|audit|suggest]` and `awf policy explain`: the files of a run are
// read here, src/logs makes sense of them (docs/logs.md, "Reading logs").
#pragma once

#include <optional>

namespace awf::cli {

// Runs the subcommand named by argv[1] and returns its exit status; nullopt when argv[1] is
// not a subcommand (awf then runs a command as usual).
std::optional<int> run_subcommand(int argc, char** argv);

}  // namespace awf::cli
