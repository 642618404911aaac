#include "logs/log_text.h"

#include <gtest/gtest.h>

#include <string>

namespace awf::logs {
namespace {

const std::string kAudit =
    R"({"ts":"2026-11-28T17:50:00.374Z","kind":"connect","transport":"explicit",)"
    R"("client":"127.0.0.1:35574","name":"allowed.test","destination":"203.0.113.10:443",)"
    R"("decision":"allow","reason":"allowed by 'allowed.test'","method":"CONNECT",)"
    R"("url":"allowed.test:443","status":200})";
const std::string kAccess =
    "1761074374.646 127.0.0.1:39748 api.github.com:443 140.82.114.22:443 1.1 CONNECT 200 "
    "TCP_TUNNEL:HIER_DIRECT api.github.com:443 \"curl/7.88.1\"";

TEST(LineSplitter, KeepsTheUnterminatedTailUntilItsNewline) {
  LineSplitter splitter;
  EXPECT_TRUE(splitter.feed("{\"ts\":").empty());
  EXPECT_EQ(splitter.pending(), "{\"ts\":");
  const auto lines = splitter.feed("1}\nsecond\nthi");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "{\"ts\":1}");
  EXPECT_EQ(lines[1], "second");
  EXPECT_EQ(splitter.pending(), "thi");
  EXPECT_EQ(splitter.feed("rd\n"), std::vector<std::string>{"third"});
  EXPECT_EQ(splitter.pending(), "");
}

TEST(AuditText, SkipsAndCountsMalformedLinesAndBlankOnes) {
  const AuditText parsed = parse_audit_text(kAudit + "\nnot json\n\n  \n{}\n" + kAudit + "\n");
  EXPECT_EQ(parsed.records.size(), 2u);
  EXPECT_EQ(parsed.counts.valid, 2u);
  EXPECT_EQ(parsed.counts.malformed, 2u);
  EXPECT_FALSE(parsed.counts.truncated_tail);
  EXPECT_FALSE(is_garbage(parsed.counts));
}

TEST(AuditText, ATruncatedLastLineIsNotMalformed) {
  const AuditText parsed = parse_audit_text(kAudit + "\n" + kAudit.substr(0, 40));
  EXPECT_EQ(parsed.records.size(), 1u);
  EXPECT_EQ(parsed.counts.malformed, 0u);
  EXPECT_TRUE(parsed.counts.truncated_tail);
}

TEST(AuditText, ACompleteLastLineWithoutNewlineCounts) {
  EXPECT_EQ(parse_audit_text(kAudit).records.size(), 1u);
}

TEST(AuditText, UnknownKeysAreIgnored) {
  std::string line = kAudit;
  line.insert(1, R"("future":{"nested":[1,2]},"x":null,)");
  const AuditText parsed = parse_audit_text(line + "\n");
  ASSERT_EQ(parsed.records.size(), 1u);
  EXPECT_EQ(parsed.records[0].name, "allowed.test");
}

TEST(AuditText, GarbageHasLinesButNoRecord) {
  EXPECT_TRUE(is_garbage(parse_audit_text("PNG\x01\x02\nmore\n").counts));
  EXPECT_TRUE(is_garbage(parse_audit_text("no newline at all").counts));
  EXPECT_FALSE(is_garbage(parse_audit_text("").counts));
  EXPECT_FALSE(is_garbage(parse_audit_text("\n\n").counts));
}

TEST(AccessText, KeepsTheLinesAsWritten) {
  const AccessText parsed = parse_access_text(kAccess + "\r\nbroken line\n" + kAccess);
  ASSERT_EQ(parsed.records.size(), 2u);
  EXPECT_EQ(parsed.lines[0], kAccess);
  EXPECT_EQ(parsed.lines[1], kAccess);
  EXPECT_EQ(parsed.counts.malformed, 1u);
  EXPECT_EQ(parsed.records[0].user_agent, "curl/7.88.1");
}

}  // namespace
}  // namespace awf::logs
