#include "cli/options.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <stdexcept>

#include "policy/domain_list.h"

namespace awf::cli {
namespace {

constexpr const char* kDescription =
    "awf - Agent Workflow Firewall\n"
    "Runs a command so that its network access is limited to allowed domains; every\n"
    "decision is logged.\n\n"
    "Usage: awf [options] -- <command> [args...]\n"
    "       awf [options] '<shell command>'";

constexpr const char* kFooter =
    "\nExamples:\n"
    "  sudo awf --allow-domains github.com -- curl https://api.github.com/zen\n"
    "  sudo awf -d 'github.com,*.githubusercontent.com' --block-domains gist.github.com -- "
    "./agent.sh\n\n"
    "Exit status: the command's own; 1 for awf's errors; 130/143 when awf is interrupted.\n"
    "Docs: docs/user-guide.md";

// CLI11's generated usage line ("awf [OPTIONS]") and "..." marks would contradict the usage
// text above: the description carries the real usage, and repeatable flags say so in words.
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_usage(const CLI::App*, std::string) const override { return ""; }
  std::string make_option_opts(const CLI::Option* option) const override {
    std::string opts = CLI::Formatter::make_option_opts(option);
    if (const std::size_t dots = opts.rfind(" ..."); dots != std::string::npos &&
                                                     dots + 4 == opts.size()) {
      opts.erase(dots);
    }
    return opts;
  }
};

void append_split(std::vector<std::string>& out, const std::vector<std::string>& values) {
  for (const std::string& value : values) {
    for (std::string& entry : policy::split_domain_list(value)) out.push_back(std::move(entry));
  }
}

}  // namespace

ParseResult parse_options(int argc, char** argv) {
  CLI::App app{kDescription, "awf"};
  app.footer(kFooter);
  app.set_version_flag("-V,--version", AWF_VERSION, "Print the version and exit");
  app.formatter(std::make_shared<HelpFormatter>());
  app.get_formatter()->column_width(36);

  std::vector<std::string> allow;
  std::vector<std::string> block;
  std::vector<std::string> dns;
  std::string log_level = "info";
  std::string memory_limit;
  std::string pids_limit;
  Options options;

  app.add_option("-d,--allow-domains", allow,
                 "Comma-separated domains the command may reach (subdomains included; "
                 "*.x wildcards; http:// or https:// prefix limits the protocol)")
      ->group("Domain policy")
      ->type_name("LIST")
      ->allow_extra_args(false);
  app.add_option("--allow-domains-file", options.allow_domain_files,
                 "File of allowed domains (one per line or comma-separated, # comments)")
      ->group("Domain policy")
      ->type_name("PATH");
  app.add_option("--block-domains", block, "Comma-separated domains that are always denied")
      ->group("Domain policy")
      ->type_name("LIST")
      ->allow_extra_args(false);
  app.add_option("--block-domains-file", options.block_domain_files, "File of blocked domains")
      ->group("Domain policy")
      ->type_name("PATH");
  app.add_option("--dns-servers", dns,
                 "Comma-separated upstream DNS servers (IPv4/IPv6; default: the host's "
                 "resolv.conf)")
      ->group("Network")
      ->type_name("LIST")
      ->delimiter(',')
      ->allow_extra_args(false);
  app.add_option("--proxy-logs-dir", options.proxy_logs_dir,
                 "Directory for access.log and audit.jsonl (default: a fresh /tmp/awf-logs-* "
                 "directory, printed at exit)")
      ->group("Logging")
      ->type_name("DIR");
  app.add_option("--log-level", log_level, "awf's own messages: debug, info, warn, error")
      ->group("Logging")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_option("--user", options.user,
                 "Run the command as NAME|UID[:GID] (default: SUDO_UID under sudo, the caller "
                 "when not root, else 65534)")
      ->group("Sandbox")
      ->type_name("USER");
  app.add_option("--memory-limit", memory_limit,
                 "Memory limit for everything in the sandbox, N[bkmg] (default 6g; no swap; "
                 "needs root and cgroups)")
      ->group("Sandbox")
      ->type_name("SIZE");
  app.add_option("--pids-limit", pids_limit,
                 "Maximum number of processes and threads in the sandbox (default 1000)")
      ->group("Sandbox")
      ->type_name("N");
  // Everything from `--` or the first non-option argument on is the command, untouched.
  app.prefix_command(true);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return {std::nullopt, 0};
  } catch (const CLI::CallForVersion&) {
    std::cout << "awf " << AWF_VERSION << "\n";
    return {std::nullopt, 0};
  } catch (const CLI::ParseError& error) {
    throw UsageError(error.what());
  }
  // prefix_command: everything from the first non-option argument on is the command; an
  // unknown option before `--` lands there too and is a usage error, not a command.
  options.command = app.remaining();
  if (!options.command.empty() && options.command.front() == "--") {
    options.command.erase(options.command.begin());
  } else if (!options.command.empty() && options.command.front().starts_with('-')) {
    throw UsageError("unknown option '" + options.command.front() + "'");
  }
  if (options.command.empty()) {
    throw UsageError("no command given (usage: awf [options] -- <command> [args...])");
  }
  if (options.command.size() == 1) {
    options.command = {"/bin/bash", "-c", options.command.front()};
  }
  try {
    if (app.count("--memory-limit") > 0) {
      options.limits.memory_bytes = sandbox::parse_memory_limit(memory_limit);
    }
    if (app.count("--pids-limit") > 0) options.limits.pids = sandbox::parse_pids_limit(pids_limit);
  } catch (const std::invalid_argument& error) {
    throw UsageError(error.what());
  }
  append_split(options.allow_domains, allow);
  append_split(options.block_domains, block);
  options.dns_servers = dns;
  options.log_level = log_level == "debug"   ? LogLevel::Debug
                      : log_level == "warn"  ? LogLevel::Warn
                      : log_level == "error" ? LogLevel::Error
                                             : LogLevel::Info;
  return {options, 0};
}

}  // namespace awf::cli
