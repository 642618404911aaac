#include "cli/parse_errors.h"

#include <CLI/CLI.hpp>

#include "cli/suggest.h"

// CLI11's own words ("1 required LEVEL missing", "The following argument was not expected")
// say little to an awf user: name the flag and the fix instead.
namespace awf::cli {
namespace {

std::vector<std::string> long_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::Option* option : app.get_options()) {
    for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
  }
  return names;
}

}  // namespace

std::string unknown_option_message(const CLI::App& app, const std::string& word) {
  const std::string flag = word.substr(0, word.find('='));
  std::string message = "unknown option '" + flag + "'";
  if (const auto guess = closest(flag, long_names(app))) {
    message += " (did you mean " + *guess + "?)";
  }
  return message + "; to pass it to the command, put the command after --";
}

std::string explain_subcommand_error(const CLI::ParseError& error) {
  const std::string what = error.what();
  // A subcommand's ExtrasError carries the subcommand's name, not "ExtrasError".
  if (what.starts_with("The following argument")) {
    return "unexpected argument" + what.substr(what.find(':')) + " (see --help)";
  }
  if (error.get_name() == "RequiredError") {
    // CLI11: "target is required", "A subcommand is required".
    const std::string missing = what.substr(0, what.find(" is required"));
    return missing == "A subcommand" ? "a subcommand is missing (see --help)"
                                     : missing + " is missing (see --help)";
  }
  return explain_parse_error(error);
}

std::string explain_parse_error(const CLI::ParseError& error) {
  const std::string what = error.what();
  // CLI11 names the option in its message ("--log-level: 1 required LEVEL missing",
  // "Could not convert: --tty = maybe").
  std::string flag = "an option";
  if (const std::size_t at = what.find("--"); at != std::string::npos) {
    flag = what.substr(at, what.find_first_of(" :,=", at) - at);
  }
  if (error.get_name() == "ArgumentMismatch" && what.find("missing") != std::string::npos) {
    return flag + " needs a value (" + flag + " VALUE, or " + flag + "=VALUE)";
  }
  if (error.get_name() == "ArgumentMismatch" || error.get_name() == "ConversionError") {
    return flag + " takes no value (write " + flag + " alone; leave it out for false)";
  }
  if (error.get_name() == "ExtrasError") {
    return "unexpected arguments (" + what.substr(what.find(':') + 1) +
           " ); put the command after --";
  }

  return "the command line could not be read (" + what + ")";
}

}  // namespace awf::cli
