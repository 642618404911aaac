#include "policy/credential_scan.h"

#include <algorithm>
#include <string>

namespace awf::policy {
namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool is_token_char(char c) {
  return is_alnum(c) || c == '_' || c == '-';
}

bool is_upper_or_digit(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

bool starts_with_nocase(std::string_view text, std::size_t at, std::string_view prefix) {
  if (text.size() - at < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (lower(text[at + i]) != prefix[i]) return false;
  }
  return true;
}

// Characters of class `accept` that follow `at`.
template <typename Accept>
std::size_t run_length(std::string_view text, std::size_t at, Accept accept) {
  std::size_t n = 0;
  while (at + n < text.size() && accept(text[at + n])) ++n;
  return n;
}

struct Shape {
  std::string_view prefix;  // case-sensitive
  std::size_t min_body;     // characters after the prefix
  bool (*body)(char);
  std::string_view kind;
};

// Longer prefixes first where one extends another (sk-ant- before sk-).
constexpr Shape kShapes[] = {
    {"github_pat_", 22, is_token_char, "GitHub token"},
    {"ghp_", 20, is_alnum, "GitHub token"},
    {"gho_", 20, is_alnum, "GitHub token"},
    {"ghs_", 20, is_alnum, "GitHub token"},
    {"ghu_", 20, is_alnum, "GitHub token"},
    {"sk-ant-", 20, is_token_char, "Anthropic API key"},
    {"sk-proj-", 20, is_token_char, "OpenAI API key"},
    {"sk-", 20, is_token_char, "OpenAI API key"},
    {"AKIA", 16, is_upper_or_digit, "AWS access key id"},
    {"AIza", 35, is_token_char, "Google API key"},
    {"xoxb-", 10, is_token_char, "Slack token"},
    {"xoxp-", 10, is_token_char, "Slack token"},
};

std::optional<std::string_view> scan(std::string_view text) {
  for (std::size_t at = 0; at < text.size(); ++at) {
    // Query parameters that carry credentials by name.
    if (text[at] == '?' || text[at] == '&' || text[at] == ';') {
      for (std::string_view name : {"bearer=", "authorization=", "access_token="}) {
        if (starts_with_nocase(text, at + 1, name) && at + 1 + name.size() < text.size()) {
          return "credential query parameter";
        }
      }
    }
    // A token starts a word: "desk-..." does not hold "sk-".
    if (at > 0 && is_alnum(text[at - 1])) continue;
    for (const Shape& shape : kShapes) {
      if (text.compare(at, shape.prefix.size(), shape.prefix) != 0) continue;
      if (run_length(text, at + shape.prefix.size(), shape.body) >= shape.min_body) {
        return shape.kind;
      }
    }
  }
  for (std::size_t at = 0; at + 11 <= text.size(); ++at) {
    if (starts_with_nocase(text, at, "private key") ||
        starts_with_nocase(text, at, "private+key")) {
      return "private key";
    }
  }
  return std::nullopt;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Percent-decoding, applied until nothing changes (bounded): `%2573` is `%73` is `s`.
std::string decode(std::string_view text) {
  std::string out(text);
  for (int round = 0; round < 3; ++round) {
    std::string next;
    next.reserve(out.size());
    for (std::size_t i = 0; i < out.size(); ++i) {
      if (out[i] == '%' && i + 2 < out.size()) {
        const int high = hex_value(out[i + 1]);
        const int low = hex_value(out[i + 2]);
        if (high >= 0 && low >= 0) {
          next.push_back(static_cast<char>(high * 16 + low));
          i += 2;
          continue;
        }
      }
      next.push_back(out[i]);
    }
    if (next == out) break;
    out = std::move(next);
  }
  return out;
}

}  // namespace

std::optional<std::string_view> find_credential(std::string_view text) {
  if (auto kind = scan(text)) return kind;
  if (text.find('%') == std::string_view::npos) return std::nullopt;
  return scan(decode(text));
}

std::string redact_credentials(std::string_view url) {
  constexpr std::string_view kRedacted = "<redacted>";
  std::string out;
  std::string_view rest = url;
  if (const std::size_t scheme = rest.find("://"); scheme != std::string_view::npos) {
    out.append(rest.substr(0, scheme + 3));
    rest.remove_prefix(scheme + 3);
  }
  const std::size_t authority_end = std::min(rest.find_first_of("/?#"), rest.size());
  const std::string_view authority = rest.substr(0, authority_end);
  rest.remove_prefix(authority_end);
  const std::size_t path_end = std::min(rest.find_first_of("?#"), rest.size());
  const std::string_view path = rest.substr(0, path_end);
  const std::string_view tail = rest.substr(path_end);

  if (find_credential(authority)) {
    out.append(kRedacted);
    // Keep a trailing ":port" (digits only), which cannot hold a credential.
    const std::size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos && colon + 1 < authority.size() &&
        authority.find_first_not_of("0123456789", colon + 1) == std::string_view::npos &&
        authority.back() != ']') {
      out.append(authority.substr(colon));
    }
  } else {
    out.append(authority);
  }
  const bool path_holds = find_credential(path).has_value();
  // A string spread over the path and the query is caught as a whole only.
  const bool spread = !path_holds && !find_credential(authority) && !find_credential(tail) &&
                      find_credential(url).has_value();
  if (!path.empty() && (path_holds || spread)) {
    out.append("/");
    out.append(kRedacted);
  } else {
    out.append(path);
  }
  if (!tail.empty()) {
    out.push_back(tail.front());
    out.append(kRedacted);
  }
  return out;
}

}  // namespace awf::policy
