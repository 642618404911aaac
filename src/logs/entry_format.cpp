#include "logs/entry_format.h"

#include <cctype>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

namespace awf::logs {
namespace {

using Json = nlohmann::ordered_json;

// "GET http://x/path", "CONNECT x", "DNS AAAA x", "TCP 203.0.113.10:22".
std::string request_of(const audit::AuditRecord& r) {
  if (r.kind == "dns") return "DNS " + (r.qtype.empty() ? "?" : r.qtype) + " " + r.name;
  if (r.kind == "blocked") {
    std::string transport = r.transport;
    for (char& c : transport) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return transport + " " + (r.url.empty() ? r.name : r.url);
  }
  // A raw relay to a host port (--enable-host-access) or a topology peer:
  // "TCP host.docker.internal:3000", "TCP awmg-mcpg:8080".
  if (r.kind == "host" || r.kind == "peer") return "TCP " + (r.url.empty() ? r.name : r.url);
  const std::string method = r.method.empty() ? "-" : r.method;
  return method + " " + (r.kind == "http" && !r.url.empty() ? r.url : r.name);
}

// What the client got back: an HTTP status, a DNS answer code, or nothing.
std::string answer_of(const audit::AuditRecord& r) {
  if (r.status != 0) return std::to_string(r.status);
  if (!r.rcode.empty()) return r.rcode;
  return r.kind == "blocked" ? "dropped" : "-";
}

// No port: "ip", "[v6]" or a bare IPv6 address (AWF's audit.jsonl writes the client so).
bool without_port(const std::string& endpoint) {
  const auto colon = endpoint.rfind(':');
  return colon == std::string::npos || endpoint.ends_with(']') ||
         (!endpoint.starts_with('[') && endpoint.find(':') != colon);
}

// "host:port" -> port; "" when there is none.
std::string port_of(const std::string& endpoint) {
  if (without_port(endpoint)) return {};
  return endpoint.substr(endpoint.rfind(':') + 1);
}

std::string ip_of(const std::string& endpoint) {
  const auto colon = endpoint.rfind(':');
  if (without_port(endpoint)) return endpoint;
  std::string ip = endpoint.substr(0, colon);
  if (ip.starts_with('[') && ip.ends_with(']')) ip = ip.substr(1, ip.size() - 2);
  return ip;
}

}  // namespace

std::string format_time(std::int64_t time_ms) {
  std::int64_t secs = time_ms / 1000;
  std::int64_t ms = time_ms % 1000;
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  const auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  char text[64];
  if (gmtime_r(&t, &tm) == nullptr ||
      std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &tm) == 0) {
    return std::to_string(time_ms) + "ms";
  }
  char millis[8];
  std::snprintf(millis, sizeof millis, ".%03d", static_cast<int>(ms));
  return std::string(text) + millis;
}

std::string printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(ch);
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0x0f]);
    }
  }
  return out;
}

std::string Palette::paint(std::string_view text, const char* code) const {
  if (!enabled) return std::string(text);
  return std::string("\x1b[") + code + "m" + std::string(text) + "\x1b[0m";
}

std::string format_pretty(const LogEntry& entry, const Palette& palette) {
  const audit::AuditRecord& r = entry.record;
  std::string line = palette.dim("[" + format_time(r.time_ms) + "]");
  line += " " + printable(request_of(r)) + " → " + printable(answer_of(r)) + " ";
  if (is_allowed(entry)) {
    line += palette.green("(ALLOWED)");
  } else {
    line += palette.red("(DENIED: " + printable(r.reason) + ")");
  }
  if (!entry.user_agent.empty()) line += " [" + printable(entry.user_agent) + "]";
  if (r.pid != 0) {
    line += " <PID:" + std::to_string(r.pid);
    if (!r.command.empty()) line += " " + printable(r.command);
    line += ">";
  }
  return line;
}

std::string format_json(const LogEntry& entry) {
  const audit::AuditRecord& r = entry.record;
  Json j;
  j["timestamp"] = static_cast<double>(r.time_ms) / 1000.0;
  j["kind"] = r.kind;
  j["clientIp"] = ip_of(r.client);
  j["clientPort"] = port_of(r.client);
  j["host"] = r.name;
  j["destIp"] = r.destination.empty() ? "-" : ip_of(r.destination);
  j["destPort"] = r.destination.empty() ? "-" : port_of(r.destination);
  j["method"] = r.method;
  j["statusCode"] = r.status;
  // AWF's meaning: the Squid result code; awf's allow/deny is "action".
  j["decision"] = std::string(audit::squid_code(r.kind, is_allowed(entry)));
  j["action"] = r.decision;
  j["reason"] = r.reason;
  j["url"] = r.url;
  j["userAgent"] = entry.user_agent.empty() ? "-" : entry.user_agent;
  j["domain"] = target_of(entry);
  j["isAllowed"] = is_allowed(entry);
  j["isHttps"] = r.kind == "connect" || r.kind == "tls" || r.kind == "api";
  // The same facts under plain names too (client and destination as ip:port).
  j["client"] = r.client;
  j["destination"] = r.destination.empty() ? Json(nullptr) : Json(r.destination);
  j["status"] = r.status;
  j["allowed"] = is_allowed(entry);
  j["rule"] = r.rule == 0 ? Json(nullptr) : Json(r.rule);
  j["pid"] = r.pid == 0 ? Json(nullptr) : Json(r.pid);
  j["command"] = r.command.empty() ? Json(nullptr) : Json(r.command);
  if (!r.provider.empty()) j["provider"] = r.provider;
  return j.dump(-1, ' ', true, Json::error_handler_t::replace);
}

}  // namespace awf::logs
