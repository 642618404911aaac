#include "cli/log_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace awf::cli {
namespace {

std::int64_t mtime_ms(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return 0;
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

bool has_logs(const std::string& dir) {
  struct stat st {};
  return stat((dir + "/audit.jsonl").c_str(), &st) == 0 ||
         stat((dir + "/access.log").c_str(), &st) == 0;
}

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

}  // namespace

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

std::int64_t last_write_ms(const std::string& dir) {
  return std::max({mtime_ms(dir), mtime_ms(dir + "/audit.jsonl"), mtime_ms(dir + "/access.log")});
}

std::string logs_in(const std::string& dir) {
  const std::string squid = dir + "/squid-logs";
  if (!has_logs(dir) && is_directory(squid) && has_logs(squid)) return squid;
  return dir;
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

}  // namespace awf::cli
