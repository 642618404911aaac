// "Did you mean ...?" for mistyped subcommands and flags. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace awf::cli {

// Optimal-string-alignment distance (insertions, deletions, substitutions, swaps).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word` when it is near enough to be a typo of it: one edit for
// words up to 4 characters, two for longer ones.
std::optional<std::string> closest(std::string_view word,
                                   const std::vector<std::string>& candidates);

// When `awf WORD ...` (no flags, no `--`) reads like a mistyped subcommand ("log", "polcy",
// "logs-summary", "completion bsh"), the message refusing it; otherwise nullopt and WORD runs
// as the command. `args` are the words after "awf".
std::optional<std::string> mistyped_subcommand(const std::vector<std::string>& args);

}  // namespace awf::cli
