#include "peers/docker_inspect.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <nlohmann/json.hpp>

namespace awf::peers {
namespace {

using Json = nlohmann::json;

constexpr std::size_t kMaxErrorText = 200;

// "8080/tcp" -> 8080 for TCP; nullopt for another protocol. Throws on a malformed key.
std::optional<std::uint16_t> tcp_port_of(const std::string& key) {
  const auto slash = key.find('/');
  const std::string_view number = std::string_view(key).substr(0, slash);
  unsigned value = 0;
  const auto [end, error] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (error != std::errc() || end != number.data() + number.size() || value == 0 ||
      value > 65535) {
    throw InspectError("port '" + key + "' is not PORT/PROTOCOL");
  }
  // No protocol means TCP, as in `docker run --expose 8080`.
  if (slash != std::string::npos && key.substr(slash + 1) != "tcp") return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

std::uint16_t host_port_of(const Json& binding, const std::string& key) {
  const Json& port = binding.contains("HostPort") ? binding["HostPort"] : Json();
  if (!port.is_string()) throw InspectError("port '" + key + "': HostPort is not a string");
  const std::string text = port.get<std::string>();
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
    throw InspectError("port '" + key + "': HostPort '" + text + "' is not a port number");
  }
  return static_cast<std::uint16_t>(value);
}

bool is_ip(const std::string& text) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, text.c_str(), buffer) == 1 ||
         inet_pton(AF_INET6, text.c_str(), buffer) == 1;
}

const Json& member(const Json& object, const char* key) {
  static const Json null;
  if (!object.is_object()) return null;
  const auto it = object.find(key);
  return it == object.end() ? null : *it;
}

// An absent key or null is "nothing"; anything else must be an object.
const Json& optional_object(const Json& parent, const char* key, const char* where) {
  const Json& value = member(parent, key);
  if (!value.is_null() && !value.is_object()) {
    throw InspectError(std::string(where) + " is not an object");
  }
  return value;
}

void read_state(const Json& root, ContainerInfo& info) {
  const Json& state = member(root, "State");
  if (!state.is_object()) throw InspectError("State is missing");
  const Json& status = member(state, "Status");
  const Json& running = member(state, "Running");
  const Json& paused = member(state, "Paused");
  if (!status.is_string() || !running.is_boolean()) {
    throw InspectError("State.Status or State.Running is missing");
  }
  info.status = status.get<std::string>();
  info.running = running.get<bool>() && !(paused.is_boolean() && paused.get<bool>());
}

void read_networks(const Json& settings, ContainerInfo& info) {
  const Json& networks = optional_object(settings, "Networks", "NetworkSettings.Networks");
  if (networks.is_null()) return;
  for (const auto& [name, network] : networks.items()) {
    const Json& address = member(network, "IPAddress");
    if (!address.is_string() || address.get<std::string>().empty()) continue;
    const std::string text = address.get<std::string>();
    unsigned char buffer[4];
    if (inet_pton(AF_INET, text.c_str(), buffer) != 1) {
      throw InspectError("network '" + name + "': IPAddress '" + text + "' is not IPv4");
    }
    info.ipv4_addresses.emplace_back(name, text);
  }
}

void read_published(const Json& settings, ContainerInfo& info) {
  const Json& ports = optional_object(settings, "Ports", "NetworkSettings.Ports");
  if (ports.is_null()) return;
  for (const auto& [key, bindings] : ports.items()) {
    const std::optional<std::uint16_t> port = tcp_port_of(key);
    if (!port) continue;
    std::vector<PortBinding>& out = info.tcp_ports[*port];
    if (bindings.is_null()) continue;  // exposed, not published
    if (!bindings.is_array()) throw InspectError("port '" + key + "': bindings are not a list");
    for (const Json& binding : bindings) {
      const Json& ip = member(binding, "HostIp");
      if (!ip.is_string()) throw InspectError("port '" + key + "': HostIp is not a string");
      PortBinding parsed{ip.get<std::string>(), host_port_of(binding, key)};
      if (!parsed.host_ip.empty() && !is_ip(parsed.host_ip)) {
        throw InspectError("port '" + key + "': HostIp '" + parsed.host_ip +
                           "' is not an address");
      }
      out.push_back(std::move(parsed));
    }
  }
}

