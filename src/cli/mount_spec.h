// -v/--mount HOST:CONTAINER[:ro|rw]. Pure parsing: the caller checks that HOST exists.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace awf::cli {

struct MountSpec {
  std::string host;        // absolute, variables expanded, normalized (no "//", "/./", trailing /)
  std::string container;   // absolute, same rules
  bool read_only = false;  // default rw, as AWF and docker
};

// Looks a host environment variable up; nullopt when it is not set.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// Expands $VAR and ${VAR} from `lookup` ("$$" is a literal '$'). Throws std::invalid_argument
// naming an undefined variable or a malformed reference.
std::string expand_variables(std::string_view text, const EnvLookup& lookup);

// Throws std::invalid_argument with a message that quotes `text`.
MountSpec parse_mount_spec(std::string_view text, const EnvLookup& lookup);

// Why the host path `path` (absolute, existing) is unsafe to mount: it is, or passes through,
// a symbolic link in a directory someone else can write (world-writable like /tmp, writable
// by a group other than the caller's, or owned by another user), so whoever can write there
// chooses what the mount shows (a link planted in /tmp pointing at ~/.ssh). Resolves the path
// component by component as the kernel would. nullopt when it is safe. Reads the filesystem;
// the caller is getuid()/getgid(), and sudo's SUDO_UID/SUDO_GID.
std::optional<std::string> unsafe_symlink_in(const std::string& path);

}  // namespace awf::cli
