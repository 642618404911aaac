#include "sandbox/shown_path.h"

#include "sandbox/home_view.h"

namespace awf::sandbox {

bool is_within(const std::string& path, const std::string& ancestor) {
  if (ancestor == "/") return path.starts_with('/');
  return path.starts_with(ancestor) &&
         (path.size() == ancestor.size() || path[ancestor.size()] == '/');
}

std::string path_in_view(const std::string& file, const ShownPath& shown) {
  if (is_within(shown.source, file)) return shown.target;
  if (!is_within(file, shown.source)) return "";
  const std::string rest = file.substr(shown.source == "/" ? 0 : shown.source.size());
  return shown.target == "/" ? rest : shown.target + rest;
}

bool is_persistable_home_dir(std::string_view dir) {
  std::size_t at = 0;
  while (true) {
    const std::size_t slash = dir.find('/', at);
    const std::string_view part = dir.substr(at, slash == std::string_view::npos ? slash : slash - at);
    if (part.empty() || part == "." || part == "..") return false;
    if (slash == std::string_view::npos) break;
    at = slash + 1;
  }
  const std::string_view top = dir.substr(0, dir.find('/'));
  for (const std::string_view tool : kHomeToolDirs) {
    if (top == tool) return true;
  }
  return false;
}

}  // namespace awf::sandbox
