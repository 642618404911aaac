#include "proxy/upstream_proxy.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "proxy/http_head.h"

namespace awf::proxy {
namespace {

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string to_lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), lower);
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    const int high = hex_value(text[i + 1]);
    const int low = hex_value(text[i + 2]);
    if (high < 0 || low < 0) return std::nullopt;
    out += static_cast<char>(high * 16 + low);
    i += 2;
  }
  return out;
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 253 || name.front() == '.' || name.front() == '-') return false;
  if (name.find("..") != std::string_view::npos) return false;
  return std::all_of(name.begin(), name.end(), is_name_char);
}

bool is_v4(std::string_view text, in_addr* out = nullptr) {
  in_addr address{};
  const bool ok = inet_pton(AF_INET, std::string(text).c_str(), &address) == 1;
  if (ok && out) *out = address;
  return ok;
}

bool is_v6(std::string_view text, in6_addr* out = nullptr) {
  in6_addr address{};
  const bool ok = inet_pton(AF_INET6, std::string(text).c_str(), &address) == 1;
  if (ok && out) *out = address;
  return ok;
}

std::string base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                       static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i + 1 == bytes.size()) {
    const unsigned v = static_cast<unsigned char>(bytes[i]) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == bytes.size()) {
    const unsigned v = (static_cast<unsigned char>(bytes[i]) << 16) |
                       (static_cast<unsigned char>(bytes[i + 1]) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

bool prefix_matches(const std::uint8_t* address, const std::uint8_t* network, unsigned bits) {
  std::size_t i = 0;
  for (; bits >= 8; bits -= 8, ++i) {
    if (address[i] != network[i]) return false;
  }
  if (bits == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - bits));
  return (address[i] & mask) == (network[i] & mask);
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

}  // namespace

std::string ProxyUrl::authority() const {
  return http::format_authority(host, port);
}

std::string ProxyUrl::redacted() const {
  std::string out = "http://";
  if (has_userinfo) out += user + ":***@";
  return out + authority();
}

std::string ProxyUrl::authorization() const {
  if (!has_userinfo) return "";
  return "Basic " + base64(user + ":" + password);
}

ProxyUrl parse_proxy_url(std::string_view url) {
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) {
    throw std::invalid_argument("expected http://[user:password@]host[:port]");
  }
  const std::string scheme = to_lower(url.substr(0, scheme_end));
  if (scheme != "http") {
    throw std::invalid_argument("scheme '" + scheme +
                                "://' is not supported (only http:// parent proxies)");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  if (const auto slash = rest.find_first_of("/?#"); slash != std::string_view::npos) {
    if (rest.substr(slash) != "/") throw std::invalid_argument("a proxy URL has no path");
    rest = rest.substr(0, slash);
  }
  ProxyUrl parsed;
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = userinfo.find(':');
    const auto user = percent_decode(userinfo.substr(0, colon));
    const auto password = colon == std::string_view::npos
                              ? std::optional<std::string>("")
                              : percent_decode(userinfo.substr(colon + 1));
    if (!user || !password) throw std::invalid_argument("invalid %-escape in the user info");
    if (user->empty()) throw std::invalid_argument("empty user name before '@'");
    parsed.has_userinfo = true;
    parsed.user = *user;
    parsed.password = *password;
  }
  std::string_view host;
  std::string_view port;
  bool has_port = false;
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) throw std::invalid_argument("unclosed '[' in the host");
    host = rest.substr(1, close - 1);
    if (!is_v6(host)) throw std::invalid_argument("invalid IPv6 address in brackets");
    const std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') throw std::invalid_argument("unexpected text after ']'");
      has_port = true;
      port = after.substr(1);
    }
    parsed.host = to_lower(host);
  } else {
    const auto colon = rest.find(':');
    host = rest.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port = rest.substr(colon + 1);
    }
    parsed.host = to_lower(host);
    if (!parsed.host.empty() && parsed.host.back() == '.') parsed.host.pop_back();
    if (parsed.host.empty()) throw std::invalid_argument("no host");
    if (!is_v4(parsed.host) && !valid_name(parsed.host)) {
      throw std::invalid_argument("invalid host name '" + parsed.host + "'");
    }
  }
  if (has_port) {
    const auto value = http::parse_port(port);
    if (!value) throw std::invalid_argument("invalid port '" + std::string(port) + "' (1-65535)");
    parsed.port = *value;
  }
  return parsed;
}

