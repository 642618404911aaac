#include "cli/mount_spec.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <stdexcept>
#include <vector>

#include "cli/environment.h"

namespace awf::cli {
namespace {

bool is_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// "/a//b/./c/" -> "/a/b/c". ".." is refused rather than resolved: a mount target that climbs
// out of where it seems to be is a mistake or a trick.
std::string normalize_absolute(const std::string& path, const char* which) {
  if (path.empty() || path.front() != '/') {
    throw std::invalid_argument(std::string(which) + " path must be absolute");
  }
  std::string out;
  std::size_t at = 0;
  while (at < path.size()) {
    const auto next = path.find('/', at);
    const std::string part =
        path.substr(at, next == std::string::npos ? std::string::npos : next - at);
    at = next == std::string::npos ? path.size() : next + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") throw std::invalid_argument(std::string(which) + " path must not use '..'");
    out += '/';
    out += part;
  }
  return out.empty() ? "/" : out;
}

// The caller's id from a sudo variable, when set and numeric.
std::optional<unsigned long> sudo_id(const char* name) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return std::nullopt;
  char* end = nullptr;
  const unsigned long value = std::strtoul(text, &end, 10);
  if (*end != '\0') return std::nullopt;
  return value;
}

// Whether someone other than root and the caller can create or replace entries in `dir`.
bool writable_by_others(const struct stat& dir) {
  const auto caller = [](unsigned long id, unsigned long own, const char* sudo) {
    return id == own || (sudo_id(sudo) && *sudo_id(sudo) == id);
  };
  if (dir.st_mode & S_IWOTH) return true;
  if ((dir.st_mode & S_IWGRP) && dir.st_gid != 0 && !caller(dir.st_gid, getgid(), "SUDO_GID")) {
    return true;
  }
  return dir.st_uid != 0 && !caller(dir.st_uid, getuid(), "SUDO_UID");
}

std::deque<std::string> components(const std::string& path) {
  std::deque<std::string> parts;
  std::size_t at = 0;
  while (at <= path.size()) {
    const auto slash = path.find('/', at);
    const std::string part = path.substr(at, slash == std::string::npos ? slash : slash - at);
    if (!part.empty() && part != ".") parts.push_back(part);
    if (slash == std::string::npos) break;
    at = slash + 1;
  }
  return parts;
}

std::string parent_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

}  // namespace

std::optional<std::string> unsafe_symlink_in(const std::string& path) {
  std::deque<std::string> rest = components(path);
  std::string resolved = "/";
  int links = 0;
  while (!rest.empty()) {
    const std::string part = rest.front();
    rest.pop_front();
    if (part == "..") {
      resolved = parent_of(resolved);
      continue;
    }
    const std::string next = resolved == "/" ? "/" + part : resolved + "/" + part;
    struct stat st {};
    if (lstat(next.c_str(), &st) < 0) return std::nullopt;  // missing: reported elsewhere
    if (!S_ISLNK(st.st_mode)) {
      resolved = next;
      continue;
    }
    struct stat dir {};
    if (stat(resolved.c_str(), &dir) < 0 || writable_by_others(dir)) {
      return "it passes through the symbolic link " + next + " in " + resolved +
             ", a directory other users can write (whoever planted the link chooses what the "
             "mount shows)";
    }
    if (++links > 40) return "too many levels of symbolic links at " + next;
    char target[PATH_MAX];
    const ssize_t n = readlink(next.c_str(), target, sizeof target - 1);
    if (n < 0) return "cannot read the symbolic link " + next;
    target[n] = '\0';
    std::deque<std::string> more = components(target);
    rest.insert(rest.begin(), more.begin(), more.end());
    if (target[0] == '/') resolved = "/";
  }
  return std::nullopt;
}

std::string expand_variables(std::string_view text, const EnvLookup& lookup) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$') {
      out += text[i];
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    std::string name;
    if (i + 1 < text.size() && text[i + 1] == '{') {
      const auto close = text.find('}', i + 2);
      if (close == std::string_view::npos) throw std::invalid_argument("unterminated '${'");
      name = std::string(text.substr(i + 2, close - i - 2));
      i = close;
    } else {
      std::size_t end = i + 1;
      while (end < text.size() && is_name_char(text[end])) ++end;
      name = std::string(text.substr(i + 1, end - i - 1));
      i = end - 1;
    }
    if (!is_valid_env_name(name)) {
      throw std::invalid_argument("'$" + name + "' is not a valid variable reference");
    }
    const std::optional<std::string> value = lookup(name);
    if (!value) throw std::invalid_argument("variable '" + name + "' is not set");
    out += *value;
  }
  return out;
}

MountSpec parse_mount_spec(std::string_view text, const EnvLookup& lookup) {
  const auto fail = [&](const std::string& why) {
    return std::invalid_argument("invalid mount '" + std::string(text) + "': " + why +
                                 " (expected HOST_PATH:CONTAINER_PATH[:ro|rw])");
  };
  std::vector<std::string_view> parts;
  std::size_t at = 0;
  while (true) {
    const auto colon = text.find(':', at);
    parts.push_back(text.substr(at, colon == std::string_view::npos ? colon : colon - at));
    if (colon == std::string_view::npos) break;
    at = colon + 1;
  }
  if (parts.size() < 2 || parts.size() > 3) throw fail("wrong number of ':'-separated parts");
  MountSpec spec;
  if (parts.size() == 3) {
    if (parts[2] == "ro") {
      spec.read_only = true;
    } else if (parts[2] != "rw") {
      throw fail("mode must be 'ro' or 'rw'");
    }
  }
  try {
    spec.host = normalize_absolute(expand_variables(parts[0], lookup), "host");
    spec.container = normalize_absolute(expand_variables(parts[1], lookup), "container");
  } catch (const std::invalid_argument& error) {
    throw fail(error.what());
  }
  if (spec.container == "/") throw fail("the container path cannot be '/'");
  // awf builds these itself after the binds (the sandbox's own /proc, a minimal /dev, a
  // read-only /sys): a mount there would be covered, silently.
  for (const char* managed : {"/proc", "/dev", "/sys"}) {
    const std::string_view target = spec.container;
    if (target == managed || (target.starts_with(managed) && target[std::strlen(managed)] == '/')) {
      throw fail("the container path " + spec.container +
                 (target == managed ? " is " : " is under ") + managed +
                 ", which awf builds for the sandbox itself; mount it elsewhere");
    }
  }
  return spec;
}

}  // namespace awf::cli
