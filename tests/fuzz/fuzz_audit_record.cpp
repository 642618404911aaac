// libFuzzer target: audit.jsonl parsing, and JSON round trips of arbitrary records.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "audit/audit_record.h"

using awf::audit::AuditRecord;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

bool same(const AuditRecord& a, const AuditRecord& b) {
  return a.time_ms == b.time_ms && a.kind == b.kind && a.transport == b.transport &&
         a.client == b.client && a.name == b.name && a.host == b.host &&
         a.destination == b.destination &&
         a.decision == b.decision && a.reason == b.reason && a.method == b.method &&
         a.url == b.url && a.status == b.status && a.qtype == b.qtype && a.rcode == b.rcode &&
         a.bytes_up == b.bytes_up && a.bytes_down == b.bytes_down && a.provider == b.provider &&
         a.rule == b.rule && a.pid == b.pid && a.command == b.command &&
         a.duration_ms == b.duration_ms && a.repeat == b.repeat;
}

// The writer as a JSON object dumped ASCII-only (invalid UTF-8 replaced): the hand-written one
// must produce the same bytes for every record, the timestamp aside (compared through the
// parser). AWF's keys first, always present ("-" for an empty string), then awf's own.
std::string reference_line(const AuditRecord& r, const std::string& ts) {
  using Json = nlohmann::ordered_json;
  const auto dash = [](const std::string& value) { return value.empty() ? "-" : value; };
  const bool allowed = r.decision == "allow";
  Json j;
  j["_schema"] = "audit/v0.28.0";
  j["timestamp"] = ts;
  j["event"] = r.kind == "dns" ? "dns_query" : r.kind == "blocked" ? "blocked_attempt"
                                                                    : "http_access";
  j["client"] = r.client;
  j["host"] = dash(r.host.empty() ? r.name : r.host);
  j["dest"] = r.destination.empty() ? "-:-" : r.destination;
  j["method"] = dash(r.method);
  j["status"] = r.status;
  j["decision"] = !allowed                                                  ? "TCP_DENIED"
                  : r.kind == "http" || r.kind == "api" || r.kind == "dns" ? "TCP_MISS"
                                                                           : "TCP_TUNNEL";
  j["url"] = dash(r.url);
  j["kind"] = r.kind;
  j["transport"] = r.transport;
  j["name"] = r.name;
  j["action"] = r.decision;
  j["reason"] = r.reason;
  if (!r.qtype.empty()) j["qtype"] = r.qtype;
  if (!r.rcode.empty()) j["rcode"] = r.rcode;
  if (r.repeat) j["repeat"] = true;
  if (r.bytes_up != 0) j["bytes_up"] = r.bytes_up;
  if (r.bytes_down != 0) j["bytes_down"] = r.bytes_down;
  if (r.rule != 0) j["rule"] = r.rule;
  if (r.pid != 0) j["pid"] = r.pid;
  if (!r.command.empty()) j["command"] = r.command;
  if (!r.provider.empty()) j["provider"] = r.provider;
  if (r.duration_ms) j["duration_ms"] = *r.duration_ms;
  return j.dump(-1, ' ', true, Json::error_handler_t::replace);
}

void check_against_reference(const AuditRecord& r, const std::string& line) {
  const auto parsed = nlohmann::ordered_json::parse(line, nullptr, /*allow_exceptions=*/false);
  check(parsed.is_object() && parsed.contains("timestamp") && parsed["timestamp"].is_string());
  check(line == reference_line(r, parsed["timestamp"].get<std::string>()));
}

std::string line_of(const AuditRecord& r) {
  const auto line = awf::audit::to_json_line(r);
  check_against_reference(r, line);
  for (char ch : line) {
    const auto c = static_cast<unsigned char>(ch);
    check(c >= 0x20 && c < 0x7f);  // one line of printable ASCII, whatever the strings hold
  }
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto parsed = awf::audit::parse_json_line(text)) {
    // Strings that came out of a JSON parser are valid UTF-8, so the round trip is exact.
    const auto line = line_of(*parsed);
    const auto back = awf::audit::parse_json_line(line);
    check(back.has_value() && same(*back, *parsed));
    check(line_of(*back) == line);
  }

  FuzzedDataProvider fdp(data, size);
  AuditRecord r;
  r.time_ms = fdp.ConsumeIntegral<std::int64_t>();
  r.status = fdp.ConsumeIntegral<int>();
  r.bytes_up = fdp.ConsumeIntegral<std::uint64_t>();
  r.bytes_down = fdp.ConsumeIntegral<std::uint64_t>();
  r.kind = fdp.ConsumeRandomLengthString(16);
  r.transport = fdp.ConsumeRandomLengthString(16);
  r.client = fdp.ConsumeRandomLengthString(64);
  r.name = fdp.ConsumeRandomLengthString(256);
  r.host = fdp.ConsumeRandomLengthString(64);
  r.destination = fdp.ConsumeRandomLengthString(64);
  r.decision = fdp.ConsumeRandomLengthString(8);
  r.reason = fdp.ConsumeRandomLengthString(64);
  r.method = fdp.ConsumeRandomLengthString(16);
  r.url = fdp.ConsumeRandomLengthString(256);
  r.qtype = fdp.ConsumeRandomLengthString(8);
  r.rule = fdp.ConsumeIntegral<std::uint32_t>();
  r.pid = fdp.ConsumeIntegral<int>();
  r.command = fdp.ConsumeRandomLengthString(16);
  r.provider = fdp.ConsumeRandomLengthString(16);
  if (fdp.ConsumeBool()) r.duration_ms = fdp.ConsumeIntegral<std::uint64_t>();
  r.repeat = fdp.ConsumeBool();
  r.rcode = fdp.ConsumeRemainingBytesAsString();
  const auto line = line_of(r);
  const auto back = awf::audit::parse_json_line(line);
  check(back.has_value());
  check(back->time_ms == r.time_ms && back->status == r.status && back->bytes_up == r.bytes_up &&
        back->bytes_down == r.bytes_down);
  // Invalid UTF-8 may have been replaced; after one pass the record is a fixed point.
  const auto line2 = line_of(*back);
  const auto back2 = awf::audit::parse_json_line(line2);
  check(back2.has_value() && same(*back2, *back) && line_of(*back2) == line2);
  return 0;
}
