// The command's environment, built from nothing in layers (lowest to highest precedence):
// awf's built-ins, the host's environment (--env-all), --env-file entries, -e entries. Secret
// names and --exclude-env names are removed from every layer last, so no flag brings a token
// back; then awf's overrides (placeholders for the keys the API proxy holds) are set. Pure
// logic: the host environment and files are passed in.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace awf::cli {

using EnvEntry = std::pair<std::string, std::string>;  // name, value

// Names that never reach the command: CI, cloud and LLM credentials.
const std::vector<std::string_view>& secret_env_names();

// Values longer than this are not passed through by --env-all (they break exec's limits and
// are typically certificates or blobs a tool re-reads from disk).
inline constexpr std::size_t kMaxInheritedValue = 64 * 1024;

// POSIX-portable name: [A-Za-z_][A-Za-z0-9_]*.
bool is_valid_env_name(std::string_view name);

// "KEY=VALUE" (VALUE may be empty or contain '='). Throws std::invalid_argument naming the
// text when the '=' or a valid name is missing.
EnvEntry parse_env_assignment(std::string_view text);

// KEY=VALUE lines; blank lines and lines starting with '#' (after spaces) are skipped; a
// leading "export " is accepted; values are taken literally (no quote removal, as docker).
// Throws std::invalid_argument naming the line number of the first bad line.
std::vector<EnvEntry> parse_env_file(std::string_view text);

// GH_HOST for a GitHub Enterprise server: the host of GITHUB_SERVER_URL (scheme, port, path
// and trailing slash dropped), or "" for github.com or anything unparsable.
std::string gh_host_from_server_url(std::string_view url);

struct EnvLayers {
  std::vector<EnvEntry> builtins;
  std::vector<EnvEntry> host;              // only with --env-all
  std::vector<EnvEntry> file;              // --env-file, in order
  std::vector<EnvEntry> explicit_entries;  // -e, in order
  std::vector<std::string> excluded;       // --exclude-env
  // awf's last word, applied after everything (and never withheld): the API proxy's base URLs
  // and the placeholders that stand in for the keys.
  std::vector<EnvEntry> overrides;
};

struct BuiltEnvironment {
  std::vector<std::string> env;        // KEY=VALUE, in first-seen order
  std::vector<std::string> withheld;   // secret or excluded names that were asked for (-e/file)
  std::vector<std::string> oversized;  // host names skipped for their size
};

// Host variables --env-all never copies: identity and session (HOME, USER, PWD, SUDO_*),
// host IPC endpoints (SSH_AUTH_SOCK, DBUS_SESSION_BUS_ADDRESS, DOCKER_HOST, DISPLAY...) and
// proxy settings, which awf replaces with its own.
bool is_host_only_env(std::string_view name);

BuiltEnvironment build_environment(const EnvLayers& layers);

}  // namespace awf::cli
