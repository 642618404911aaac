#include "logs/entry.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "logs/entry_format.h"

namespace awf::logs {
namespace {

audit::AuditRecord connect_record() {
  audit::AuditRecord r;
  r.time_ms = 1795887202123;  // 2026-11-28 17:33:22.123 UTC
  r.kind = "connect";
  r.transport = "explicit";
  r.client = "127.0.0.1:35574";
  r.name = "api.github.com";
  r.destination = "140.82.114.22:443";
  r.decision = "allow";
  r.reason = "allowed by 'github.com'";
  r.method = "CONNECT";
  r.url = "api.github.com:443";
  r.status = 200;
  return r;
}

audit::AccessRecord access_for(const audit::AuditRecord& r, const std::string& agent) {
  audit::AccessRecord a;
  a.time_ms = r.time_ms;
  a.client_ip = "127.0.0.1";
  a.client_port = 35574;
  a.method = r.method;
  a.url = r.url;
  a.status = r.status;
  a.squid_status = "TCP_TUNNEL";
  a.hierarchy = "HIER_DIRECT";
  a.user_agent = agent;
  return a;
}

TEST(Entry, ClientTextMatchesTheAuditSpelling) {
  EXPECT_EQ(client_text("127.0.0.1", 80), "127.0.0.1:80");
  EXPECT_EQ(client_text("::1", 443), "[::1]:443");
}

TEST(Entry, UserAgentsJoinByTimeClientAndUrl) {
  audit::AuditRecord first = connect_record();
  audit::AuditRecord second = connect_record();
  audit::AuditRecord dns = connect_record();
  dns.kind = "dns";
  dns.url.clear();
  second.url = "other.test:443";
  const auto entries = join_user_agents(
      {first, second, dns}, {access_for(second, "wget/1"), access_for(first, "curl/8")});
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].user_agent, "curl/8");
  EXPECT_EQ(entries[1].user_agent, "wget/1");
  EXPECT_EQ(entries[2].user_agent, "");
}

// AWF's audit.jsonl writes the client's address without its port.
TEST(Entry, UserAgentsJoinAwfRecordsByAddress) {
  audit::AuditRecord awf = connect_record();
  awf.client = "127.0.0.1";
  audit::AuditRecord v6 = connect_record();
  v6.client = "[::1]:4000";
  audit::AccessRecord v6_line = access_for(v6, "wget/1");
  v6_line.client_ip = "::1";
  const auto entries =
      join_user_agents({awf, v6}, {access_for(connect_record(), "curl/8"), v6_line});
  EXPECT_EQ(entries[0].user_agent, "curl/8");
  EXPECT_EQ(entries[1].user_agent, "wget/1");
}

TEST(Entry, AnAccessLineMatchesOneRecordOnly) {
  const audit::AuditRecord r = connect_record();
  const auto entries = join_user_agents({r, r}, {access_for(r, "curl/8")});
  EXPECT_EQ(entries[0].user_agent, "curl/8");
  EXPECT_EQ(entries[1].user_agent, "");
}

TEST(Entry, FromAccessLineAlone) {
  audit::AccessRecord a = access_for(connect_record(), "curl/8");
  a.squid_status = "TCP_DENIED";
  a.url = "evil.test:443";
  a.status = 403;
  const LogEntry e = entry_from_access(a);
  EXPECT_EQ(e.record.kind, "connect");
  EXPECT_EQ(e.record.name, "evil.test");
  EXPECT_EQ(e.record.decision, "deny");
  EXPECT_EQ(e.user_agent, "curl/8");
  a.squid_status = "NONE_NONE";  // AWF's reading: no answer is no allowance
  EXPECT_EQ(entry_from_access(a).record.decision, "deny");
  a.squid_status = "TCP_HIT";
  EXPECT_EQ(entry_from_access(a).record.decision, "allow");
}

TEST(EntryFormat, PrettyLineAsDocumented) {
  LogEntry e{connect_record(), "curl/8.0"};
  e.record.pid = 1234;
  e.record.command = "curl";
  EXPECT_EQ(format_pretty(e, Palette{}),
            "[2026-11-28 17:33:22.123] CONNECT api.github.com → 200 (ALLOWED) [curl/8.0] "
            "<PID:1234 curl>");
}

