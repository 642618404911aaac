#include "audit/audit_record.h"

#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace awf::audit {
namespace {

AuditRecord dns_refusal() {
  AuditRecord r;
  r.time_ms = 1795887202123;  // 2026-11-28T17:33:22.123Z
  r.kind = "dns";
  r.transport = "udp";
  r.client = "127.0.0.1:53124";
  r.name = "evil.example";
  r.decision = "deny";
  r.reason = "not in allowlist";
  r.qtype = "A";
  r.rcode = "REFUSED";
  r.pid = 4321;
  r.command = "curl";
  return r;
}

AuditRecord connect_allow() {
  AuditRecord r;
  r.time_ms = 0;
  r.kind = "connect";
  r.transport = "explicit";
  r.client = "[::1]:40000";
  r.name = "api.github.com";
  r.host = "api.github.com:443";
  r.destination = "140.82.114.22:443";
  r.decision = "allow";
  r.reason = "allowlist: github.com";
  r.method = "CONNECT";
  r.url = "api.github.com:443";
  r.status = 200;
  r.bytes_up = 1234;
  r.bytes_down = std::numeric_limits<std::uint64_t>::max();
  r.rule = 3;
  return r;
}

void expect_same(const AuditRecord& a, const AuditRecord& b) {
  EXPECT_EQ(a.time_ms, b.time_ms);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.transport, b.transport);
  EXPECT_EQ(a.client, b.client);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.host, b.host);
  EXPECT_EQ(a.destination, b.destination);
  EXPECT_EQ(a.decision, b.decision);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.method, b.method);
  EXPECT_EQ(a.url, b.url);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.repeat, b.repeat);
  EXPECT_EQ(a.qtype, b.qtype);
  EXPECT_EQ(a.rcode, b.rcode);
  EXPECT_EQ(a.bytes_up, b.bytes_up);
  EXPECT_EQ(a.bytes_down, b.bytes_down);
  EXPECT_EQ(a.rule, b.rule);
  EXPECT_EQ(a.pid, b.pid);
  EXPECT_EQ(a.command, b.command);
  EXPECT_EQ(a.provider, b.provider);
  EXPECT_EQ(a.duration_ms, b.duration_ms);
}

TEST(AuditRecord, ExactLine) {
  // AWF's schema keys first, always present; awf's own after them.
  EXPECT_EQ(to_json_line(dns_refusal()),
            R"({"_schema":"audit/v0.28.0","timestamp":"2026-11-28T17:33:22.123Z",)"
            R"("event":"dns_query","client":"127.0.0.1:53124","host":"evil.example",)"
            R"("dest":"-:-","method":"-","status":0,"decision":"TCP_DENIED","url":"-",)"
            R"("kind":"dns","transport":"udp","name":"evil.example","action":"deny",)"
            R"("reason":"not in allowlist","qtype":"A","rcode":"REFUSED","pid":4321,)"
            R"("command":"curl"})");
  EXPECT_EQ(to_json_line(connect_allow()),
            R"({"_schema":"audit/v0.28.0","timestamp":"1970-01-01T00:00:00.000Z",)"
            R"("event":"http_access","client":"[::1]:40000","host":"api.github.com:443",)"
            R"("dest":"140.82.114.22:443","method":"CONNECT","status":200,)"
            R"("decision":"TCP_TUNNEL","url":"api.github.com:443","kind":"connect",)"
            R"("transport":"explicit","name":"api.github.com","action":"allow",)"
            R"("reason":"allowlist: github.com","bytes_up":1234,)"
            R"("bytes_down":18446744073709551615,"rule":3})");
}

TEST(AuditRecord, SquidCodesAndEvents) {
  EXPECT_EQ(squid_code("http", true), "TCP_MISS");
  EXPECT_EQ(squid_code("api", true), "TCP_MISS");
  EXPECT_EQ(squid_code("dns", true), "TCP_MISS");
  for (const char* tunnel : {"connect", "tls", "host", "intercept"}) {
    EXPECT_EQ(squid_code(tunnel, true), "TCP_TUNNEL") << tunnel;
  }
  for (const char* kind : {"http", "connect", "dns", "blocked", "api"}) {
    EXPECT_EQ(squid_code(kind, false), "TCP_DENIED") << kind;
    EXPECT_FALSE(squid_code_allows(squid_code(kind, false)));
  }
  EXPECT_TRUE(squid_code_allows("TCP_MISS"));
  EXPECT_TRUE(squid_code_allows("TCP_HIT"));
  EXPECT_FALSE(squid_code_allows("NONE_NONE"));
  EXPECT_EQ(event_of("dns"), "dns_query");
  EXPECT_EQ(event_of("blocked"), "blocked_attempt");
  for (const char* kind : {"http", "connect", "tls", "host", "api", "intercept"}) {
    EXPECT_EQ(event_of(kind), "http_access") << kind;
  }
}

