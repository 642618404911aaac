#include "sandbox/mountinfo.h"

namespace awf::sandbox {
namespace {

bool is_octal(char c) {
  return c >= '0' && c <= '7';
}

// The kernel escapes space, tab, newline and backslash in a mount point as \ooo.
std::string unescape(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && is_octal(field[i + 1]) &&
        is_octal(field[i + 2]) && is_octal(field[i + 3])) {
      out += static_cast<char>(((field[i + 1] - '0') << 6) | ((field[i + 2] - '0') << 3) |
                               (field[i + 3] - '0'));
      i += 3;
      continue;
    }
    out += field[i];
  }
  return out;
}

// The `index`th space-separated field of `line` (0-based); empty when there are fewer.
std::string_view field_of(std::string_view line, int index) {
  for (int i = 0; i < index; ++i) {
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos) return {};
    line.remove_prefix(space + 1);
  }
  return line.substr(0, line.find(' '));
}

bool at_or_below(std::string_view mount_point, std::string_view path) {
  if (path == "/") return mount_point.starts_with('/');
  return mount_point == path ||
         (mount_point.starts_with(path) && mount_point.size() > path.size() &&
          mount_point[path.size()] == '/');
}

}  // namespace

std::vector<std::string> mounts_at_or_below(std::string_view mountinfo, std::string_view path) {
  std::vector<std::string> found;
  while (!mountinfo.empty()) {
    const std::size_t end = mountinfo.find('\n');
    const std::string_view line = mountinfo.substr(0, end);
    mountinfo.remove_prefix(end == std::string_view::npos ? mountinfo.size() : end + 1);
    const std::string_view field = field_of(line, 4);
    if (field.empty()) continue;
    std::string mount_point = unescape(field);
    if (at_or_below(mount_point, path)) found.push_back(std::move(mount_point));
  }
  return found;
}

}  // namespace awf::sandbox
