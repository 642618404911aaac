// $HOME is deny-by-default: the command gets an empty tmpfs HOME into which only tool
// directories (caches, tool configuration) are bound from the real one, and credential files
// inside those are masked. SSH keys, cloud credentials, .gitconfig, .netrc, ... never appear.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "sandbox/shown_path.h"

namespace awf::sandbox {

struct HomeSpec {
  std::string path;   // the command's HOME, resolved ("" or "/": no HOME view)
  uid_t uid = 65534;  // owner of the empty HOME (the command's user)
  gid_t gid = 65534;
  bool fresh = false;  // kPrivateHome: nothing of the host's enters it
  // Host homes (resolved) whose credential stores are masked under every bind that shows
  // them: the command's HOME and awf's caller's (HOME, sudo's SUDO_USER), which may differ.
  std::vector<std::string> credential_homes;
  // Tool directories (HOME-relative, validated: under one of kHomeToolDirs, no "..") whose
  // writes go through to the host (--persist-home-dir); the others' vanish with the run.
  std::vector<std::string> persist;
};


// The command's HOME when its user has none on the host (nobody's /nonexistent, a uid without a
// passwd entry): tools need a writable HOME (npm, pip, git), so the command gets an empty
// private one, a per-run tmpfs that vanishes with the sandbox.
inline constexpr const char* kPrivateHome = "/home/awf";

// The HOME view for a user whose HOME is `home`: that directory (resolved) when it exists on
// the host, else a fresh one at kPrivateHome. Either is a tmpfs the user owns, so the command's
// HOME is always writable. Reads HOME and SUDO_USER for credential_homes.
HomeSpec plan_home(const std::string& home, uid_t uid, gid_t gid);

// Directories shown from the real HOME when they exist there (a symlink is copied as a symlink,
// never followed out of HOME). Anything else in HOME stays out of the view. Each is a per-run
// layer over the real one (overlayfs, its upper directory on a tmpfs): the command reads the
// caches and configuration, and what it writes (~/.nvm/nvm.sh, ~/.local/bin/git, which the
// user's next shell would run) vanishes with the run, unless listed in HomeSpec::persist.
inline constexpr const char* kHomeToolDirs[] = {
    ".cache", ".config", ".local",     ".cargo",  ".rustup",  ".npm",
    ".nvm",   ".azure",  ".anthropic", ".claude", ".copilot", ".gemini",
};


// Mounts the empty HOME at new_root+home and shows the tool directories found in
// old_root+home in it (none in a fresh HOME), writable through only where home.persist says.
// Does nothing when HOME is "/", or when it does not exist on the host and is not fresh.
// Stages its layers under /home-layer in the staging root.
void build_home_view(const std::string& old_root, const std::string& new_root,
                     const HomeSpec& home);

// Covers every credential path (credential_list.h) the view shows with an empty read-only file
// (an empty read-only tmpfs for a directory): in the HOME view, and through each of `shown`
// for each of home.credential_homes. Paths are resolved as the command will resolve them:
// inside new_root, symlinks included. Needs a proc mounted at new_root/proc and
// prepare_empty_file(). Throws SetupError.
void mask_credentials(const std::string& new_root, const HomeSpec& home,
                      const std::vector<ShownPath>& shown);

}  // namespace awf::sandbox
