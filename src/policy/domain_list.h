// Reading allow/block entries from flag values and files. Pure: callers read the file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace awf::policy {

// Splits a `--allow-domains a, b,c` value on commas and trims each entry (spaces and tabs).
// Empty entries are kept (as "") so that validation can reject them with a clear message.
std::vector<std::string> split_domain_list(std::string_view value);

// Parses the contents of an --allow-domains-file/--block-domains-file: one entry per line or
// comma-separated; `#` starts a comment to the end of the line; blank lines are skipped;
// empty entries between commas are kept as "" (rejected later).
std::vector<std::string> parse_domain_file(std::string_view content);

// Normalizes a requested host name for matching and logging: lowercase, one trailing dot
// removed, IDN labels converted to punycode (libidn2). Returns "" for a name that is not a
// valid host name (empty label, bad characters, longer than 253 bytes, ...).
std::string normalize_host(std::string_view host);

}  // namespace awf::policy
