// awf's private log store: where a run's logs go when no --proxy-logs-dir names a directory,
// and where `awf logs` finds the latest run. It is <HOME>/.awf/logs/<run>/ in the invoking
// user's HOME (common/owner.h): outside everything the sandbox shows (HOME's view holds only
// tool directories, .awf is none of them) and hidden wherever it would appear, so the command
// can neither read a run's record nor plant one. Every directory is the invoking user's and
// writable by nobody else; each run gets a new one (0700, never reused) and only names awf
// gives (run_name.h) are read back as runs.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace awf::cli {

// <HOME>/.awf for the invoking user: $HOME when awf acts for itself, the passwd entry's home
// when root acts for a sudo caller. nullopt when there is none.
std::optional<std::string> log_store_root();

// Creates <root>/logs/<new run name>/ (mode 0700, the invoking user's), never an existing
// directory, creating the store as needed. Throws SetupError naming --proxy-logs-dir as the
// way out when the store is missing, foreign or writable by others.
std::string create_run_dir();

// The store's runs for the invoking user, oldest first: directories (not symlinks) the user
// owns, named as awf names them. Empty when there is no store. Throws SetupError when the store
// is foreign or writable by others.
std::vector<std::string> stored_runs();

}  // namespace awf::cli
