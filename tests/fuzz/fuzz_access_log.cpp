// libFuzzer target: access.log parsing, and format/parse round trips of arbitrary records.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "audit/access_log.h"

using awf::audit::AccessRecord;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

enum class Kind { Plain, Quoted, StatusTag };

// Reference for what a field reads back as after format_access_line + parse_access_line.
std::string expected(std::string_view value, Kind kind) {
  if (value.empty()) return {};
  if (value == "-") return "%2D";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : value) {
    const auto c = static_cast<unsigned char>(ch);
    const bool encode = (c == ' ' && kind != Kind::Quoted) ||
                        (c != ' ' && (c < 0x21 || c >= 0x7f || c == '"' || c == '%')) ||
                        (kind == Kind::StatusTag && c == ':');
    if (encode) {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

// format -> parse gives the sanitized record back, and the line is a single safe line.
void round_trip(const AccessRecord& r) {
  const auto line = awf::audit::format_access_line(r);
  for (char ch : line) {
    const auto c = static_cast<unsigned char>(ch);
    check(c >= 0x20 && c < 0x7f);
  }
  const auto back = awf::audit::parse_access_line(line);
  check(back.has_value());
  check(back->time_ms == r.time_ms);
  check(back->client_ip == expected(r.client_ip, Kind::Plain));
  check(back->client_port == r.client_port);
  check(back->host == expected(r.host, Kind::Plain));
  check(back->dest_ip == expected(r.dest_ip, Kind::Plain));
  check(back->dest_port == (r.dest_ip.empty() ? 0 : r.dest_port));
  check(back->http_version == expected(r.http_version, Kind::Plain));
  check(back->method == expected(r.method, Kind::Plain));
  check(back->status == r.status);
  check(back->squid_status == expected(r.squid_status, Kind::StatusTag));
  check(back->hierarchy == expected(r.hierarchy, Kind::StatusTag));
  check(back->url == expected(r.url, Kind::Plain));
  check(back->user_agent == expected(r.user_agent, Kind::Quoted));
  // The sanitized record is a fixed point up to '%' (which format encodes once more): its
  // line parses again, with the same numbers.
  const auto again = awf::audit::parse_access_line(awf::audit::format_access_line(*back));
  check(again.has_value() && again->time_ms == back->time_ms && again->status == back->status &&
        again->client_port == back->client_port && again->dest_port == back->dest_port);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto parsed = awf::audit::parse_access_line(text)) round_trip(*parsed);

  FuzzedDataProvider fdp(data, size);
  AccessRecord r;
  r.time_ms = fdp.ConsumeIntegral<std::int64_t>();
  r.client_port = fdp.ConsumeIntegral<std::uint16_t>();
  r.dest_port = fdp.ConsumeIntegral<std::uint16_t>();
  r.status = fdp.ConsumeIntegral<int>();
  r.client_ip = fdp.ConsumeRandomLengthString(64);
  r.host = fdp.ConsumeRandomLengthString(256);
  r.dest_ip = fdp.ConsumeRandomLengthString(64);
  r.http_version = fdp.ConsumeRandomLengthString(8);
  r.method = fdp.ConsumeRandomLengthString(16);
  r.squid_status = fdp.ConsumeRandomLengthString(32);
  r.hierarchy = fdp.ConsumeRandomLengthString(32);
  r.url = fdp.ConsumeRandomLengthString(256);
  r.user_agent = fdp.ConsumeRemainingBytesAsString();
  round_trip(r);
  return 0;
}
