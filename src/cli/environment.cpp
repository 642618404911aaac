#include "cli/environment.h"

#include <algorithm>
#include <stdexcept>
#include <unordered_map>

namespace awf::cli {
namespace {

bool is_name_start(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

bool is_name_char(char c) {
  return is_name_start(c) || (c >= '0' && c <= '9');
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return (x | 0x20) == (y | 0x20); });
}

bool is_proxy_variable(std::string_view name) {
  for (const char* proxy : {"http_proxy", "https_proxy", "all_proxy", "no_proxy", "ftp_proxy"}) {
    if (equals_ignoring_case(name, proxy)) return true;
  }
  return false;
}

}  // namespace

const std::vector<std::string_view>& secret_env_names() {
  static const std::vector<std::string_view> names = {
      "GITHUB_TOKEN",
      "GH_TOKEN",
      "GITHUB_PERSONAL_ACCESS_TOKEN",
      "GITHUB_API_TOKEN",
      "GITHUB_PAT",
      "GH_ACCESS_TOKEN",
      "COPILOT_GITHUB_TOKEN",
      "COPILOT_PROVIDER_API_KEY",
      "OPENAI_API_KEY",
      "OPENAI_KEY",
      "CODEX_API_KEY",
      "ANTHROPIC_API_KEY",
      "ANTHROPIC_AUTH_TOKEN",
      "CLAUDE_API_KEY",
      "CLAUDE_CODE_OAUTH_TOKEN",
      "GEMINI_API_KEY",
      "GOOGLE_API_KEY",
      "ACTIONS_RUNTIME_TOKEN",
      "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
      "ACTIONS_ID_TOKEN_REQUEST_URL",
  };
  return names;
}

bool is_valid_env_name(std::string_view name) {
  if (name.empty() || !is_name_start(name.front())) return false;
  return std::all_of(name.begin(), name.end(), is_name_char);
}

EnvEntry parse_env_assignment(std::string_view text) {
  const auto eq = text.find('=');
  if (eq == std::string_view::npos) {
    throw std::invalid_argument("'" + std::string(text) + "' is not KEY=VALUE");
  }
  const std::string_view name = text.substr(0, eq);
  if (!is_valid_env_name(name)) {
    throw std::invalid_argument("'" + std::string(text) + "': '" + std::string(name) +
                                "' is not a valid variable name");
  }
  return {std::string(name), std::string(text.substr(eq + 1))};
}

std::vector<EnvEntry> parse_env_file(std::string_view text) {
  std::vector<EnvEntry> entries;
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const auto newline = text.find('\n');
    std::string_view line = text.substr(0, newline);
    text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string_view content = trim(line);
    if (content.empty() || content.front() == '#') continue;
    std::string_view assignment = line.substr(line.find_first_not_of(" \t"));
    if (assignment.starts_with("export ")) assignment = trim(assignment.substr(7));
    try {
      entries.push_back(parse_env_assignment(assignment));
    } catch (const std::invalid_argument& error) {
      throw std::invalid_argument("line " + std::to_string(line_number) + ": " + error.what());
    }
  }
  return entries;
}

std::string gh_host_from_server_url(std::string_view url) {
  url = trim(url);
  if (const auto scheme = url.find("://"); scheme != std::string_view::npos) {
    url.remove_prefix(scheme + 3);
  }
  url = url.substr(0, url.find('/'));
  if (const auto at = url.rfind('@'); at != std::string_view::npos) url.remove_prefix(at + 1);
  url = url.substr(0, url.find(':'));
  std::string host(url);
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  while (!host.empty() && host.back() == '.') host.pop_back();
  if (host.empty() || host == "github.com") return "";
  return host;
}

bool is_host_only_env(std::string_view name) {
  static constexpr std::string_view kExact[] = {
      "HOME",
      "USER",
      "LOGNAME",
      "SHELL",
      "PWD",
      "OLDPWD",
      "SHLVL",
      "_",
      "MAIL",
      "SSH_AUTH_SOCK",
      "SSH_AGENT_PID",
      "SSH_CONNECTION",
      "SSH_CLIENT",
      "SSH_TTY",
      "DOCKER_HOST",
      "DISPLAY",
      "WAYLAND_DISPLAY",
      "XAUTHORITY",
      "XDG_RUNTIME_DIR",
      "DBUS_SESSION_BUS_ADDRESS",
      "DBUS_SYSTEM_BUS_ADDRESS",
      "GPG_AGENT_INFO",
      "KRB5CCNAME",
      "AWF_LOGS_DIR",
  };
  if (std::find(std::begin(kExact), std::end(kExact), name) != std::end(kExact)) return true;
  return name.starts_with("SUDO_") || is_proxy_variable(name);
}

BuiltEnvironment build_environment(const EnvLayers& layers) {
  BuiltEnvironment built;
  const auto withheld = [&](const std::string& name) {
    const auto& secrets = secret_env_names();
    return std::find(secrets.begin(), secrets.end(), name) != secrets.end() ||
           std::find(layers.excluded.begin(), layers.excluded.end(), name) != layers.excluded.end();
  };
  std::vector<std::string> order;
  std::unordered_map<std::string, std::string> values;
  const auto set = [&](const EnvEntry& entry) {
    if (values.insert_or_assign(entry.first, entry.second).second) order.push_back(entry.first);
  };
  for (const EnvEntry& entry : layers.builtins) set(entry);
  for (const EnvEntry& entry : layers.host) {
    if (withheld(entry.first) || is_host_only_env(entry.first)) continue;
    if (entry.second.size() > kMaxInheritedValue) {
      built.oversized.push_back(entry.first);
      continue;
    }
    set(entry);
  }
  for (const auto* layer : {&layers.file, &layers.explicit_entries}) {
    for (const EnvEntry& entry : *layer) {
      if (withheld(entry.first)) {
        if (std::find(built.withheld.begin(), built.withheld.end(), entry.first) ==
            built.withheld.end()) {
          built.withheld.push_back(entry.first);
        }
        continue;
      }
      set(entry);
    }
  }
  std::vector<std::string> overridden;
  for (const EnvEntry& entry : layers.overrides) {
    if (std::find(overridden.begin(), overridden.end(), entry.first) == overridden.end()) {
      overridden.push_back(entry.first);
    }
  }
  const auto is_overridden = [&](const std::string& name) {
    return std::find(overridden.begin(), overridden.end(), name) != overridden.end();
  };
  built.env.reserve(order.size() + overridden.size());
  for (const std::string& name : order) {
    // A built-in never is withheld, but a rule must hold everywhere.
    if (withheld(name) || is_overridden(name)) continue;
    built.env.push_back(name + "=" + values[name]);
  }
  for (const std::string& name : overridden) {
    const auto last = std::find_if(layers.overrides.rbegin(), layers.overrides.rend(),
                                   [&](const EnvEntry& entry) { return entry.first == name; });
    built.env.push_back(name + "=" + last->second);
  }
  return built;
}

}  // namespace awf::cli
