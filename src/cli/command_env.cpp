#include "cli/command_env.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string_view>

#include "cli/run_policy.h"
#include "common/error.h"
#include "sandbox/listeners.h"

extern "C" char** environ;

namespace awf::cli {
namespace {

// Secrets are left out here already (build_environment would drop them): no copy of a token
// lingers in awf's heap, which the sandbox's init inherits.
std::vector<EnvEntry> host_environment() {
  std::vector<EnvEntry> entries;
  const auto& secrets = secret_env_names();
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string_view text = *entry;
    const auto eq = text.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    const std::string_view name = text.substr(0, eq);
    if (std::find(secrets.begin(), secrets.end(), name) != secrets.end()) continue;
    entries.emplace_back(std::string(name), std::string(text.substr(eq + 1)));
  }
  return entries;
}

// What the command reaches without the explicit proxy, as AWF lists it: the sandbox's own
// loopback, awf's API proxy (by its AWF name), and the topology peers.
std::string no_proxy_list(const Options& options) {
  std::string list = "localhost,127.0.0.1,::1,0.0.0.0,api-proxy";
  for (const std::string& peer : options.topology_attach) list += "," + peer;
  return list;
}

// The proxy for tools that honour it (the rest are caught transparently).
std::vector<EnvEntry> proxy_environment(const Options& options, const std::string& java_options) {
  const std::string port = std::to_string(sandbox::kExplicitProxyPort);
  const std::string proxy = "http://127.0.0.1:" + port;
  return {
      // As AWF: no lower-case http_proxy. curl reads only that one for http:// URLs
      // (httpoxy), so its plain HTTP takes the transparent path, which decides the same way.
      {"HTTP_PROXY", proxy},
      {"HTTPS_PROXY", proxy},
      {"https_proxy", proxy},
      {"NO_PROXY", no_proxy_list(options)},
      {"no_proxy", no_proxy_list(options)},
      // JVMs ignore HTTP_PROXY.
      {"JAVA_TOOL_OPTIONS", "-Dhttp.proxyHost=127.0.0.1 -Dhttp.proxyPort=" + port +
                                " -Dhttps.proxyHost=127.0.0.1 -Dhttps.proxyPort=" + port +
                                java_options},
  };
}

// awf's own variables for the command: the proxy, identity, locale, and colour according to
// --tty.
std::vector<EnvEntry> builtin_environment(const Options& options, const sandbox::Identity& identity,
                                          const std::string& java_options) {
  const char* path = std::getenv("PATH");
  std::vector<EnvEntry> env = {
      {"PATH", path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"HOME", identity.home},
  };
  for (EnvEntry& entry : proxy_environment(options, java_options)) env.push_back(std::move(entry));
  if (!identity.name.empty()) {
    env.emplace_back("USER", identity.name);
    env.emplace_back("LOGNAME", identity.name);
  }
  for (const char* name : {"TERM", "LANG", "LC_ALL", "TZ", "COLORTERM"}) {
    if (const char* value = std::getenv(name)) env.emplace_back(name, value);
  }
  if (const char* server = std::getenv("GITHUB_SERVER_URL")) {
    if (const std::string host = gh_host_from_server_url(server); !host.empty()) {
      env.emplace_back("GH_HOST", host);
    }
  }
  if (options.tty) {
    env.emplace_back("FORCE_COLOR", "1");
    env.emplace_back("TERM", "xterm-256color");
  } else {
    env.emplace_back("NO_COLOR", "1");
  }
  return env;
}

std::vector<EnvEntry> env_file_entries(const Options& options) {
  std::vector<EnvEntry> entries;
  for (const std::string& path : options.env_files) {
    try {
      for (EnvEntry& entry : parse_env_file(read_input_file(path, "--env-file"))) {
        entries.push_back(std::move(entry));
      }
    } catch (const std::invalid_argument& error) {
      throw UsageError("--env-file '" + path + "': " + error.what());
    }
  }
  return entries;
}

void report_left_out(const Options& options, const BuiltEnvironment& built) {
  if (options.log_level <= LogLevel::Warn) {
    for (const std::string& name : built.withheld) {
      std::fprintf(stderr, "awf: warning: %s is not passed to the command (%s)\n", name.c_str(),
                   std::find(options.exclude_env.begin(), options.exclude_env.end(), name) !=
                           options.exclude_env.end()
                       ? "--exclude-env"
                       : "secrets never enter the sandbox");
    }
  }
  if (options.log_level <= LogLevel::Info) {
    for (const std::string& name : built.oversized) {
      std::fprintf(stderr, "awf: %s is not passed by --env-all (value over 64 KiB)\n",
                   name.c_str());
    }
  }
}

}  // namespace

std::vector<std::string> command_environment(const Options& options,
                                             const sandbox::Identity& identity,
                                             std::vector<EnvEntry> overrides,
                                             const std::string& java_options) {
  EnvLayers layers;
  layers.overrides = std::move(overrides);
  layers.builtins = builtin_environment(options, identity, java_options);
  if (options.env_all) layers.host = host_environment();
  layers.file = env_file_entries(options);
  layers.explicit_entries = options.env;
  layers.excluded = options.exclude_env;
  BuiltEnvironment built = build_environment(layers);
  report_left_out(options, built);
  return std::move(built.env);
}

}  // namespace awf::cli
