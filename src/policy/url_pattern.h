// --allow-urls (with --ssl-bump): URL patterns that decide each request inside an intercepted
// TLS session, and the canonical form of a request path they are matched against. Pure logic.
//
// Grammar (AWF's): `https://HOST/PATH`, comma-separated on the command line. HOST is a name,
// an IP literal or a wildcard name as in --allow-domains (`*` never crosses '/'); PATH starts
// with '/' and `*` in it matches anything. A pattern matches the whole URL (anchored).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace awf::policy {

struct UrlPattern {
  std::string text;  // as written (trimmed)
  std::string host;  // normalized name, wildcard pattern (`*.example.com`) or IP text
  std::string path;  // glob, starts with '/'
};

// Throws PolicyError quoting the pattern: no `https://`, no path, `https://*`, `https://*.*`,
// a host of wildcards alone or over a public suffix, or an invalid name.
UrlPattern parse_url_pattern(std::string_view text);

// Splits comma-separated values and parses every pattern (empty items are skipped).
std::vector<UrlPattern> parse_url_patterns(const std::vector<std::string>& values);

// The path (and query) awf decides on and forwards, so the origin gets exactly what was
// checked: `%2e` decoded to '.', repeated '/' collapsed, '.' and '..' segments removed (never
// above the root). nullopt for a target awf refuses outright: not origin-form, a backslash,
// an encoded '/' or '\' (%2f, %5c), a '#', or a control or non-ASCII byte.
std::optional<std::string> canonical_request_path(std::string_view target);

// `host`: a normalized name or IP text; `path`: a canonical_request_path result.
bool url_pattern_matches(const UrlPattern& pattern, std::string_view host, std::string_view path);

// Whether any pattern's host matches `host`: such names are intercepted, the others spliced.
bool url_patterns_mention(const std::vector<UrlPattern>& patterns, std::string_view host);

}  // namespace awf::policy
