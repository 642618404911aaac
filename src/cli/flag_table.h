// awf's flag table: every flag of AWF v0.28 plus awf's own, in AWF's help groups, bound to
// plain text values (checked afterwards, so a bad value gets awf's message, not CLI11's).
// Internal to the command line (options.cpp, flag_docs.cpp).
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "proxy/api_provider.h"

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace awf::cli {

// AWF's default DNS-over-HTTPS resolver (--dns-over-https without a URL).
inline constexpr const char* kDefaultDohUrl = "https://dns.google/dns-query";

struct RawValues {
  std::vector<std::string> allow, block, allow_files, block_files, rulesets;
  std::vector<std::string> env, env_files, exclude_env, mounts, dns, topology;
  std::string container_workdir, work_dir, user, memory_limit, pids_limit, agent_timeout;
  std::string upstream_proxy, host_ports, host_service_ports, proxy_logs_dir, audit_dir, config;
  std::string dns_over_https, session_state_dir, container_runtime, security_mode;
  bool diagnostic_logs = false;
  std::string log_level = "info";
  std::string docker_host;
  bool enable_dlp = false, env_all = false, tty = false, keep = false, host_access = false;
  bool api_proxy = false, no_api_proxy = false, ssl_bump = false;
  std::array<std::string, proxy::kProviderCount> api_targets, api_base_paths;
  std::string api_ca_file;
  std::vector<std::string> allow_urls;
  std::string bump_ca_file;
  std::vector<std::string> allow_git_write, persist_home_dirs;
  std::vector<std::string> allow_unix_sockets;
  // Flags whose values are only checked and stored (issue 17), or that have no effect.
  std::string difc_host, difc_ca_cert, rate_rpm, rate_rph, rate_bytes_pm, model_multipliers;
  std::string multiplier_cap, max_permission_denied, max_cache_misses, cache_tail_ttl;
  std::string openai_auth_header, anthropic_auth_header, openai_base_url_env;
  bool no_rate_limit = false, token_steering = false, auto_cache = false, reflect = false;
  // Values nobody reads: the flags exist so that AWF's command lines parse.
  std::string ignored_value;
  bool ignored_switch = false;
};

// What a flag that awf does not act on says when given (one line each).
struct FlagNote {
  enum class Kind { NoEffect, NotYet };
  Kind kind;
  std::string_view why;
};

// Fills `app` with the whole table, in AWF's groups. Every single-value flag takes the last
// of several occurrences (AWF's behaviour); repeatable ones collect all.
void define_flags(CLI::App& app, RawValues& raw);

// The note for a flag that awf accepts without acting on it, or nullptr.
const FlagNote* flag_note(const CLI::Option& option);

// The flag's first long name with dashes ("--allow-domains").
std::string long_name(const CLI::Option& option);

}  // namespace awf::cli
