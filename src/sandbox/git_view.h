// Repositories in the sandbox's view (the workspace, -v binds): what the command writes in
// .git is later run or trusted by git on the host (core.fsmonitor and core.hooksPath in
// .git/config, .git/hooks/*, a .git file pointing elsewhere), and .git/config holds the
// checkout's credentials (actions/checkout's http.<url>.extraheader). So each repository at
// the top of a shown directory gets:
//   - .git/config (and config.worktree) as a read-only copy without credentials
//     (git_config.h); a missing one is created empty first, so none can be planted;
//   - .git/hooks read-only (created empty when missing);
//   - .git itself made a mount point, so it cannot be renamed away and replaced; a .git file
//     (worktree, submodule checkout) read-only, and the directory it names treated alike;
//   - the same for submodules' directories in .git/modules; linked worktrees' `commondir`
//     read-only and their config.worktree filtered (created when extensions.worktreeConfig
//     is on), so that no worktree can be pointed at a configuration of the command's making.
// Objects, refs, the index and logs stay writable: status, add, commit, branch, log work.
#pragma once

#include <string>
#include <vector>

#include "sandbox/shown_path.h"

namespace awf::sandbox {

// Protects the repository at the top of each of `shown` (by its target, in the view), except
// those whose host source is in `writable` (--allow-git-write). Needs a proc mounted at
// new_root/proc; runs in the staging root (stages its copies there). Throws SetupError.
void protect_repositories(const std::string& new_root, const std::vector<ShownPath>& shown,
                          const std::vector<std::string>& writable);

}  // namespace awf::sandbox
