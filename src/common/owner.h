// Who owns what awf writes for its caller (the log, audit, work and session-state directories
// and their files): the invoking user, also when awf runs as root under sudo. CI uploads these
// as artifacts without sudo, and a user must be able to read and remove their own run's files.
//
// Only what awf creates is given away, each file through the descriptor awf created it with
// (never chown by path, which a symlink planted in between could redirect): a directory or
// file that already existed keeps its owner.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/unique_fd.h"

namespace awf {

struct FileOwner {
  uid_t uid;
  gid_t gid;
};

namespace owner_detail {

inline bool parse_id(const char* text, unsigned long& value) {
  if (text == nullptr || *text == '\0') return false;
  const std::string_view view(text);
  const auto [end, ec] = std::from_chars(view.data(), view.data() + view.size(), value);
  return ec == std::errc() && end == view.data() + view.size() && value <= 0xfffffffeUL;
}

}  // namespace owner_detail

// The invoking user: SUDO_UID/SUDO_GID when awf runs as root under sudo, else awf's real ids.
inline FileOwner invoking_user() {
  FileOwner owner{getuid(), getgid()};
  if (geteuid() != 0) return owner;
  unsigned long uid = 0;
  unsigned long gid = 0;
  if (owner_detail::parse_id(std::getenv("SUDO_UID"), uid) && uid != 0) {
    owner.uid = static_cast<uid_t>(uid);
    if (owner_detail::parse_id(std::getenv("SUDO_GID"), gid)) owner.gid = static_cast<gid_t>(gid);
  }
  return owner;
}

// Gives what awf has just created (open as `fd`) to the invoking user. Only root has to: an
// unprivileged awf's files are its caller's already.
inline void give_to_invoking_user(int fd, const std::string& path) {
  if (geteuid() != 0) return;
  const FileOwner owner = invoking_user();
  if (owner.uid == 0 && owner.gid == 0) return;
  if (fchown(fd, owner.uid, owner.gid) < 0) throw errno_error("chown " + path);
}

// Creates the directory `path` and its missing parents (mode `mode`, umask applied). Each
// directory created here goes to the invoking user; existing ones are left as they are.
// Throws SetupError.
inline void make_output_dirs(const std::string& path, mode_t mode = 0755) {
  for (std::size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    const std::string prefix = path.substr(0, pos);
    if (mkdir(prefix.c_str(), mode) < 0) {
      if (errno != EEXIST) throw errno_error("create directory " + prefix);
      continue;
    }
    // O_NOFOLLOW: had the new directory been swapped for a symlink, nothing is chowned.
    const UniqueFd dir(open(prefix.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir.valid()) throw errno_error("open directory " + prefix);
    give_to_invoking_user(dir.get(), prefix);
  }
}

// Opens the file `path` for writing with `flags` (O_WRONLY plus O_APPEND or O_TRUNC),
// creating it with `mode` when missing; never through a symlink at `path`. A file created here
// goes to the invoking user. Throws SetupError.
inline UniqueFd open_output_file(const std::string& path, int flags, mode_t mode = 0644) {
  UniqueFd fd(open(path.c_str(), flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
  if (fd.valid()) {
    give_to_invoking_user(fd.get(), path);
    return fd;
  }
  if (errno != EEXIST) throw errno_error("open " + path);
  fd.reset(open(path.c_str(), flags | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) throw errno_error("open " + path);
  return fd;
}

}  // namespace awf
