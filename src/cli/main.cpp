#include <cstdio>
#include <cstring>
#include <exception>
#include <optional>
#include <string>
#include <string_view>

#include "cli/logs_command.h"
#include "cli_proxy/client.h"
#include "cli/options.h"
#include "cli/run.h"
#include "cli/suggest.h"

#if defined(AWF_PORTABLE)
#include <nss.h>
#endif

namespace {

int finish(int code) {
  std::fprintf(stderr, "Process exiting with code: %d\n", code);
  return code;
}

// Subcommands that only print: generated shell completion and manual, and AWF's image
// pre-pull, which has nothing to fetch here. `awf man` and `awf completion SHELL` are taken only
// in exactly these forms, so `awf man ls` still runs man in the sandbox.
std::optional<int> run_printing_subcommand(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "completion") == 0) {
    const std::string_view shell = argv[2];
    std::string script;
    if (shell == "bash") script = awf::cli::bash_completion();
    if (shell == "zsh") script = awf::cli::zsh_completion();
    if (shell == "fish") script = awf::cli::fish_completion();
    if (!script.empty()) {
      std::fputs(script.c_str(), stdout);
      return 0;
    }
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

// Every failure before the command starts says "Fatal error: " first: gh-aw's start-up retry
// looks for that prefix, as AWF prints it.
int fail(const char* what, bool usage) {
  std::fprintf(stderr, "Fatal error: %s\n", what);
  if (usage) std::fputs("Run 'awf --help' for usage.\n", stderr);
  return finish(1);
}

}  // namespace

#if defined(__SANITIZE_ADDRESS__)
// An AddressSanitizer build's leak check stops the process's threads with ptrace, which the
// sandbox's seccomp filter denies, so the check itself dies. The in-sandbox gh client skips it;
// the same code runs checked in the unit tests.
namespace {
bool running_as_gh_client = false;
}
extern "C" int __lsan_is_turned_off() { return running_as_gh_client ? 1 : 0; }
#endif

#if defined(AWF_PORTABLE)
namespace {
// The portable binary is static. For a lookup, glibc would dlopen the host's NSS modules that
// /etc/nsswitch.conf names (Ubuntu's "systemd" for users and groups, "mdns4_minimal" for
// hosts): shared objects built against another glibc, which bring a second libc into the
// process (glibc 2.31 aborts in _dl_call_libc_early_init). Its built-in "files" and "dns"
// services load nothing. Users that only LDAP, SSSD or systemd-homed know are not found
// (docs/architecture.md, "Portable binaries").
void use_builtin_nss_only() {
  for (const char* database : {"passwd", "group", "initgroups", "services"}) {
    __nss_configure_lookup(database, "files");
  }
  __nss_configure_lookup("hosts", "files dns");  // the gh client's AWF_CLI_PROXY_URL host
}
}  // namespace
#endif

int main(int argc, char** argv) {
#if defined(AWF_PORTABLE)
  use_builtin_nss_only();
#endif
  // In the sandbox with --difc-proxy-host, awf's binary is also the command's gh.
  if (argc > 0 && awf::cli_proxy::is_client_name(argv[0])) {
#if defined(__SANITIZE_ADDRESS__)
    running_as_gh_client = true;
#endif
    return awf::cli_proxy::run_client(argc, argv);
  }
  if (const auto status = run_printing_subcommand(argc, argv)) return *status;
  // `awf log` or `awf polcy` is a typo, not a program to sandbox (`awf -- log` runs it).
  if (const auto typo = awf::cli::mistyped_subcommand({argv + 1, argv + argc})) {
    return fail(typo->c_str(), true);
  }
  if (const auto status = awf::cli::run_subcommand(argc, argv)) return *status;
  try {
    const awf::cli::ParseResult parsed = awf::cli::parse_options(argc, argv);
    if (!parsed.options) return parsed.exit_code;
    return finish(awf::cli::run(*parsed.options));
  } catch (const awf::cli::UsageError& error) {
    return fail(error.what(), true);
  } catch (const std::exception& error) {
    return fail(error.what(), false);
  }
}
