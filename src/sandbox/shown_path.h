// Path logic of the sandbox's view: where a host path appears through the binds that show
// it, which HOME directories may be written through. Pure.
#pragma once

#include <string>
#include <string_view>

namespace awf::sandbox {

// A host directory or file (resolved) shown at `target` in the sandbox: a workspace, a -v bind.
struct ShownPath {
  std::string source;
  std::string target;
};

// Whether `path` is `ancestor` or lies below it (both absolute, normalized).
bool is_within(const std::string& path, const std::string& ancestor);

// Where the host path `file` (resolved) appears through `shown`: below the target when the
// bind contains it, the target itself when `file` (a directory) contains the bind's source,
// "" otherwise.
std::string path_in_view(const std::string& file, const ShownPath& shown);

// Whether `dir` may be given to --persist-home-dir: relative, normalized ("a/b", no ".", "..",
// empty components or trailing "/") and one of kHomeToolDirs (home_view.h) or inside one.
bool is_persistable_home_dir(std::string_view dir);

}  // namespace awf::sandbox
