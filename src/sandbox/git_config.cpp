#include "sandbox/git_config.h"

#include <cctype>
#include <optional>

namespace awf::sandbox {
namespace {

bool equals_lower(std::string_view text, std::string_view lower) {
  if (text.size() != lower.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != lower[i]) return false;
  }
  return true;
}

bool is_alpha(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) != 0;
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-';
}

// Where the userinfo ("user:secret@") of the URL whose "://" is at `scheme_end` ends (just
// past '@'), or npos when it has none that counts as a credential.
std::size_t credential_end(std::string_view text, std::size_t start, std::size_t scheme_end) {
  const std::size_t authority = scheme_end + 3;
  std::size_t end = authority;
  while (end < text.size() && text[end] != '/' && text[end] != '?' && text[end] != '#') ++end;
  const std::size_t at = text.substr(0, end).rfind('@');
  if (at == std::string_view::npos || at < authority) return std::string_view::npos;
  const std::string_view scheme = text.substr(start, scheme_end - start);
  const bool http = equals_lower(scheme, "http") || equals_lower(scheme, "https");
  const bool password = text.substr(authority, at - authority).find(':') != std::string_view::npos;
  return http || password ? at + 1 : std::string_view::npos;
}

// The scheme of a URL ending at `scheme_end` begins after the last non-scheme character.
std::size_t scheme_start(std::string_view text, std::size_t scheme_end) {
  std::size_t start = scheme_end;
  while (start > 0) {
    const char c = text[start - 1];
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '+' && c != '-' && c != '.') break;
    --start;
  }
  return start;
}

bool has_credential_url(std::string_view text) {
  for (std::size_t at = text.find("://"); at != std::string_view::npos;
       at = text.find("://", at + 3)) {
    if (credential_end(text, scheme_start(text, at), at) != std::string_view::npos) return true;
  }
  return false;
}

std::string without_credential_urls(std::string_view text) {
  std::string out;
  std::size_t copied = 0;
  for (std::size_t at = text.find("://"); at != std::string_view::npos;
       at = text.find("://", at + 3)) {
    const std::size_t end = credential_end(text, scheme_start(text, at), at);
    if (end == std::string_view::npos) continue;
    out.append(text.substr(copied, at + 3 - copied));
    copied = end;
    at = end - 3;  // the next search starts after the removed userinfo
  }
  out.append(text.substr(copied));
  return out;
}

std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      default: out += c;
    }
  }
  return out + "\"";
}

// A subsection knows only two escapes ("\\" and "\""; "\t" would read back as "t").
std::string quoted_subsection(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out + "\"";
}