// Logs written by awf before it wrote AWF's schema stay readable.
TEST(AuditRecord, ReadsEarlierAwfLines) {
  const auto r = parse_json_line(
      R"({"ts":"2026-11-28T17:33:22.123Z","kind":"connect","transport":"explicit",)"
      R"("client":"[::1]:40000","name":"api.github.com","destination":"140.82.114.22:443",)"
      R"("decision":"allow","reason":"allowlist: github.com","method":"CONNECT",)"
      R"("url":"api.github.com:443","status":200,"rule":3})");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->time_ms, 1795887202123);
  EXPECT_EQ(r->kind, "connect");
  EXPECT_EQ(r->decision, "allow");
  EXPECT_EQ(r->destination, "140.82.114.22:443");
  EXPECT_EQ(r->reason, "allowlist: github.com");
  EXPECT_EQ(r->rule, 3u);
  const auto dns = parse_json_line(
      R"({"ts":"2026-11-28T17:33:22.123Z","kind":"dns","transport":"udp","client":"c",)"
      R"("name":"evil.example","destination":null,"decision":"deny","reason":"not in allowlist"})");
  ASSERT_TRUE(dns);
  EXPECT_EQ(dns->decision, "deny");
  EXPECT_EQ(dns->destination, "");
  // Written again, it is the new form.
  EXPECT_NE(to_json_line(*dns).find(R"("decision":"TCP_DENIED")"), std::string::npos);
}

