#include <cstdio>
#include <exception>

#include "cli/logs_command.h"
#include "cli/options.h"
#include "cli/run.h"

namespace {

int finish(int code) {
  std::fprintf(stderr, "Process exiting with code: %d\n", code);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  if (const auto status = awf::cli::run_subcommand(argc, argv)) return *status;
  try {
    const awf::cli::ParseResult parsed = awf::cli::parse_options(argc, argv);
    if (!parsed.options) return parsed.exit_code;
    return finish(awf::cli::run(*parsed.options));
  } catch (const awf::cli::UsageError& error) {
    std::fprintf(stderr, "awf: error: %s\nRun 'awf --help' for usage.\n", error.what());
    return finish(1);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "awf: error: %s\n", error.what());
    return finish(1);
  }
}