void read_exposed(const Json& root, ContainerInfo& info) {
  const Json& config = optional_object(root, "Config", "Config");
  const Json& exposed = optional_object(config, "ExposedPorts", "Config.ExposedPorts");
  if (exposed.is_null()) return;
  for (const auto& [key, ignored] : exposed.items()) {
    if (const std::optional<std::uint16_t> port = tcp_port_of(key)) info.tcp_ports[*port];
  }
}

std::string printable(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, kMaxErrorText)) {
    out += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' ||
                            text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return text;
}

std::optional<std::size_t> parse_size(std::string_view text, int base) {
  std::size_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (error != std::errc() || end == text.data()) return std::nullopt;
  // Chunk extensions (";name=value") follow the size.
  if (end != text.data() + text.size() && base == 16 && *end != ';') return std::nullopt;
  if (end != text.data() + text.size() && base == 10) return std::nullopt;
  return value;
}

// The chunked transfer coding: "SIZE\r\nDATA\r\n" ... "0\r\n" (trailers ignored).
std::optional<std::string> decode_chunked(std::string_view rest) {
  std::string body;
  for (;;) {
    const auto line_end = rest.find("\r\n");
    if (line_end == std::string_view::npos) return std::nullopt;
    const std::optional<std::size_t> size = parse_size(trim(rest.substr(0, line_end)), 16);
    if (!size) return std::nullopt;
    rest.remove_prefix(line_end + 2);
    if (*size == 0) return body;
    if (rest.size() < *size + 2 || rest.substr(*size, 2) != "\r\n") return std::nullopt;
    body.append(rest.substr(0, *size));
    rest.remove_prefix(*size + 2);
  }
}

}  // namespace

ContainerInfo parse_inspect(std::string_view json) {
  const Json root = Json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!root.is_object()) throw InspectError("not a JSON object");
  ContainerInfo info;
  const Json& name = member(root, "Name");
  if (!name.is_string()) throw InspectError("Name is missing");
  info.name = name.get<std::string>();
  if (info.name.starts_with('/')) info.name.erase(0, 1);
  read_state(root, info);
  const Json& settings = optional_object(root, "NetworkSettings", "NetworkSettings");
  read_networks(settings, info);
  read_published(settings, info);
  read_exposed(root, info);
  return info;
}

std::optional<HttpResponse> parse_http_response(std::string_view raw) {
  const auto head_end = raw.find("\r\n\r\n");
  if (head_end == std::string_view::npos) return std::nullopt;
  std::string_view head = raw.substr(0, head_end + 2);
  std::string_view rest = raw.substr(head_end + 4);
  const auto status_end = head.find("\r\n");
  const std::string_view status_line = head.substr(0, status_end);
  // "HTTP/1.1 200 OK"
  if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12 || status_line[8] != ' ') {
    return std::nullopt;
  }
  const std::optional<std::size_t> status = parse_size(status_line.substr(9, 3), 10);
  if (!status || *status < 100 || *status > 599 ||
      (status_line.size() > 12 && status_line[12] != ' ')) {
    return std::nullopt;
  }
  std::optional<std::size_t> length;
  bool chunked = false;
  head.remove_prefix(status_end + 2);
  while (!head.empty()) {
    const auto line_end = head.find("\r\n");
    const std::string_view line = head.substr(0, line_end);
    head.remove_prefix(line_end + 2);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "Content-Length")) {
      length = parse_size(value, 10);
      if (!length) return std::nullopt;
    } else if (iequals(name, "Transfer-Encoding")) {
      chunked = iequals(value, "chunked");
      if (!chunked) return std::nullopt;
    }
  }
  HttpResponse response;
  response.status = static_cast<int>(*status);
  if (chunked) {
    std::optional<std::string> body = decode_chunked(rest);
    if (!body) return std::nullopt;
    response.body = std::move(*body);
  } else if (length) {
    if (rest.size() < *length) return std::nullopt;
    response.body = std::string(rest.substr(0, *length));
  } else {
    response.body = std::string(rest);
  }
  return response;
}

std::string docker_error_message(std::string_view body) {
  const Json parsed = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  const Json& message = member(parsed, "message");
  if (message.is_string()) return printable(message.get<std::string>());
  return printable(trim(body));
}

}  // namespace awf::peers
