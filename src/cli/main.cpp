#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>

#include "cli/logs_command.h"
#include "cli/options.h"
#include "cli/run.h"

namespace {

int finish(int code) {
  std::fprintf(stderr, "Process exiting with code: %d\n", code);
  return code;
}

// Subcommands that only print: generated shell completion and manual, and AWF's image
// pre-pull, which has nothing to fetch here. `awf man` and `awf completion bash` are taken only
// in exactly these forms, so `awf man ls` still runs man in the sandbox.
std::optional<int> run_printing_subcommand(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "completion") == 0 && std::strcmp(argv[2], "bash") == 0) {
    std::fputs(awf::cli::bash_completion().c_str(), stdout);
    return 0;
  }
  if (argc == 2 && std::strcmp(argv[1], "man") == 0) {
    std::fputs(awf::cli::manual_page().c_str(), stdout);
    return 0;
  }
  if (argc >= 2 && std::strcmp(argv[1], "predownload") == 0) {
    std::fprintf(stderr,
                 "awf: predownload fetches AWF's container images; the native sandbox needs "
                 "none, nothing to do\n");
    return 0;
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  if (const auto status = run_printing_subcommand(argc, argv)) return *status;
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
