// The string patterns of AWF's config schema, as small hand-written scanners: they see
// untrusted text, so no backtracking regex engine.
#include <string_view>

#include "cli/awf_config_schema.h"

namespace awf::cli::schema {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}
bool is_alpha(char c) {
  return is_lower(c) || (c >= 'A' && c <= 'Z');
}
bool is_alnum(char c) {
  return is_alpha(c) || is_digit(c);
}
bool is_lower_alnum(char c) {
  return is_lower(c) || is_digit(c);
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

template <typename Pred>
bool all_of(std::string_view text, Pred pred) {
  for (const char c : text) {
    if (!pred(c)) return false;
  }
  return true;
}

bool digits(std::string_view text, std::size_t min, std::size_t max) {
  return text.size() >= min && text.size() <= max && all_of(text, is_digit);
}

// [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?
bool is_host_label(std::string_view label) {
  return !label.empty() && is_alnum(label.front()) && is_alnum(label.back()) &&
         all_of(label, [](char c) { return is_alnum(c) || c == '-'; });
}

// A registry: a dotted host name with an optional port, NAME:PORT, or localhost.
bool is_registry(std::string_view text) {
  if (text == "localhost") return true;
  std::string_view host = text;
  const std::size_t colon = text.find(':');
  if (colon != std::string_view::npos) {
    host = text.substr(0, colon);
    if (!digits(text.substr(colon + 1), 1, 5)) return false;
  }
  std::size_t labels = 0;
  while (true) {
    const std::size_t dot = host.find('.');
    if (!is_host_label(host.substr(0, dot))) return false;
    ++labels;
    if (dot == std::string_view::npos) break;
    host.remove_prefix(dot + 1);
  }
  return labels >= 2 || colon != std::string_view::npos;
}

// [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*: separators sit between alphanumerics ("-" may repeat).
bool is_path_component(std::string_view text) {
  if (text.empty() || !is_lower_alnum(text.front()) || !is_lower_alnum(text.back())) {
    return false;
  }
  for (std::size_t i = 1; i + 1 < text.size(); ++i) {
    const char c = text[i];
    if (is_lower_alnum(c)) continue;
    const char before = text[i - 1];
    if (c == '-' && (is_lower_alnum(before) || before == '-')) continue;
    if (!is_lower_alnum(before)) return false;
    if (c == '.' && is_lower_alnum(text[i + 1])) continue;
    if (c == '_' && is_lower_alnum(text[i + 1])) continue;
    if (c == '_' && text[i + 1] == '_' && i + 2 < text.size() && is_lower_alnum(text[i + 2])) {
      ++i;
      continue;
    }
    return false;
  }
  return true;
}

bool is_image_tag(std::string_view text) {
  return !text.empty() && text.size() <= 128 && (is_alnum(text.front()) || text.front() == '_') &&
         all_of(text, [](char c) { return is_alnum(c) || c == '_' || c == '.' || c == '-'; });
}

bool is_owner(std::string_view text, bool lower) {
  const auto ok = [lower](char c) { return lower ? is_lower_alnum(c) : is_alnum(c); };
  return !text.empty() && text.size() <= 39 && ok(text.front()) &&
         all_of(text, [&](char c) { return ok(c) || c == '-'; });
}

bool is_slug(std::string_view text, bool lower) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos || !is_owner(text.substr(0, slash), lower)) return false;
  const std::string_view name = text.substr(slash + 1);
  const auto ok = [lower](char c) {
    return (lower ? is_lower_alnum(c) : is_alnum(c)) || c == '.' || c == '_' || c == '-';
  };
  return !name.empty() && name.size() <= 100 && all_of(name, ok) && name != "." &&
         name.find("..") == std::string_view::npos;
}

bool is_octet(std::string_view text) {
  if (!digits(text, 1, 3) || (text.size() > 1 && text.front() == '0')) return false;
  int value = 0;
  for (const char c : text) value = value * 10 + (c - '0');
  return value <= 255;
}

}  // namespace

bool is_digest_pinned_image(std::string_view text) {
  const std::size_t at = text.find("@sha256:");
  if (at == std::string_view::npos) return false;
  const std::string_view digest = text.substr(at + 8);
  if (digest.size() != 64 ||
      !all_of(digest, [](char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); })) {
    return false;
  }
  const std::string_view reference = text.substr(0, at);
  const std::size_t slash = reference.find('/');
  const std::size_t colon = reference.rfind(':');
  if (slash == std::string_view::npos || colon == std::string_view::npos || colon < slash) {
    return false;
  }
  if (!is_registry(reference.substr(0, slash)) || !is_image_tag(reference.substr(colon + 1))) {
    return false;
  }
  std::string_view path = reference.substr(slash + 1, colon - slash - 1);
  while (true) {
    const std::size_t next = path.find('/');
    if (!is_path_component(path.substr(0, next))) return false;
    if (next == std::string_view::npos) return true;
    path.remove_prefix(next + 1);
  }
}

bool is_sha256_hex(std::string_view text) {
  return text.size() == 64 && all_of(text, is_hex);
}

