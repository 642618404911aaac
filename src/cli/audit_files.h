// The run's self-description for --audit-dir (and the log directory): the policy manifest,
// which `awf logs audit` uses to name the rule behind each record, and the resolved
// configuration with secret values redacted. Pure: JSON text from values.
#pragma once

#include <string>
#include <string_view>

#include "cli/options.h"
#include "policy/policy.h"

namespace awf::cli {

// {"version":1,"default":"deny","rules":[{"id":1,"action":"allow","domain":"x",
// "subdomains":true}, ...]} in manifest order (docs/logs.md).
std::string policy_manifest_json(const policy::Policy& policy);

// Whether a variable's value must not be written down: awf's secret names, and names that
// say what they hold (TOKEN, SECRET, PASSWORD, KEY, AUTH, CREDENTIAL, ...).
bool looks_secret(std::string_view name);

// "http://user:pass@host:3128" -> "http://user:***@host:3128".
std::string redact_url(std::string_view url);

// Every option after parsing, as JSON: -e values of secret-looking names, userinfo passwords
// and the raw command line (which may hold either) are redacted.
std::string resolved_config_json(const Options& options);

}  // namespace awf::cli
