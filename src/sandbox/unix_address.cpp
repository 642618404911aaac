#include "sandbox/unix_address.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>

namespace awf::sandbox {

UnixAddress parse_unix_address(std::span<const std::uint8_t> bytes) {
  constexpr std::size_t kFamilySize = sizeof(sa_family_t);
  if (bytes.size() < kFamilySize) return {UnixAddress::Kind::Invalid};
  sa_family_t family = 0;
  static_assert(sizeof family == 2);
  family = static_cast<sa_family_t>(bytes[0] | (bytes[1] << 8));  // little-endian hosts only
  if (family != AF_UNIX) return {UnixAddress::Kind::Other};
  if (bytes.size() > sizeof(sockaddr_un)) return {UnixAddress::Kind::Invalid};
  const std::span<const std::uint8_t> name = bytes.subspan(offsetof(sockaddr_un, sun_path));
  if (name.empty()) return {UnixAddress::Kind::Unnamed};
  if (name[0] == 0) return {UnixAddress::Kind::Abstract};
  std::string path;
  for (const std::uint8_t byte : name) {
    if (byte == 0) break;
    path.push_back(static_cast<char>(byte));
  }
  return {UnixAddress::Kind::Pathname, std::move(path)};
}

std::string join_socket_path(std::string_view cwd, std::string_view path) {
  if (path.starts_with('/')) return std::string(path);
  if (!cwd.starts_with('/')) return "";
  std::string joined(cwd);
  if (!joined.ends_with('/')) joined += '/';
  joined += path;
  return joined;
}

}  // namespace awf::sandbox
