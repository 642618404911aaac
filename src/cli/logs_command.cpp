#include "cli/options.h"
#include "cli/parse_errors.h"
#include "cli/logs_command.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli/log_files.h"
#include "cli/log_follow.h"
#include "cli/log_store.h"
#include "cli/policy_command.h"
#include "logs/entry.h"
#include "logs/entry_format.h"
#include "logs/log_text.h"
#include "logs/rule_audit.h"
#include "logs/stats.h"
#include "logs/suggest.h"

namespace awf::cli {
namespace {

using logs::LogEntry;

constexpr int kExplainError = 2;

// ---------------------------------------------------------------------------- the runs

const char* logs_dir_from_environment() {
  const char* dir = std::getenv("AWF_LOGS_DIR");
  return dir != nullptr && *dir != '\0' ? dir : nullptr;
}

std::string store_description() {
  const std::optional<std::string> root = log_store_root();
  return root ? *root + "/logs" : "the log store (no HOME)";
}

// --source, else $AWF_LOGS_DIR, else the invoking user's latest run in the private log store
// (log_store.h): never a directory someone else could have put in the way.
std::string choose_source(const std::string& source) {
  if (!source.empty()) return logs_in(source);
  if (const char* dir = logs_dir_from_environment()) return logs_in(dir);
  const std::vector<std::string> runs = stored_runs();
  if (runs.empty()) {
    throw LogsError("no awf run found in " + store_description() +
                    "; name one with --source DIR or AWF_LOGS_DIR");
  }
  return runs.back();
}

// ------------------------------------------------------------------------------- output

logs::Palette terminal_palette() {
  const char* no_color = std::getenv("NO_COLOR");
  return logs::Palette{isatty(STDOUT_FILENO) == 1 && (no_color == nullptr || *no_color == '\0')};
}

void print(const std::string& text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
}

Printer entry_printer(const std::string& format) {
  if (format == "json") {
    return [](const LogEntry& entry) { print(logs::format_json(entry) + "\n"); };
  }
  const logs::Palette palette = terminal_palette();
  return [palette](const LogEntry& entry) { print(logs::format_pretty(entry, palette) + "\n"); };
}

int show_entries(const std::string& dir, const std::string& format, bool follow_file) {
  if (!is_directory(dir)) throw LogsError("no log directory " + dir);
  if (format == "raw") {
    if (follow_file) return follow_raw(dir);
    const RunLogs run = load_run(dir);
    if (!run.has_access) throw LogsError(dir + " has no access.log (--format raw prints it)");
    for (const std::string& line : run.access.lines) print(line + "\n");
    return 0;
  }
  const Printer printer = entry_printer(format);
  if (follow_file) return follow_entries(dir, printer);
  for (const LogEntry& entry : load_run(dir).entries) printer(entry);
  return 0;
}

std::string stats_text(const logs::Stats& stats, const std::string& format) {
  if (format == "json") return logs::format_stats_json(stats);
  if (format == "markdown") return logs::format_stats_markdown(stats);
  return logs::format_stats_pretty(stats, terminal_palette());
}

int show_stats(const std::string& dir, const std::string& format) {
  print(stats_text(logs::compute_stats(load_run(dir).entries), format));
  return 0;
}

int show_rule_audit(const std::string& dir, const logs::AuditFilter& filter) {
  const RunLogs run = load_run(dir);
  const logs::Manifest* manifest = run.manifest ? &*run.manifest : nullptr;
  print(logs::format_rule_audit(run.entries, manifest, filter, terminal_palette()));
  return 0;
}

void print_notes(const char* title, const std::vector<std::string>& names) {
  if (names.empty()) return;
  std::fprintf(stderr, "%s\n", title);
  for (const std::string& name : names) {
    std::fprintf(stderr, "  %s\n", logs::printable(name).c_str());
  }
}

int show_suggestion(const std::string& dir) {
  const logs::Suggestion suggestion = logs::suggest_allow_domains(load_run(dir).entries);
  const std::string flag = allow_domains_flag(suggestion);
  if (flag.empty()) {
    std::fprintf(stderr, "awf: no request or DNS query was denied for want of an allow rule\n");
  } else {
    print(flag + "\n");
    std::fprintf(stderr, "awf: allows the %zu denied requests and DNS queries of the run\n",
                 suggestion.requests);
  }
  print_notes("grouped under their registrable domain:", suggestion.groups);
  print_notes("denied by a --block-domains rule (not suggested):", suggestion.blocked);
  print_notes("no allow entry can cover (public suffix or invalid):", suggestion.unsuggestable);
  return 0;
}

std::size_t record_count(const std::string& dir) {
  try {
    return load_run(dir).entries.size();
  } catch (const LogsError&) {
    return 0;
  }
}

int list_runs() {
  std::vector<std::string> dirs = stored_runs();
  if (const char* dir = logs_dir_from_environment()) dirs.emplace_back(logs_in(dir));
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  std::stable_sort(dirs.begin(), dirs.end(), [](const auto& a, const auto& b) {
    return last_write_ms(a) > last_write_ms(b);
  });
  if (dirs.empty()) {
    std::fprintf(stderr, "awf: no awf run found in %s\n", store_description().c_str());
    return 0;
  }
  std::printf("%-48s %-25s %s\n", "DIRECTORY", "LAST WRITE (UTC)", "RECORDS");
  for (const std::string& dir : dirs) {
    std::printf("%-48s %-25s %zu\n", dir.c_str(), logs::format_time(last_write_ms(dir)).c_str(),
                record_count(dir));
  }
  return 0;
}

// ------------------------------------------------------------------------------- arguments

struct LogsArgs {
  bool follow = false;
  bool list = false;
  std::string source;
  std::string format = "pretty";
  std::string stats_format = "pretty";
  std::string summary_format = "markdown";
  std::string rule;
  std::string domain;
  std::string decision;
};

std::optional<std::uint32_t> parse_rule_filter(const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (text == "default" || text == "none") return 0;
  try {
    std::size_t used = 0;
    const unsigned long id = std::stoul(text, &used);
    if (used == text.size() && id <= UINT32_MAX && text.front() != '-') {
      return static_cast<std::uint32_t>(id);
    }
  } catch (const std::exception&) {
  }
  throw LogsError("--rule " + text + ": expected a rule id or 'default'");
}

logs::AuditFilter audit_filter(const LogsArgs& args) {
  logs::AuditFilter filter;
  filter.rule = parse_rule_filter(args.rule);
  filter.domain = args.domain;
  if (!args.decision.empty()) filter.allowed = args.decision == "allowed";
  return filter;
}

// A report's format: its own --format, else the one given to `awf logs` before it.
std::string report_format(const std::string& outer, bool outer_given, const std::string& own,
                          const CLI::Option* own_option) {
  if (own_option->count() > 0 || !outer_given) return own;
  if (outer == "raw") {
    throw LogsError("--format raw prints access.log; reports take pretty, json or markdown");
  }
  return outer;
}

int run_logs(int argc, char** argv) {
  CLI::App app{
      "Reads the logs of an awf run: --source DIR (the --proxy-logs-dir of the run), "
      "$AWF_LOGS_DIR, else your latest run in ~/.awf/logs.",
      "awf logs"};
  app.fallthrough();
  app.require_subcommand(0, 1);
  LogsArgs args;
  app.add_flag("-f,--follow", args.follow,
               "Keep printing records as they are written (Ctrl-C ends)");
  app.add_option("--format", args.format, "raw (access.log as written), pretty or json")
      ->check(CLI::IsMember({"raw", "pretty", "json"}));
  app.add_option("--source", args.source, "The run's log directory")->type_name("DIR");
  app.add_flag("--list", args.list, "List the runs found (directory, last write, records)");
  CLI::App* stats = app.add_subcommand("stats", "Totals and per-domain counts");
  CLI::Option* stats_format =
      stats->add_option("--format", args.stats_format, "pretty, json or markdown")
          ->check(CLI::IsMember({"pretty", "json", "markdown"}));
  CLI::App* summary =
      app.add_subcommand("summary", "Markdown summary for $GITHUB_STEP_SUMMARY (stats' data)");
  CLI::Option* summary_format =
      summary->add_option("--format", args.summary_format, "markdown, json or pretty")
          ->check(CLI::IsMember({"markdown", "json", "pretty"}));
  CLI::App* audit = app.add_subcommand("audit", "Every record under the rule that decided it");
  audit->add_option("--rule", args.rule, "Only this rule id ('default': the default deny)");
  audit->add_option("--domain", args.domain, "Only this domain and its subdomains");
  audit->add_option("--decision", args.decision, "allowed or denied")
      ->check(CLI::IsMember({"allowed", "denied"}));
  CLI::App* suggest =
      app.add_subcommand("suggest", "The --allow-domains list that allows what was denied");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::ParseError& error) {
    throw LogsError(explain_subcommand_error(error));
  }
  const bool subcommand = !app.get_subcommands().empty();
  if ((args.follow || args.list) && subcommand) {
    throw LogsError("--follow and --list apply to 'awf logs' itself, not to a subcommand");
  }
  if (args.list) return list_runs();
  const std::string dir = choose_source(args.source);
  // `awf logs --format json stats`: the format given before the subcommand applies to it.
  const bool outer_format = app.get_option("--format")->count() > 0;
  if (stats->parsed()) {
    return show_stats(dir,
                      report_format(args.format, outer_format, args.stats_format, stats_format));
  }
  if (summary->parsed()) {
    return show_stats(
        dir, report_format(args.format, outer_format, args.summary_format, summary_format));
  }
  if (audit->parsed()) return show_rule_audit(dir, audit_filter(args));
  if (suggest->parsed()) return show_suggestion(dir);
  return show_entries(dir, args.format, args.follow);
}

int run_guarded(const char* name, int error_status, int (*run)(int, char**), int argc,
                char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "awf %s: error: %s\n", name, error.what());
    return error_status;
  }
}

}  // namespace

std::optional<int> run_subcommand(int argc, char** argv) {
  if (argc < 2) return std::nullopt;
  const std::string_view name = argv[1];
  if (name == "logs") return run_guarded("logs", 1, run_logs, argc - 1, argv + 1);
  if (name == "policy") return run_guarded("policy", kExplainError, run_policy, argc - 1, argv + 1);
  return std::nullopt;
}

}  // namespace awf::cli