TEST(EntryFormat, PrettyDnsRefusalAndBlockedAttempt) {
  LogEntry dns{connect_record(), ""};
  dns.record.kind = "dns";
  dns.record.decision = "deny";
  dns.record.reason = "not in allowlist";
  dns.record.status = 0;
  dns.record.qtype = "A";
  dns.record.rcode = "REFUSED";
  dns.record.name = "blocked.test";
  EXPECT_EQ(format_pretty(dns, Palette{}),
            "[2026-11-28 17:33:22.123] DNS A blocked.test → REFUSED (DENIED: not in allowlist)");
  LogEntry blocked{connect_record(), ""};
  blocked.record.kind = "blocked";
  blocked.record.transport = "tcp";
  blocked.record.decision = "deny";
  blocked.record.reason = "port 22";
  blocked.record.status = 0;
  blocked.record.url = "203.0.113.10:22";
  EXPECT_EQ(format_pretty(blocked, Palette{}),
            "[2026-11-28 17:33:22.123] TCP 203.0.113.10:22 → dropped (DENIED: port 22)");
}

TEST(EntryFormat, ColourOnlyWhenAsked) {
  const LogEntry e{connect_record(), ""};
  EXPECT_EQ(format_pretty(e, Palette{}).find('\x1b'), std::string::npos);
  EXPECT_NE(format_pretty(e, Palette{true}).find("\x1b[32m(ALLOWED)\x1b[0m"), std::string::npos);
}

TEST(EntryFormat, HostileStringsCannotReachTheTerminal) {
  LogEntry e{connect_record(), "evil\x1b]0;title\x07"};
  e.record.name = "a\x1b[2Jb\xe2\x80\xae";
  const std::string line = format_pretty(e, Palette{});
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
  EXPECT_NE(line.find("a\\x1b[2Jb\\xe2\\x80\\xae"), std::string::npos);
}

TEST(EntryFormat, JsonHasAwfKeysAndAttribution) {
  LogEntry e{connect_record(), "curl/8.0"};
  e.record.pid = 77;
  e.record.command = "curl";
  e.record.rule = 2;
  const auto j = nlohmann::json::parse(format_json(e));
  EXPECT_DOUBLE_EQ(j["timestamp"].get<double>(), 1795887202.123);
  EXPECT_EQ(j["clientIp"], "127.0.0.1");
  EXPECT_EQ(j["clientPort"], "35574");
  EXPECT_EQ(j["destIp"], "140.82.114.22");
  EXPECT_EQ(j["destPort"], "443");
  EXPECT_EQ(j["domain"], "api.github.com");
  EXPECT_EQ(j["userAgent"], "curl/8.0");
  EXPECT_EQ(j["isAllowed"], true);
  EXPECT_EQ(j["isHttps"], true);
  EXPECT_EQ(j["statusCode"], 200);
  EXPECT_EQ(j["rule"], 2);
  EXPECT_EQ(j["pid"], 77);
  EXPECT_EQ(j["command"], "curl");
  EXPECT_EQ(j["client"], "127.0.0.1:35574");
  EXPECT_EQ(j["destination"], "140.82.114.22:443");
  EXPECT_EQ(j["status"], 200);
  EXPECT_EQ(j["allowed"], true);
  EXPECT_EQ(j["decision"], "TCP_TUNNEL");  // AWF's meaning of the key
  EXPECT_EQ(j["action"], "allow");
}

TEST(EntryFormat, JsonWithoutOptionalFields) {
  audit::AuditRecord r = connect_record();
  r.client = "[::1]:4000";
  r.destination.clear();
  const auto j = nlohmann::json::parse(format_json(LogEntry{r, ""}));
  EXPECT_EQ(j["clientIp"], "::1");
  EXPECT_EQ(j["clientPort"], "4000");
  EXPECT_EQ(j["destIp"], "-");
  EXPECT_EQ(j["userAgent"], "-");
  EXPECT_TRUE(j["pid"].is_null());
  EXPECT_TRUE(j["rule"].is_null());
  // AWF's records: the address only, IPv6 bare.
  r.client = "2001:db8::1";
  const auto awf = nlohmann::json::parse(format_json(LogEntry{r, ""}));
  EXPECT_EQ(awf["clientIp"], "2001:db8::1");
  EXPECT_EQ(awf["clientPort"], "");
}

TEST(EntryFormat, TimeIsUtcWithMilliseconds) {
  EXPECT_EQ(format_time(0), "1970-01-01 00:00:00.000");
  EXPECT_EQ(format_time(-1), "1969-12-31 23:59:59.999");
}

}  // namespace
}  // namespace awf::logs