bool is_mount_shape(std::string_view text) {
  const std::size_t first = text.find(':');
  if (first == std::string_view::npos || first < 2 || text.front() != '/') return false;
  const std::string_view rest = text.substr(first + 1);
  const std::size_t second = rest.find(':');
  const std::string_view target = rest.substr(0, second);
  if (target.size() < 2 || target.front() != '/') return false;
  if (second == std::string_view::npos) return true;
  const std::string_view mode = rest.substr(second + 1);
  return mode == "ro" || mode == "rw";
}

bool is_allow_write_path(std::string_view text) {
  if (text.empty() || text.front() != '/') return false;
  if (text.find_first_of("*?[]{}") != std::string_view::npos) return false;
  for (std::size_t at = text.find("/.."); at != std::string_view::npos;
       at = text.find("/..", at + 1)) {
    if (at + 3 == text.size() || text[at + 3] == '/') return false;
  }
  return true;
}

bool is_subnet_cidr(std::string_view text) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos || !digits(text.substr(slash + 1), 2, 2)) return false;
  const int prefix = (text[slash + 1] - '0') * 10 + (text[slash + 2] - '0');
  if (prefix < 16 || prefix > 26) return false;
  std::string_view address = text.substr(0, slash);
  for (int i = 0; i < 4; ++i) {
    const std::size_t dot = address.find('.');
    if ((i < 3) != (dot != std::string_view::npos) || !is_octet(address.substr(0, dot))) {
      return false;
    }
    address.remove_prefix(dot == std::string_view::npos ? address.size() : dot + 1);
  }
  return true;
}

bool is_release_tag(std::string_view text) {
  if (text.empty() || text.front() != 'v') return false;
  text.remove_prefix(1);
  for (int i = 0; i < 3; ++i) {
    std::size_t n = 0;
    while (n < text.size() && is_digit(text[n])) ++n;
    if (n == 0) return false;
    text.remove_prefix(n);
    if (i < 2) {
      if (text.empty() || text.front() != '.') return false;
      text.remove_prefix(1);
    }
  }
  if (text.empty()) return true;
  return (text.front() == '-' || text.front() == '+') && text.size() > 1 &&
         all_of(text.substr(1), [](char c) { return is_alnum(c) || c == '.' || c == '-'; });
}

bool is_size_limit(std::string_view text) {
  return text.size() >= 2 && text.front() >= '1' && text.front() <= '9' &&
         all_of(text.substr(0, text.size() - 1), is_digit) &&
         std::string_view("bkmgBKMG").find(text.back()) != std::string_view::npos;
}

bool is_cpu_limit(std::string_view text) {
  const std::size_t dot = text.find('.');
  if (!digits(text.substr(0, dot), 1, 2)) return false;
  return dot == std::string_view::npos || digits(text.substr(dot + 1), 1, 3);
}

bool is_repo_slug(std::string_view text) {
  return is_slug(text, false);
}
bool is_lower_repo_slug(std::string_view text) {
  return is_slug(text, true);
}
bool is_lower_owner(std::string_view text) {
  return is_owner(text, true);
}

bool is_enclave_model(std::string_view text) {
  return !text.empty() && text.size() <= 200 && is_alnum(text.front()) && all_of(text, [](char c) {
    return is_alnum(c) || std::string_view("._:@/-").find(c) != std::string_view::npos;
  });
}

bool is_audit_label(std::string_view text) {
  return !text.empty() && text.size() <= 128 && is_alnum(text.front()) && all_of(text, [](char c) {
    return is_alnum(c) || std::string_view("_.:-").find(c) != std::string_view::npos;
  });
}

bool is_timestamp(std::string_view text) {
  // YYYY-MM-DDTHH:MM:SS
  constexpr std::string_view kShape = "0000-00-00T00:00:00";
  if (text.size() < kShape.size() + 1) return false;
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    if (kShape[i] == '0' ? !is_digit(text[i]) : text[i] != kShape[i]) return false;
  }
  text.remove_prefix(kShape.size());
  if (text.front() == '.') {
    std::size_t n = 1;
    while (n < text.size() && is_digit(text[n])) ++n;
    if (n == 1) return false;
    text.remove_prefix(n);
  }
  if (text == "Z") return true;
  return text.size() == 6 && (text[0] == '+' || text[0] == '-') && is_digit(text[1]) &&
         is_digit(text[2]) && text[3] == ':' && is_digit(text[4]) && is_digit(text[5]);
}

bool is_hosted_web_domain(std::string_view text) {
  std::size_t labels = 0;
  while (true) {
    const std::size_t dot = text.find('.');
    const std::string_view label = text.substr(0, dot);
    if (label.empty() || label.size() > 63 || !is_lower_alnum(label.front()) ||
        !is_lower_alnum(label.back()) ||
        !all_of(label, [](char c) { return is_lower_alnum(c) || c == '-'; })) {
      return false;
    }
    ++labels;
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
  }
  return labels >= 2;
}

bool is_token_log_dir(std::string_view text) {
  constexpr std::string_view kDir = "/var/log/api-proxy";
  return text.starts_with(kDir) && (text.size() == kDir.size() || text[kDir.size()] == '/');
}

bool is_env_name_shape(std::string_view text) {
  return !text.empty() && (is_alpha(text.front()) || text.front() == '_') &&
         all_of(text, [](char c) { return is_alnum(c) || c == '_'; });
}

}  // namespace awf::cli::schema
