#include "cli/log_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "audit/log_writer.h"
#include "cli/run_name.h"
#include "common/error.h"
#include "common/owner.h"
#include "common/unique_fd.h"

namespace awf::cli {
namespace {

constexpr const char* kStoreName = ".awf";
constexpr const char* kRunsName = "logs";
constexpr int kNameAttempts = 16;
constexpr const char* kWayOut = ": name a log directory with --proxy-logs-dir DIR";

std::optional<std::string> passwd_home(uid_t uid) {
  std::vector<char> buffer(16384);
  passwd entry{};
  passwd* found = nullptr;
  if (getpwuid_r(uid, &entry, buffer.data(), buffer.size(), &found) != 0 || found == nullptr) {
    return std::nullopt;
  }
  if (entry.pw_dir == nullptr || entry.pw_dir[0] != '/') return std::nullopt;
  return std::string(entry.pw_dir);
}

// The invoking user's HOME (no trailing slash). $HOME only when awf acts for itself: under
// sudo it may be root's (or, with -E, whatever the caller set), so the caller's passwd entry
// decides.
std::optional<std::string> invoking_home() {
  const FileOwner user = invoking_user();
  std::optional<std::string> home;
  const char* variable = std::getenv("HOME");
  if (user.uid == geteuid() && variable != nullptr && variable[0] == '/') {
    home = variable;
  } else {
    home = passwd_home(user.uid);
  }
  while (home && home->size() > 1 && home->back() == '/') home->pop_back();
  return home;
}

std::string join(const std::string& dir, const std::string& name) {
  return dir == "/" ? "/" + name : dir + "/" + name;
}

// A store directory must be the invoking user's and writable by no one else: anyone else who
// could add an entry could make `awf logs` show a run of their making.
void check_private(int fd, const std::string& path) {
  struct stat st {};
  if (fstat(fd, &st) < 0) throw errno_error("stat " + path);
  const uid_t uid = invoking_user().uid;
  if (st.st_uid != uid || (st.st_mode & 022) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw SetupError(path + " is not private to uid " + std::to_string(uid) + " (owner uid " +
                     std::to_string(st.st_uid) + ", mode " + mode +
                     "): awf keeps its logs only in a directory of the user's that no one else "
                     "can write" +
                     kWayOut);
  }
}

// Opens `name` in `parent` as a directory, never through a symlink; creates it (0700, the
// invoking user's) when `create` is set. Invalid when it is missing and not to be created.
UniqueFd open_store_dir(int parent, const std::string& name, const std::string& path, bool create) {
  if (create && mkdirat(parent, name.c_str(), 0700) == 0) {
    UniqueFd fd(openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) throw errno_error("open " + path);
    give_to_invoking_user(fd.get(), path);
    return fd;
  }
  if (create && errno != EEXIST)
    throw SetupError("cannot create " + path + ": " + std::strerror(errno) + kWayOut);
  UniqueFd fd(openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT && !create) return fd;
    throw SetupError("cannot open " + path + " as a directory: " + std::strerror(errno) + kWayOut);
  }
  check_private(fd.get(), path);
  return fd;
}

struct Runs {
  std::string path;  // <root>/logs
  UniqueFd fd;       // invalid when there is no store
};

Runs open_runs(bool create) {
  const std::optional<std::string> home = invoking_home();
  if (!home) {
    if (!create) return {};
    throw SetupError("no home directory for uid " + std::to_string(invoking_user().uid) +
                     " to keep the logs in" + kWayOut);
  }
  const UniqueFd home_fd(open(home->c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!home_fd.valid()) {
    if (!create) return {};
    throw SetupError("cannot open the home directory " + *home + ": " + std::strerror(errno) +
                     kWayOut);
  }
  const std::string root = join(*home, kStoreName);
  const UniqueFd store = open_store_dir(home_fd.get(), kStoreName, root, create);
  Runs runs{join(root, kRunsName), UniqueFd()};
  if (store.valid()) runs.fd = open_store_dir(store.get(), kRunsName, runs.path, create);
  return runs;
}

std::uint32_t random_bits() {
  std::uint32_t value = 0;
  if (getrandom(&value, sizeof value, 0) != sizeof value) throw errno_error("getrandom");
  return value;
}

}  // namespace

std::optional<std::string> log_store_root() {
  const std::optional<std::string> home = invoking_home();
  if (!home) return std::nullopt;
  return join(*home, kStoreName);
}

std::string create_run_dir() {
  const Runs runs = open_runs(true);
  for (int attempt = 0; attempt < kNameAttempts; ++attempt) {
    const std::string name = run_dir_name(audit::now_ms(), random_bits());
    const std::string path = join(runs.path, name);
    // mkdir fails on anything already there: a run never reuses a directory.
    if (mkdirat(runs.fd.get(), name.c_str(), 0700) < 0) {
      if (errno == EEXIST) continue;
      throw SetupError("cannot create " + path + ": " + std::strerror(errno) + kWayOut);
    }
    const UniqueFd fd(
        openat(runs.fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) throw errno_error("open " + path);
    give_to_invoking_user(fd.get(), path);
    if (fchmod(fd.get(), 0700) < 0) throw errno_error("chmod " + path);
    return path;
  }
  throw SetupError("cannot find a new run directory name in " + runs.path + kWayOut);
}

std::vector<std::string> stored_runs() {
  const Runs runs = open_runs(false);
  if (!runs.fd.valid()) return {};
  const int fd = dup(runs.fd.get());
  if (fd < 0) throw errno_error("dup");
  const std::unique_ptr<DIR, int (*)(DIR*)> dir(fdopendir(fd), &closedir);
  if (!dir) {
    close(fd);
    throw errno_error("read " + runs.path);
  }
  const uid_t uid = invoking_user().uid;
  std::vector<std::string> names;
  while (const dirent* entry = readdir(dir.get())) {
    struct stat st {};
    if (!is_run_dir_name(entry->d_name)) continue;
    if (fstatat(runs.fd.get(), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
    if (S_ISDIR(st.st_mode) && st.st_uid == uid) names.emplace_back(entry->d_name);
  }
  std::sort(names.begin(), names.end());
  std::vector<std::string> paths;
  for (const std::string& name : names) paths.push_back(join(runs.path, name));
  return paths;
}

}  // namespace awf::cli
