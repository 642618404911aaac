#pragma once

#include <string>

namespace CLI {
class App;
class ParseError;
}

namespace awf::cli {

// awf's wording for CLI11's parse errors (CLI11's own messages never reach the user): of the
// main command line, and of a subcommand's (`awf logs`, `awf policy`).
std::string explain_parse_error(const CLI::ParseError& error);
std::string explain_subcommand_error(const CLI::ParseError& error);

// A flag awf does not know, with the closest known one and where the command's own flags go.
std::string unknown_option_message(const CLI::App& app, const std::string& word);

}  // namespace awf::cli