// AWF's own audit.jsonl (Squid writes only the schema's keys): what awf keys it lacks is
// derived as AWF's log parser does.
TEST(AuditRecord, ReadsAwfLines) {
  const auto tunnel = parse_json_line(
      R"({"_schema":"audit/v0.28.20","timestamp":"2026-05-25T09:00:00.000Z",)"
      R"("event":"http_access","client":"172.30.0.20","host":"api.github.com:443",)"
      R"("dest":"140.82.114.22:443","method":"CONNECT","status":200,"decision":"TCP_TUNNEL",)"
      R"("url":"api.github.com:443"})");
  ASSERT_TRUE(tunnel);
  EXPECT_EQ(tunnel->time_ms, 1779699600000);
  EXPECT_EQ(tunnel->kind, "connect");
  EXPECT_EQ(tunnel->transport, "explicit");
  EXPECT_EQ(tunnel->client, "172.30.0.20");
  EXPECT_EQ(tunnel->name, "api.github.com");
  EXPECT_EQ(tunnel->host, "api.github.com:443");
  EXPECT_EQ(tunnel->destination, "140.82.114.22:443");
  EXPECT_EQ(tunnel->decision, "allow");
  EXPECT_EQ(tunnel->reason, "TCP_TUNNEL");
  EXPECT_EQ(tunnel->status, 200);

  const auto denied = parse_json_line(
      R"({"_schema":"audit/v0.28.20","timestamp":"2026-05-25T09:00:00.000Z",)"
      R"("event":"http_access","client":"172.30.0.20","host":"evil.example","dest":"-:-",)"
      R"("method":"GET","status":403,"decision":"TCP_DENIED","url":"http://evil.example/x"})");
  ASSERT_TRUE(denied);
  EXPECT_EQ(denied->kind, "http");
  EXPECT_EQ(denied->name, "evil.example");
  EXPECT_EQ(denied->host, "");  // the same as the name
  EXPECT_EQ(denied->destination, "");
  EXPECT_EQ(denied->decision, "deny");
  EXPECT_EQ(denied->url, "http://evil.example/x");

  // A request without a Host header: the name is the URL's host. NONE is not an allowance.
  const auto none = parse_json_line(
      R"({"timestamp":"2026-05-25T09:00:00.000Z","event":"http_access","client":"::1",)"
      R"("host":"-","dest":"-:-","method":"-","status":0,"decision":"NONE_NONE",)"
      R"("url":"http://203.0.113.9:8080/p"})");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->name, "203.0.113.9");
  EXPECT_EQ(none->method, "");
  EXPECT_EQ(none->decision, "deny");

  // AWF's legacy records: Unix seconds with a fraction.
  const auto legacy = parse_json_line(
      R"({"ts":1761074374.646,"client":"172.30.0.20","host":"api.github.com:443",)"
      R"("dest":"140.82.114.22:443","method":"CONNECT","status":200,"decision":"TCP_TUNNEL",)"
      R"("url":"api.github.com:443"})");
  ASSERT_TRUE(legacy);
  EXPECT_EQ(legacy->time_ms, 1761074374646);
  EXPECT_EQ(legacy->name, "api.github.com");
}

TEST(AuditRecord, ApiRecordWithDuration) {
  AuditRecord r = connect_allow();
  r.kind = "api";
  r.provider = "openai";
  r.duration_ms = 0;  // present even when zero: the request was timed
  const std::string line = to_json_line(r);
  EXPECT_NE(line.find(R"("provider":"openai","duration_ms":0})"), std::string::npos) << line;
  const auto back = parse_json_line(line);
  ASSERT_TRUE(back);
  expect_same(*back, r);
  EXPECT_FALSE(parse_json_line(R"({"ts":"1970-01-01T00:00:00.000Z","kind":"api","transport":"x",)"
                               R"("client":"c","name":"n","destination":null,"decision":"allow",)"
                               R"("reason":"r","duration_ms":-3})"));
  EXPECT_FALSE(connect_allow().duration_ms);
  EXPECT_EQ(to_json_line(connect_allow()).find("duration_ms"), std::string::npos);
}

TEST(AuditRecord, RepeatedDnsDenialIsMarked) {
  AuditRecord r = dns_refusal();
  EXPECT_EQ(to_json_line(r).find("repeat"), std::string::npos);
  r.repeat = true;
  const std::string line = to_json_line(r);
  EXPECT_NE(line.find(R"("repeat":true)"), std::string::npos) << line;
  const auto back = parse_json_line(line);
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->repeat);
  std::string bad = line;
  bad.replace(bad.find("true"), 4, "\"yes\"");
  EXPECT_FALSE(parse_json_line(bad));
}

TEST(AuditRecord, RoundTrip) {
  for (const auto& r : {dns_refusal(), connect_allow(), AuditRecord{}}) {
    const auto line = to_json_line(r);
    const auto back = parse_json_line(line);
    ASSERT_TRUE(back) << line;
    expect_same(*back, r);
    EXPECT_EQ(to_json_line(*back), line);
  }
}

TEST(AuditRecord, Timestamps) {
  struct Case {
    std::int64_t ms;
    const char* ts;
  };
  for (const auto& c : {Case{0, "1970-01-01T00:00:00.000Z"}, Case{-1, "1969-12-31T23:59:59.999Z"},
                        Case{951782400000, "2000-02-29T00:00:00.000Z"},
                        Case{253402300799999, "9999-12-31T23:59:59.999Z"},
                        Case{253402300800000, "+010000-01-01T00:00:00.000Z"},
                        Case{-62167219200000, "0000-01-01T00:00:00.000Z"},
                        Case{-62167219200001, "-000001-12-31T23:59:59.999Z"}}) {
    AuditRecord r = dns_refusal();
    r.time_ms = c.ms;
    const auto line = to_json_line(r);
    const auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["timestamp"], c.ts);
    const auto back = parse_json_line(line);
    ASSERT_TRUE(back) << line;
    EXPECT_EQ(back->time_ms, c.ms);
  }
  for (std::int64_t t :
       {std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max()}) {
    AuditRecord r;
    r.time_ms = t;
    const auto back = parse_json_line(to_json_line(r));
    ASSERT_TRUE(back) << to_json_line(r);
    EXPECT_EQ(back->time_ms, t);
  }
}

