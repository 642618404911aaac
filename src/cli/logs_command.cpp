#include "cli/logs_command.h"

#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "logs/entry.h"
#include "logs/entry_format.h"
#include "logs/explain.h"
#include "logs/log_text.h"
#include "logs/manifest.h"
#include "logs/rule_audit.h"
#include "logs/stats.h"
#include "logs/suggest.h"
#include "policy/domain_list.h"
#include "policy/policy.h"

namespace awf::cli {
namespace {

using logs::LogEntry;

constexpr const char* kRunPattern = "/tmp/awf-logs-*";
constexpr auto kFollowInterval = std::chrono::milliseconds(200);
// A followed access.log line waits this long for its audit.jsonl record.
constexpr std::int64_t kUserAgentWindowMs = 60'000;
constexpr int kExplainError = 2;

// A problem with the logs or the arguments: the message is printed, the exit status is 1.
class LogsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

volatile std::sig_atomic_t g_stop = 0;

void request_stop(int) {
  g_stop = 1;
}

bool is_blank(const std::string& line) {
  return line.find_first_not_of(" \t\r") == std::string::npos;
}

// ------------------------------------------------------------------------------- the files

std::optional<std::string> read_file_if_present(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    throw LogsError("cannot read " + path + ": " + std::strerror(errno));
  }
  std::string text;
  char buffer[65536];
  ssize_t n = 0;
  while ((n = read(fd, buffer, sizeof buffer)) > 0) text.append(buffer, static_cast<size_t>(n));
  const int error = errno;
  close(fd);
  if (n < 0) throw LogsError("cannot read " + path + ": " + std::strerror(error));
  return text;
}

bool is_directory(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::int64_t mtime_ms(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return 0;
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

// When the run last wrote: its directory or either log file.
std::int64_t last_write_ms(const std::string& dir) {
  return std::max({mtime_ms(dir), mtime_ms(dir + "/audit.jsonl"), mtime_ms(dir + "/access.log")});
}

std::vector<std::string> run_dirs() {
  std::vector<std::string> dirs;
  glob_t found{};
  if (glob(kRunPattern, GLOB_ONLYDIR, nullptr, &found) == 0) {
    for (std::size_t i = 0; i < found.gl_pathc; ++i) {
      if (is_directory(found.gl_pathv[i])) dirs.emplace_back(found.gl_pathv[i]);
    }
  }
  globfree(&found);
  return dirs;
}

const char* logs_dir_from_environment() {
  const char* dir = std::getenv("AWF_LOGS_DIR");
  return dir != nullptr && *dir != '\0' ? dir : nullptr;
}

bool has_logs(const std::string& dir) {
  struct stat st {};
  return stat((dir + "/audit.jsonl").c_str(), &st) == 0 ||
         stat((dir + "/access.log").c_str(), &st) == 0;
}

// The logs directly in `dir`, else in its squid-logs/ (AWF's layout under --proxy-logs-dir,
// which gh-aw hands over as AWF_LOGS_DIR).
std::string logs_in(const std::string& dir) {
  const std::string squid = dir + "/squid-logs";
  if (!has_logs(dir) && is_directory(squid) && has_logs(squid)) return squid;
  return dir;
}

// --source, else $AWF_LOGS_DIR, else the /tmp/awf-logs-* directory written last.
std::string choose_source(const std::string& source) {
  if (!source.empty()) return logs_in(source);
  if (const char* dir = logs_dir_from_environment()) return logs_in(dir);
  const std::vector<std::string> dirs = run_dirs();
  if (dirs.empty()) {
    throw LogsError(std::string("no awf run found (no ") + kRunPattern +
                    " directory); name one with --source DIR or AWF_LOGS_DIR");
  }
  return *std::max_element(dirs.begin(), dirs.end(), [](const auto& a, const auto& b) {
    return last_write_ms(a) < last_write_ms(b);
  });
}

void check_counts(const std::string& path, const logs::LineCounts& counts) {
  if (logs::is_garbage(counts)) {
    throw LogsError(path + " is not an awf log: none of its lines is a record");
  }
  if (counts.malformed > 0) {
    std::fprintf(stderr, "awf: skipped %zu malformed line%s in %s\n", counts.malformed,
                 counts.malformed == 1 ? "" : "s", path.c_str());
  }
}

struct RunLogs {
  std::vector<LogEntry> entries;
  logs::AccessText access;
  bool has_access = false;
  std::optional<logs::Manifest> manifest;
};

// The run's policy-manifest.json: beside the logs (awf writes it there), above them when they
// are in squid-logs/, or in the audit directory beside the logs directory (AWF's layout).
std::optional<logs::Manifest> load_manifest(const std::string& dir) {
  std::vector<std::string> candidates{dir + "/policy-manifest.json"};
  if (dir.ends_with("/squid-logs")) {
    const std::string parent = dir.substr(0, dir.size() - std::strlen("/squid-logs"));
    candidates.push_back(parent + "/policy-manifest.json");
    candidates.push_back(parent + "/../audit/policy-manifest.json");
  }
  candidates.push_back(dir + "/../audit/policy-manifest.json");
  for (const std::string& path : candidates) {
    const std::optional<std::string> text = read_file_if_present(path);
    if (!text) continue;
    std::optional<logs::Manifest> manifest = logs::parse_manifest(*text);
    if (!manifest) std::fprintf(stderr, "awf: ignored %s: not a policy manifest\n", path.c_str());
    return manifest;
  }
  return std::nullopt;
}

// audit.jsonl is the source (every decision, with pid and rule); access.log adds user agents.
// A directory with access.log only (AWF's Squid logs) is read from that.
RunLogs load_run(const std::string& dir) {
  if (!is_directory(dir)) throw LogsError("no log directory " + dir);
  const std::string audit_path = dir + "/audit.jsonl";
  const std::string access_path = dir + "/access.log";
  const std::optional<std::string> audit_text = read_file_if_present(audit_path);
  const std::optional<std::string> access_text = read_file_if_present(access_path);
  if (!audit_text && !access_text) {
    throw LogsError(dir + " holds no awf logs (neither audit.jsonl nor access.log)");
  }
  RunLogs run;
  if (access_text) {
    run.has_access = true;
    run.access = logs::parse_access_text(*access_text);
    check_counts(access_path, run.access.counts);
  }
  if (audit_text) {
    logs::AuditText audit = logs::parse_audit_text(*audit_text);
    check_counts(audit_path, audit.counts);
    run.entries = logs::join_user_agents(std::move(audit.records), run.access.records);
  } else {
    for (const auto& access : run.access.records)
      run.entries.push_back(logs::entry_from_access(access));
  }
  run.manifest = load_manifest(dir);
  return run;
}

// ---------------------------------------------------------------------------- following

// Reads what was appended to a file since the last poll; a file that shrank (truncated or
// replaced) is read again from the start.
class Follower {
 public:
  explicit Follower(std::string path) : path_(std::move(path)) {}

  std::vector<std::string> poll() {
    struct stat st {};
    if (stat(path_.c_str(), &st) != 0) return {};
    if (st.st_size < offset_) {
      offset_ = 0;
      splitter_ = logs::LineSplitter();
    }
    const int fd = open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return {};
    std::vector<std::string> lines;
    char buffer[65536];
    ssize_t n = 0;
    while ((n = pread(fd, buffer, sizeof buffer, offset_)) > 0) {
      offset_ += n;
      for (std::string& line : splitter_.feed({buffer, static_cast<std::size_t>(n)})) {
        lines.push_back(std::move(line));
      }
    }
    close(fd);
    return lines;
  }

  const std::string& path() const { return path_; }

 private:
  std::string path_;
  off_t offset_ = 0;
  logs::LineSplitter splitter_;
};

using Printer = std::function<void(const LogEntry&)>;

// Follows audit.jsonl (with user agents from access.log), or access.log alone when there is
// no audit.jsonl. Complete lines only: a half-written last line waits for the rest.
class EntryFollower {
 public:
  explicit EntryFollower(const std::string& dir)
      : audit_(dir + "/audit.jsonl"), access_(dir + "/access.log") {
    struct stat st {};
    access_only_ = stat(audit_.path().c_str(), &st) != 0;
  }

  void poll(const Printer& print) {
    for (const std::string& line : access_.poll()) {
      if (is_blank(line)) continue;
      const auto access = take(audit::parse_access_line(line), access_counts_);
      if (!access) continue;
      if (access_only_) {
        print(logs::entry_from_access(*access));
      } else {
        agents_.add(*access);
      }
    }
    if (access_only_) return;
    for (const std::string& line : audit_.poll()) {
      if (is_blank(line)) continue;
      auto record = take(audit::parse_json_line(line), audit_counts_);
      if (!record) continue;
      std::string agent = agents_.take(*record);
      agents_.drop_before(record->time_ms - kUserAgentWindowMs);
      print(LogEntry{std::move(*record), std::move(agent)});
    }
  }

  void check() const {
    if (!access_only_) check_counts(audit_.path(), audit_counts_);
    check_counts(access_.path(), access_counts_);
  }

 private:
  template <typename Record>
  static std::optional<Record> take(std::optional<Record> record, logs::LineCounts& counts) {
    if (record) {
      ++counts.valid;
    } else {
      ++counts.malformed;
    }
    return record;
  }

  Follower audit_;
  Follower access_;
  bool access_only_ = false;
  logs::UserAgentIndex agents_;
  logs::LineCounts audit_counts_;
  logs::LineCounts access_counts_;
};

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

// Calls `poll` now and every kFollowInterval until SIGINT or SIGTERM; `check` after the
// first poll rejects a file that is not a log at all.
template <typename Poll, typename Check>
int follow(Poll poll, Check check) {
  install_stop_handlers();
  poll();
  check();
  std::fflush(stdout);
  while (g_stop == 0) {
    std::this_thread::sleep_for(kFollowInterval);
    poll();
    std::fflush(stdout);
  }
  return 0;
}

int follow_raw(const std::string& dir) {
  Follower access(dir + "/access.log");
  logs::LineCounts counts;
  return follow(
      [&] {
        for (const std::string& line : access.poll()) {
          if (is_blank(line)) continue;
          if (!audit::parse_access_line(line)) {
            ++counts.malformed;
            continue;
          }
          ++counts.valid;
          std::printf("%s\n", line.c_str());
        }
      },
      [&] { check_counts(access.path(), counts); });
}

int follow_entries(const std::string& dir, const Printer& print) {
  EntryFollower follower(dir);
  return follow([&] { follower.poll(print); }, [&] { follower.check(); });
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
  std::vector<std::string> dirs = run_dirs();
  if (const char* dir = logs_dir_from_environment()) dirs.emplace_back(logs_in(dir));
  std::sort(dirs.begin(), dirs.end());
  dirs.erase(std::unique(dirs.begin(), dirs.end()), dirs.end());
  std::stable_sort(dirs.begin(), dirs.end(), [](const auto& a, const auto& b) {
    return last_write_ms(a) > last_write_ms(b);
  });
  if (dirs.empty()) {
    std::fprintf(stderr, "awf: no awf run found (no %s directory)\n", kRunPattern);
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
      "Reads the logs of an awf run: the newest /tmp/awf-logs-* directory, $AWF_LOGS_DIR, or "
      "--source DIR (the --proxy-logs-dir of the run).",
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
    throw LogsError(error.what());
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

// Exit 0 when the target is allowed, 1 when it is denied, 2 for a bad argument.
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
    throw LogsError(error.what());
  }
  const std::optional<logs::Target> target = logs::parse_target(target_text);
  if (!target) throw LogsError("'" + target_text + "' is not HOST[:PORT]");
  try {
    const policy::Policy policy = policy::Policy::build(domain_entries(allow, allow_files),
                                                        domain_entries(block, block_files));
    const logs::Explanation explanation = logs::explain(policy, *target);
    print(explanation.text);
    return explanation.allowed ? 0 : 1;
  } catch (const policy::PolicyError& error) {
    throw LogsError(error.what());
  }
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