NoProxy NoProxy::parse(std::string_view list) {
  NoProxy result;
  while (!list.empty()) {
    const auto comma = list.find(',');
    std::string_view entry = trim(list.substr(0, comma));
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    if (entry.empty()) continue;
    if (entry == "*") {
      result.all_ = true;
      continue;
    }
    // An address range or address?
    std::string_view address = entry;
    unsigned prefix = 0;
    bool has_prefix = false;
    if (const auto slash = entry.find('/'); slash != std::string_view::npos) {
      address = entry.substr(0, slash);
      const std::string_view bits = entry.substr(slash + 1);
      if (bits.empty() || bits.size() > 3 ||
          !std::all_of(bits.begin(), bits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        continue;  // not understood: ignored
      }
      prefix = static_cast<unsigned>(std::stoul(std::string(bits)));
      has_prefix = true;
    }
    if (address.size() > 2 && address.front() == '[') {
      const auto close = address.find(']');
      if (close != std::string_view::npos) address = address.substr(1, close - 1);
    }
    Range range;
    in_addr v4{};
    in6_addr v6{};
    if (is_v4(address, &v4)) {
      std::memcpy(range.bytes, &v4, 4);
      range.prefix = has_prefix ? std::min(prefix, 32u) : 32;
      result.ranges_.push_back(range);
      continue;
    }
    if (is_v6(address, &v6)) {
      range.v6 = true;
      std::memcpy(range.bytes, &v6, 16);
      range.prefix = has_prefix ? std::min(prefix, 128u) : 128;
      result.ranges_.push_back(range);
      continue;
    }
    if (has_prefix) continue;
    // A name: `*.x`, `.x` and `x` all mean x and its subdomains; a port is ignored.
    std::string name = to_lower(entry);
    if (const auto colon = name.find(':'); colon != std::string::npos) name.resize(colon);
    if (name.starts_with("*.")) name.erase(0, 2);
    while (name.starts_with('.')) name.erase(0, 1);
    if (!name.empty() && name.back() == '.') name.pop_back();
    if (!name.empty()) result.names_.push_back(std::move(name));
  }
  return result;
}

bool NoProxy::matches(std::string_view host) const {
  if (all_) return true;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  in_addr v4{};
  in6_addr v6{};
  const bool is4 = is_v4(host, &v4);
  const bool is6 = !is4 && is_v6(host, &v6);
  if (is4 || is6) {
    std::uint8_t bytes[16] = {};
    if (is4) {
      std::memcpy(bytes, &v4, 4);
    } else {
      std::memcpy(bytes, &v6, 16);
    }
    for (const Range& range : ranges_) {
      if (range.v6 == is6 && prefix_matches(bytes, range.bytes, range.prefix)) return true;
    }
    return false;
  }
  std::string name = to_lower(host);
  if (!name.empty() && name.back() == '.') name.pop_back();
  for (const std::string& entry : names_) {
    if (name == entry) return true;
    if (name.size() > entry.size() && name.ends_with(entry) &&
        name[name.size() - entry.size() - 1] == '.') {
      return true;
    }
  }
  return false;
}

std::size_t parent_head_end(std::string_view head) {
  const auto end = head.find("\r\n\r\n");
  return end == std::string_view::npos ? 0 : end + 4;
}

std::optional<int> parent_status(std::string_view head) {
  // "HTTP/1.x NNN[ reason]"
  if (!head.starts_with("HTTP/1.") || head.size() < 12) return std::nullopt;
  if (head[8] != ' ') return std::nullopt;
  int status = 0;
  for (std::size_t i = 9; i < 12; ++i) {
    if (head[i] < '0' || head[i] > '9') return std::nullopt;
    status = status * 10 + (head[i] - '0');
  }
  if (head.size() > 12 && head[12] != ' ' && head[12] != '\r') return std::nullopt;
  if (status < 100) return std::nullopt;
  return status;
}

std::string connect_request(const ProxyUrl& parent, std::string_view host, std::uint16_t port) {
  const std::string authority = http::format_authority(host, port);
  std::string request = "CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n";
  if (parent.has_userinfo) request += "Proxy-Authorization: " + parent.authorization() + "\r\n";
  return request + "\r\n";
}

}  // namespace awf::proxy
