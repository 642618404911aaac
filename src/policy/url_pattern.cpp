#include "policy/url_pattern.h"

#include <algorithm>

#include "policy/domain_list.h"
#include "policy/domain_pattern.h"
#include "policy/policy.h"

namespace awf::policy {
namespace {

[[noreturn]] void fail(std::string_view pattern, const std::string& why) {
  throw PolicyError("--allow-urls " + detail::quote_entry(pattern) + ": " + why);
}

bool host_matches(const UrlPattern& pattern, std::string_view host) {
  return detail::glob_match(pattern.host, host);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

UrlPattern parse_url_pattern(std::string_view text) {
  const std::string_view written = detail::trim(text);
  constexpr std::string_view kScheme = "https://";
  std::string scheme(written.substr(0, std::min(written.size(), kScheme.size())));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (scheme != kScheme) fail(written, "a URL pattern starts with https://");
  const std::string_view rest = written.substr(kScheme.size());
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) {
    fail(written,
         "a URL pattern has a path (https://host/path; for a whole host use "
         "--allow-domains)");
  }
  const std::string_view host = rest.substr(0, slash);
  const std::string_view path = rest.substr(slash);
  if (host.empty()) fail(written, "no host");
  if (host.find(':') != std::string_view::npos && host.front() != '[') {
    fail(written, "ports are not supported (https:// means port 443)");
  }
  for (const unsigned char c : path) {
    if (c <= 0x20 || c >= 0x7f || c == '\\' || c == '#') {
      fail(written, "the path has a space, control, non-ASCII, '\\' or '#' character");
    }
  }
  detail::Entry entry;
  try {
    entry = detail::parse_entry(host, detail::ListKind::kAllow);
  } catch (const PolicyError& error) {
    fail(written, std::string("host: ") + error.what());
  }
  return UrlPattern{std::string(written), entry.name, std::string(path)};
}

std::vector<UrlPattern> parse_url_patterns(const std::vector<std::string>& values) {
  std::vector<UrlPattern> patterns;
  for (const std::string& value : values) {
    for (const std::string& item : split_domain_list(value)) {
      if (!item.empty()) patterns.push_back(parse_url_pattern(item));
    }
  }
  return patterns;
}

std::optional<std::string> canonical_request_path(std::string_view target) {
  if (!target.starts_with('/')) return std::nullopt;
  const auto question = target.find('?');
  const std::string_view raw_path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question);
  for (const unsigned char c : target) {
    if (c <= 0x20 || c >= 0x7f || c == '\\' || c == '#') return std::nullopt;
  }
  // Decode only what changes the path's structure: an encoded '.' becomes one (so "%2e%2e" is
  // a parent segment here as at the origin), an encoded separator is refused.
  std::string path;
  for (std::size_t i = 0; i < raw_path.size(); ++i) {
    if (raw_path[i] == '%' && i + 2 < raw_path.size()) {
      const int high = hex_value(raw_path[i + 1]);
      const int low = hex_value(raw_path[i + 2]);
      if (high >= 0 && low >= 0) {
        const char decoded = static_cast<char>(high * 16 + low);
        if (decoded == '/' || decoded == '\\') return std::nullopt;
        if (decoded == '.') {
          path += '.';
          i += 2;
          continue;
        }
      }
    }
    path += raw_path[i];
  }
  // Segments, with empty ones (repeated '/') dropped and dot segments resolved.
  std::vector<std::string_view> segments;
  std::size_t start = 1;
  const bool trailing_slash = path.size() > 1 && path.back() == '/';
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view segment = std::string_view(path).substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  std::string canonical;
  for (const std::string_view segment : segments) {
    canonical += '/';
    canonical += segment;
  }
  const std::string_view last = std::string_view(path).substr(path.find_last_of('/') + 1);
  if (canonical.empty() || trailing_slash || last == "." || last == "..") canonical += '/';
  canonical += query;
  return canonical;
}

bool url_pattern_matches(const UrlPattern& pattern, std::string_view host, std::string_view path) {
  return host_matches(pattern, host) && detail::glob_match(pattern.path, path);
}

bool url_patterns_mention(const std::vector<UrlPattern>& patterns, std::string_view host) {
  return std::any_of(patterns.begin(), patterns.end(),
                     [&](const UrlPattern& pattern) { return host_matches(pattern, host); });
}

}  // namespace awf::policy
