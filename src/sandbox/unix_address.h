// Pure logic of the Unix socket rule (socket_supervisor.*): what a sockaddr the command passed
// to connect() or sendto() names, and whether a path is one the caller named with
// --allow-unix-socket. No I/O here.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace awf::sandbox {

struct UnixAddress {
  enum class Kind {
    Other,     // not AF_UNIX: the rule does not apply
    Unnamed,   // AF_UNIX without a name (autobind, or nothing to look up)
    Abstract,  // AF_UNIX abstract name: per network namespace, the sandbox's own
    Pathname,  // AF_UNIX path in the filesystem: `path`
    Invalid,   // too short or too long for any family: the kernel refuses it (EINVAL)
  } kind = Kind::Invalid;
  std::string path;
};

// Reads `bytes` (the address and its length as the command passed them) as the kernel does:
// a pathname ends at the first NUL or at the length, whichever comes first.
UnixAddress parse_unix_address(std::span<const std::uint8_t> bytes);

// An absolute path from a relative one and the directory it is relative to ("" when `cwd`
// is not absolute).
std::string join_socket_path(std::string_view cwd, std::string_view path);

}  // namespace awf::sandbox
