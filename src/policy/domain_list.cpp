#include "policy/domain_list.h"

#include "policy/address_class.h"
#include "policy/domain_pattern.h"

namespace awf::policy {
namespace {

void split_into(std::string_view value, std::vector<std::string>& out) {
  for (;;) {
    const std::size_t comma = value.find(',');
    out.emplace_back(detail::trim(value.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

}  // namespace

std::vector<std::string> split_domain_list(std::string_view value) {
  std::vector<std::string> out;
  split_into(value, out);
  return out;
}

std::vector<std::string> parse_domain_file(std::string_view content) {
  std::vector<std::string> out;
  while (!content.empty()) {
    const std::size_t newline = content.find('\n');
    std::string_view line = content.substr(0, newline);
    content.remove_prefix(newline == std::string_view::npos ? content.size() : newline + 1);
    const std::size_t hash = line.find('#');
    if (hash != std::string_view::npos) line = line.substr(0, hash);
    line = detail::trim(line);
    if (line.empty()) continue;
    split_into(line, out);
  }
  return out;
}

std::string normalize_host(std::string_view host) {
  detail::NameBuffer name;
  detail::IpBytes ip{};
  switch (detail::classify_host(host, name, ip)) {
    case detail::HostKind::kInvalid:
      return {};
    case detail::HostKind::kName:
      return std::string(name.view());
    case detail::HostKind::kIp:
      break;
  }
  // IPv6 literal (possibly v4-mapped) keeps its v6 spelling; a dotted quad stays IPv4.
  if (host.front() == '[' || host.find(':') != std::string_view::npos) {
    return canonical_ip_literal(host);
  }
  return detail::ip_to_string(ip);
}

}  // namespace awf::policy
