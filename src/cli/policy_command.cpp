#include "cli/policy_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli/log_files.h"
#include "cli/options.h"
#include "cli/parse_errors.h"
#include "logs/explain.h"
#include "policy/domain_list.h"
#include "policy/policy.h"

namespace awf::cli {
namespace {

std::vector<std::string> domain_entries(const std::vector<std::string>& values,
                                        const std::vector<std::string>& files) {
  std::vector<std::string> entries;
  for (const std::string& value : values) {
    for (std::string& entry : policy::split_domain_list(value)) entries.push_back(entry);
  }
  for (const std::string& path : files) {
    const std::optional<std::string> text = read_file_if_present(path);
    if (!text) throw LogsError("cannot read " + path + ": no such file");
    for (std::string& entry : policy::parse_domain_file(*text)) entries.push_back(entry);
  }
  return entries;
}

}  // namespace

int run_policy(int argc, char** argv) {
  CLI::App app{"Questions about a domain policy.", "awf policy"};
  app.require_subcommand(1);
  CLI::App* explain = app.add_subcommand(
      "explain",
      "Which rule allows or denies HOST[:PORT] and why (exit 0 allowed, 1 denied, 2 error)");
  std::string target_text;
  std::vector<std::string> allow, block, allow_files, block_files;
  explain->add_option("target", target_text, "HOST, HOST:PORT, [IPv6]:PORT or a URL")->required();
  explain->add_option("-d,--allow-domains", allow, "Allowed domains, as for a run")
      ->type_name("LIST");
  explain->add_option("--block-domains", block, "Blocked domains")->type_name("LIST");
  explain->add_option("--allow-domains-file", allow_files, "File of allowed domains")
      ->type_name("PATH");
  explain->add_option("--block-domains-file", block_files, "File of blocked domains")
      ->type_name("PATH");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::ParseError& error) {
    throw LogsError(explain_subcommand_error(error));
  }
  const std::optional<logs::Target> target = logs::parse_target(target_text);
  if (!target) {
    throw LogsError("'" + target_text + "' is not HOST[:PORT], [IPv6]:PORT or a URL");
  }
  try {
    const policy::Policy policy = policy::Policy::build(domain_entries(allow, allow_files),
                                                        domain_entries(block, block_files));
    const logs::Explanation explanation = logs::explain(policy, *target);
    std::fwrite(explanation.text.data(), 1, explanation.text.size(), stdout);
    return explanation.allowed ? 0 : 1;
  } catch (const policy::PolicyError& error) {
    throw LogsError(error.what());
  }
}

}  // namespace awf::cli
