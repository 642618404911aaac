// The sandbox's plan for a run: who the command runs as, where it starts, what it sees of the
// host's filesystem (HOME view, workspace, -v mounts, awf's own directories hidden) and which
// listeners it gets besides the proxy's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cli/options.h"
#include "peers/peer_plan.h"
#include "sandbox/home_view.h"
#include "sandbox/identity.h"
#include "sandbox/sandbox.h"

namespace awf::cli {

struct CommandUser {
  sandbox::Identity identity;  // identity.home: the command's HOME
  std::string own_home;        // the user's HOME on the host ("/" when it has none)
  sandbox::HomeSpec home;      // the command's HOME view
};

// --user, else the default identity (sandbox/identity.h), once user namespaces are known to
// work; and its HOME view. Throws UsageError for a bad --user, SetupError from the check.
CommandUser command_user(const Options& options);

// The command, its environment and user, and where it starts: AWF's default is its HOME (a
// missing directory falls back to "/").
sandbox::SandboxSpec command_spec(const Options& options, const CommandUser& user,
                                  std::vector<std::string> env);

// What the command sees of the host: its HOME view, the workspace, the -v mounts and
// --session-state-dir, `files` provided by awf, and `own_dirs` (awf's directories for this
// run) hidden wherever they appear. Throws UsageError for an unusable --session-state-dir.
sandbox::MountPlan plan_mounts(const Options& options, const CommandUser& user,
                               std::vector<sandbox::ProvidedFile> files,
                               const std::vector<std::string>& own_dirs);

// The listeners besides the proxy's: --enable-host-access ports, the API proxy's, the peers'.
void plan_listeners(const Options& options, const std::vector<std::uint16_t>& api_ports,
                    const std::vector<peers::Peer>& peers, sandbox::SandboxSpec& spec);

// The sandbox's view for --diagnostic-logs, one mount decision per line.
std::string describe_mounts(const sandbox::MountPlan& plan);

}  // namespace awf::cli