TEST(AuditRecord, HostileStringsStayOnOneLine) {
  AuditRecord r = dns_refusal();
  r.name = std::string("evil\n{\"kind\":\"forged\"}\r\x01\x1b[31m\0end", 32);
  r.reason = "bad utf8 \xff\xfe \xc3 and \xe2\x80\xae rlo and \xe2\x80\xa8 ls";
  r.client = "caf\xc3\xa9";
  r.url = "\"quoted\" \\ back";
  const auto line = to_json_line(r);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_EQ(line.find('\r'), std::string::npos);
  // The escapes themselves, byte for byte (lowercase \u, short forms where JSON has them).
  EXPECT_NE(line.find(R"("client":"caf\u00e9")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("url":"\"quoted\" \\ back")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("name":"evil\n{\"kind\":\"forged\"}\r\u0001\u001b[31m\u0000en")"),
            std::string::npos)
      << line;
  EXPECT_NE(line.find(R"(\ufffd\ufffd \ufffd and \u202e rlo and \u2028 ls")"), std::string::npos)
      << line;
  for (unsigned char c : line) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << static_cast<int>(c);
  const auto back = parse_json_line(line);
  ASSERT_TRUE(back) << line;
  EXPECT_EQ(back->name, r.name);  // valid UTF-8 survives exactly, NUL included
  EXPECT_EQ(back->client, r.client);
  EXPECT_EQ(back->url, r.url);
  EXPECT_EQ(back->kind, "dns");
  // Invalid bytes became U+FFFD, the valid characters around them stayed.
  EXPECT_NE(back->reason.find("\xef\xbf\xbd"), std::string::npos);
  EXPECT_NE(back->reason.find("\xe2\x80\xae rlo"), std::string::npos);
  EXPECT_EQ(back->reason.find('\xff'), std::string::npos);
}

TEST(AuditRecord, RejectsOtherInput) {
  const std::string good = to_json_line(dns_refusal());
  ASSERT_TRUE(parse_json_line(good));
  for (
      const std::string& bad : std::vector<std::string>{
          std::string(""),
          std::string("null"),
          std::string("[]"),
          std::string("{}"),
          std::string("not json"),
          good.substr(0, good.size() - 1),
          std::string(R"({"ts":"2026-11-28T17:33:22.123Z","kind":"dns"})"),
          std::string(R"({"ts":true,"client":"c","decision":"TCP_MISS"})"),
          std::string(R"({"client":"c","decision":"TCP_MISS"})"),
          std::string(R"({"timestamp":"2026-01-01T00:00:00.000Z","client":"c"})"),
          std::string(R"({"timestamp":"2026-01-01T00:00:00.000Z","decision":"TCP_MISS"})"),
          std::string(
              R"({"timestamp":"2026-01-01T00:00:00.000Z","client":"c","decision":"TCP_MISS","dest":null})"),
          std::string(
              R"({"timestamp":"2026-01-01T00:00:00.000Z","client":"c","decision":"TCP_MISS","host":7})"),
          std::string(
              R"({"timestamp":"2026-01-01T00:00:00.000Z","client":"c","decision":"TCP_MISS","action":false})"),
          std::string(R"({"ts":1e300,"client":"c","decision":"TCP_MISS"})"),
          std::string(
              R"({"ts":"2026-11-28T17:33:22Z","kind":"dns","transport":"udp","client":"c","name":"n","destination":null,"decision":"deny","reason":"r"})"),
          std::string(
              R"({"ts":"2026-02-30T00:00:00.000Z","kind":"dns","transport":"udp","client":"c","name":"n","destination":null,"decision":"deny","reason":"r"})"),
          std::string(
              R"({"ts":"2026-01-01T24:00:00.000Z","kind":"dns","transport":"udp","client":"c","name":"n","destination":null,"decision":"deny","reason":"r"})"),
          std::string(
              R"({"ts":"2026-01-01T00:00:00.000Z","kind":"dns","transport":"udp","client":"c","name":"n","destination":null,"decision":"deny","reason":"r","rule":4294967296})"),
          std::string(
              R"({"ts":"2026-01-01T00:00:00.000Z","kind":"dns","transport":"udp","client":"c","name":"n","destination":null,"decision":"deny","reason":"r","pid":"12"})"),
          std::string(
              R"({"ts":"2026-01-01T00:00:00.000Z","kind":1,"transport":"udp","client":"c","name":"n","destination":null,"decision":"deny","reason":"r"})"),
          std::string(
              R"({"ts":"2026-01-01T00:00:00.000Z","kind":"dns","transport":"udp","client":"c","name":"n","destination":5,"decision":"deny","reason":"r"})"),
          std::string(
              R"({"ts":"2026-01-01T00:00:00.000Z","kind":"dns","transport":"udp","client":"c","name":"n","destination":null,"decision":"deny","reason":"r","status":1.5})"),
          std::string(
              R"({"ts":"2026-01-01T00:00:00.000Z","kind":"dns","transport":"udp","client":"c","name":"n","destination":null,"decision":"deny","reason":"r","status":4294967296})"),
          std::string(
              R"({"ts":"2026-01-01T00:00:00.000Z","kind":"dns","transport":"udp","client":"c","name":"n","destination":null,"decision":"deny","reason":"r","bytes_up":-1})"),
          std::string(
              R"({"ts":"2026-01-01T00:00:00.000Z","kind":"dns","transport":"udp","client":"c","name":"n","destination":null,"decision":"deny","reason":"r","qtype":["A"]})"),
      }) {
    EXPECT_FALSE(parse_json_line(bad)) << bad;
  }
  // Unknown keys are tolerated (newer writers), and a negative status is an int.
  EXPECT_TRUE(parse_json_line(
      R"({"ts":"2026-01-01T00:00:00.000Z","kind":"dns","transport":"udp","client":"c","name":"n","destination":null,"decision":"deny","reason":"r","extra":[1,2],"status":-5})"));
}

}  // namespace
}  // namespace awf::audit
