// $HOME is deny-by-default: the command gets an empty tmpfs HOME into which only tool
// directories (caches, tool configuration) are bound from the real one, and credential files
// inside those are masked. SSH keys, cloud credentials, .gitconfig, .netrc, ... never appear.
#pragma once

#include <sys/types.h>

#include <string>

namespace awf::sandbox {

struct HomeSpec {
  std::string path;   // the command's HOME, resolved ("" or "/": no HOME view)
  uid_t uid = 65534;  // owner of the empty HOME (the command's user)
  gid_t gid = 65534;
  bool fresh = false;  // kPrivateHome: nothing of the host's enters it
};

// The command's HOME when its user has none on the host (nobody's /nonexistent, a uid without a
// passwd entry): tools need a writable HOME (npm, pip, git), so the command gets an empty
// private one, a per-run tmpfs that vanishes with the sandbox.
inline constexpr const char* kPrivateHome = "/home/awf";

// The HOME view for a user whose HOME is `home`: that directory (resolved) when it exists on
// the host, else a fresh one at kPrivateHome. Either is a tmpfs the user owns, so the command's
// HOME is always writable.
HomeSpec plan_home(const std::string& home, uid_t uid, gid_t gid);

// Directories bound read-write from the real HOME when they exist there (a symlink is copied
// as a symlink, never followed out of HOME). Anything else in HOME stays out of the view.
inline constexpr const char* kHomeToolDirs[] = {
    ".cache", ".config", ".local",     ".cargo",  ".rustup",  ".npm",
    ".nvm",   ".azure",  ".anthropic", ".claude", ".copilot", ".gemini",
};

// Credential files and directories, relative to HOME, masked wherever the view shows them
// (inside a bound tool directory, or through a workspace bound inside HOME). The top-level
// ones (.ssh, .aws, .docker, .kube) are absent anyway; they are listed for that case.
inline constexpr const char* kCredentialFiles[] = {
    ".docker/config.json",
    ".npmrc",
    ".composer/auth.json",
    ".ssh/id_rsa",
    ".ssh/id_ed25519",
    ".ssh/id_ecdsa",
    ".ssh/id_dsa",
    ".aws/credentials",
    ".aws/config",
    ".kube/config",
    ".azure/credentials",
    ".azure/msal_token_cache.bin",
    ".azure/msal_token_cache.json",
    ".azure/accessTokens.json",
    ".azure/service_principal_entries.json",
    ".cargo/credentials",
    ".cargo/credentials.toml",
    ".claude/.credentials.json",
    ".gemini/oauth_creds.json",
    ".gemini/google_accounts.json",
    ".gemini/access_tokens.json",
    ".config/gh/hosts.yml",
    ".config/git/credentials",
    ".config/gcloud/credentials.db",
    ".config/gcloud/access_tokens.db",
    ".config/gcloud/application_default_credentials.json",
    ".config/gcloud/legacy_credentials",
    ".config/doctl/config.yaml",
    ".config/rclone/rclone.conf",
    ".config/containers/auth.json",
    ".config/pulumi/credentials.json",
    ".config/helm/repositories.yaml",
    ".config/hub",
    ".config/glab-cli/config.yml",
};

// Mounts the empty HOME at new_root+home and binds the tool directories found in
// old_root+home into it (none into a fresh HOME). Does nothing when HOME is "/", or when it
// does not exist on the host and is not fresh.
void build_home_view(const std::string& old_root, const std::string& new_root,
                     const HomeSpec& home);

// Covers every credential path the view shows with an empty read-only file (an empty
// read-only tmpfs for a directory). Paths are resolved as the command will resolve them:
// inside new_root, symlinks included. Needs a proc mounted at new_root/proc and
// prepare_empty_file(). Throws SetupError.
void mask_credentials(const std::string& new_root, const HomeSpec& home);

}  // namespace awf::sandbox