// git's config syntax (config.c): sections "[name]", "[name \"sub\"]" or "[name.sub]",
// variables "name", "name = value" (a variable may follow its header on the same line),
// comments after '#' or ';', values with quotes, escapes and backslash-newline continuations.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  FilteredGitConfig run() {
    FilteredGitConfig result;
    while (true) {
      skip_blank();
      if (at_end()) {
        result.complete = true;
        break;
      }
      const std::optional<char> c = peek();
      if (!c) break;
      if (*c == '\n') {
        advance();
      } else if (*c == '#' || *c == ';') {
        skip_line();
      } else if (*c == '[') {
        if (!section(result.text)) break;
      } else if (is_alpha(*c)) {
        if (!variable(result.text)) break;
      } else {
        break;
      }
    }
    return result;
  }

 private:
  bool at_end() const { return pos_ >= text_.size(); }

  // The next character, with "\r\n" read as '\n' (as git does); '\0' ends the input.
  std::optional<char> peek() const {
    if (at_end() || text_[pos_] == '\0') return std::nullopt;
    if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') return '\n';
    return text_[pos_];
  }

  void advance() {
    if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') ++pos_;
    ++pos_;
  }

  void skip_blank() {
    while (!at_end() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }

  void skip_line() {
    while (!at_end() && text_[pos_] != '\n') ++pos_;
  }

  bool section(std::string& out) {
    ++pos_;  // '['
    std::string name;
    while (!at_end() && (is_name_char(text_[pos_]) || text_[pos_] == '.')) name += text_[pos_++];
    if (name.empty()) return false;
    std::optional<std::string> sub;
    if (!at_end() && (text_[pos_] == ' ' || text_[pos_] == '\t')) {
      skip_blank();
      if (at_end() || text_[pos_] != '"') return false;
      ++pos_;
      sub.emplace();
      while (true) {
        const std::optional<char> c = peek();
        if (!c || *c == '\n') return false;
        advance();
        if (*c == '"') break;
        if (*c == '\\') {
          const std::optional<char> escaped = peek();
          if (!escaped || *escaped == '\n') return false;
          advance();
          *sub += *escaped;
        } else {
          *sub += *c;
        }
      }
    }
    if (at_end() || text_[pos_] != ']') return false;
    ++pos_;
    const std::size_t dot = name.find('.');
    const std::string_view base = std::string_view(name).substr(0, dot);
    const std::string old_style_sub = dot == std::string::npos ? "" : name.substr(dot + 1);
    if (sub && dot != std::string::npos) return false;  // "[a.b \"c\"]" is not git's syntax
    drop_section_ = equals_lower(base, "credential") ||
                    has_credential_url(sub ? *sub : old_style_sub);
    http_ = equals_lower(base, "http");
    if (!drop_section_) {
      out += "[" + name;
      if (sub) out += " " + quoted_subsection(*sub);
      out += "]\n";
    }
    in_section_ = true;
    return true;
  }

  bool variable(std::string& out) {
    std::string name;
    while (!at_end() && is_name_char(text_[pos_])) name += text_[pos_++];
    skip_blank();
    std::optional<std::string> value;
    const std::optional<char> c = peek();
    if (c && *c == '=') {
      advance();
      value = std::string();
      if (!read_value(*value)) return false;
    } else if (c && *c != '\n' && *c != '#' && *c != ';') {
      return false;
    } else if (c && *c != '\n') {
      skip_line();
    }
    if (!in_section_) return false;  // git refuses a variable before any section
    if (drop_section_ || (http_ && equals_lower(name, "extraheader"))) return true;
    out += "\t" + name;
    if (value) out += " = " + quoted(without_credential_urls(*value));
    out += "\n";
    return true;
  }

  // git's parse_value: leading blanks skipped, trailing ones dropped, inner ones kept.
  bool read_value(std::string& value) {
    skip_blank();
    bool quote = false;
    std::size_t kept = 0;  // length without trailing unquoted blanks
    while (true) {
      const std::optional<char> c = peek();
      if (!c) {
        if (quote) return false;
        break;
      }
      if (*c == '\n') {
        if (quote) return false;
        break;
      }
      advance();
      if (!quote && (*c == ';' || *c == '#')) {
        skip_line();
        break;
      }
      if (*c == '"') {
        quote = !quote;
        kept = value.size();
        continue;
      }
      if (*c == '\\') {
        const std::optional<char> escaped = peek();
        if (!escaped) return false;
        advance();
        switch (*escaped) {
          case '\n': continue;
          case 't': value += '\t'; break;
          case 'b': value += '\b'; break;
          case 'n': value += '\n'; break;
          case '\\': value += '\\'; break;
          case '"': value += '"'; break;
          default: return false;
        }
        kept = value.size();
        continue;
      }
      // Unquoted inner blanks read as spaces, as git's parser gives them.
      const bool blank = !quote && (*c == ' ' || *c == '\t');
      value += blank ? ' ' : *c;
      if (!blank) kept = value.size();
    }
    value.resize(kept);
    return true;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  bool in_section_ = false;
  bool drop_section_ = false;
  bool http_ = false;
};

}  // namespace

FilteredGitConfig strip_git_credentials(std::string_view text) {
  return Parser(text).run();
}

}  // namespace awf::sandbox
