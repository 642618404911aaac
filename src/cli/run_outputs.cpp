#include "cli/run_outputs.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>

#include "cli/audit_files.h"
#include "cli/log_store.h"
#include "common/error.h"
#include "common/owner.h"
#include "common/unique_fd.h"

namespace awf::cli {
namespace {

// "/tmp/<prefix><UTC time>-<pid>": unique per run, sorts by start time.
std::string fresh_tmp_dir(const char* prefix) {
  char stamp[32];
  const std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", std::gmtime(&now));
  return std::string("/tmp/") + prefix + stamp + "-" + std::to_string(getpid());
}

// Never through a symlink; a file created here belongs to the invoking user.
void write_text_file(const std::string& file, const std::string& contents, mode_t mode = 0644) {
  const UniqueFd fd = open_output_file(file, O_WRONLY | O_TRUNC, mode);
  std::size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(fd.get(), contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw errno_error("cannot write " + file);
    done += static_cast<std::size_t>(n);
  }
}

void write_audit_dir(const std::string& dir, const std::string& manifest,
                     const std::string& config) {
  make_output_dir(dir, "--audit-dir");
  write_text_file(dir + "/policy-manifest.json", manifest);
  write_text_file(dir + "/awf-config.json", config);
}

// A work directory only when asked for: by default a run leaves nothing behind but its
// logs, even when awf is killed.
std::optional<std::string> work_dir_path(const Options& options) {
  if (!options.work_dir.empty()) return options.work_dir;
  if (options.keep_work_dir) return fresh_tmp_dir("awf-");
  return std::nullopt;
}

// The directories the command can write on the host (sandbox/mounts.h): a log store below one
// would be within its reach, however hidden (it could move a parent directory away and put
// its own in place).
void check_store_out_of_reach(const std::string& root) {
  char resolved[PATH_MAX];
  const std::string home = root.substr(0, root.rfind('/'));
  const std::string where = realpath(home.empty() ? "/" : home.c_str(), resolved) ? resolved : home;
  for (const char* writable : {"/tmp", "/dev"}) {
    const std::string dir = writable;
    if (where == dir || where.starts_with(dir + "/")) {
      throw SetupError("the log store " + root + " lies in " + dir +
                       ", which the command can write (HOME is in it): name a log directory "
                       "with --proxy-logs-dir DIR, or run awf with a HOME outside " +
                       dir);
    }
  }
}

// --proxy-logs-dir as given (gh-aw's layout: created if missing, files 0644), else a new
// directory in the private store (log_store.h).
std::string logs_directory(const Options& options) {
  if (!options.proxy_logs_dir.empty()) return options.proxy_logs_dir;
  if (const std::optional<std::string> root = log_store_root()) check_store_out_of_reach(*root);
  return create_run_dir();
}

}  // namespace

bool make_output_dir(const std::string& path, const char* flag) {
  struct stat st {};
  const bool existed = stat(path.c_str(), &st) == 0;
  try {
    make_output_dirs(path);
  } catch (const SetupError& error) {
    throw UsageError(std::string(flag) + " '" + path + "': cannot create it: " + error.what());
  }
  return !existed;
}

WorkDir::WorkDir(std::string path, bool keep)
    : path_(std::move(path)), keep_(keep), created_(make_output_dir(path_, "--work-dir")) {}

WorkDir::~WorkDir() {
  if (keep_) return;
  std::error_code ignored;
  for (const std::string& file : files_) std::filesystem::remove(file, ignored);
  if (created_) std::filesystem::remove(path_, ignored);  // only when empty
}

void WorkDir::write(const std::string& name, const std::string& contents) {
  const std::string file = path_ + "/" + name;
  write_text_file(file, contents);
  files_.push_back(file);
}

RunOutputs::RunOutputs(const Options& options, const std::string& manifest)
    : options_(options),
      explicit_logs_dir_(!options.proxy_logs_dir.empty()),
      log_(logs_directory(options), log_file_mode()) {
  try {
    if (const std::optional<std::string> path = work_dir_path(options)) {
      work_dir_.emplace(*path, options.keep_work_dir);
      work_dir_->write("policy-manifest.json", manifest);
      work_dir_->write("awf-config.json", resolved_config_json(options));
    }
    // `awf logs audit` names the rule behind each record from the copy next to the logs.
    write_text_file(log_.directory() + "/policy-manifest.json", manifest,
                    explicit_logs_dir_ ? 0644 : 0600);
    if (!options.audit_dir.empty()) {
      write_audit_dir(options.audit_dir, manifest, resolved_config_json(options));
    }
  } catch (...) {
    remove_unused_logs();
    throw;
  }
}

// A run refused while its outputs are set up leaves nothing behind: the log files it opened
// (still empty) and the manifest go, and the directory when nothing else is in it.
void RunOutputs::remove_unused_logs() {
  const std::string dir = log_.directory();
  for (const char* name : {"access.log", "audit.jsonl"}) {
    struct stat info {};
    const std::string path = dir + "/" + name;
    if (stat(path.c_str(), &info) == 0 && info.st_size == 0) unlink(path.c_str());
  }
  unlink((dir + "/policy-manifest.json").c_str());
  rmdir(dir.c_str());
}

std::vector<std::string> RunOutputs::own_dirs() const {
  std::vector<std::string> dirs{log_.directory()};
  if (work_dir_) dirs.push_back(work_dir_->path());
  // Every run's logs, not only this one's, wherever the view would show the store.
  if (const std::optional<std::string> root = log_store_root()) dirs.push_back(*root);
  return dirs;
}

std::string RunOutputs::diagnostics_home() const {
  if (!options_.audit_dir.empty()) return options_.audit_dir;
  if (work_dir_) return work_dir_->path();
  return log_.directory();
}

void RunOutputs::print_locations() const {
  if (!explicit_logs_dir_) std::fprintf(stderr, "awf: logs in %s\n", log_.directory().c_str());
  if (work_dir_ && options_.keep_work_dir) {
    std::fprintf(stderr, "awf: work directory kept at %s\n", work_dir_->path().c_str());
  }
}

}  // namespace awf::cli
