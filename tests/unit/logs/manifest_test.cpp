#include "logs/manifest.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace awf::logs {
namespace {

// AWF's v1 form as awf writes it: awf's rules carry the number audit records name.
TEST(Manifest, ParsesTheV1Form) {
  const auto m = parse_manifest(
      R"({"version":1,"generatedAt":"2026-11-28T17:33:22.123Z","rules":[)"
      R"({"id":"deny-blocked-2","order":1,"action":"deny","aclName":"blocked_domains",)"
      R"("protocol":"both","domains":[".gist.github.com"],"description":"Deny 'gist.github.com'",)"
      R"("rule":2,"entry":"gist.github.com"},)"
      R"({"id":"allow-1","order":2,"action":"allow","aclName":"allowed_https_only",)"
      R"("protocol":"https","domains":[".github.com"],"description":"d","rule":1,)"
      R"("entry":"https://github.com"},)"
      R"({"id":"deny-default","order":3,"action":"deny","aclName":"all","protocol":"both",)"
      R"("domains":[],"description":"default"}],"dangerousPorts":[22],"dnsServers":["1.1.1.1"],)"
      R"("sslBumpEnabled":false,"dlpEnabled":false,"hostAccessEnabled":false,)"
      R"("allowHostPorts":null,"topologyPeers":[]})");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->rules.size(), 3u);
  const ManifestRule* blocked = m->find(2);
  ASSERT_NE(blocked, nullptr);
  EXPECT_EQ(blocked->id, "deny-blocked-2");
  EXPECT_EQ(blocked->order, 1u);
  EXPECT_EQ(blocked->action, "deny");
  EXPECT_EQ(blocked->entry, "gist.github.com");
  EXPECT_EQ(blocked->domains, std::vector<std::string>{".gist.github.com"});
  EXPECT_EQ(m->find(1)->protocol, "https");
  EXPECT_EQ(m->find(3), nullptr);  // deny-default has no number: records never name it
  EXPECT_EQ(m->rules[2].rule, 0u);
  EXPECT_EQ(m->find(0), nullptr);
}

// AWF's own manifest: string ids, no numbers.
TEST(Manifest, ParsesAwfManifests) {
  const auto m = parse_manifest(
      R"({"version":1,"generatedAt":"2026-03-23T18:34:53.894Z","rules":[{"id":"allow-both-plain",)"
      R"("order":5,"action":"allow","aclName":"allowed_domains","protocol":"both",)"
      R"("domains":[".github.com"],"description":"Allow HTTP and HTTPS"}],)"
      R"("dangerousPorts":[22,23],"dnsServers":["8.8.8.8"],"sslBumpEnabled":false,)"
      R"("dlpEnabled":false,"hostAccessEnabled":false,"allowHostPorts":null})");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->rules.size(), 1u);
  EXPECT_EQ(m->rules[0].id, "allow-both-plain");
  EXPECT_EQ(m->rules[0].order, 5u);
  EXPECT_EQ(m->rules[0].rule, 0u);
}

// The form earlier awf versions wrote.
TEST(Manifest, ParsesTheEarlierForm) {
  const auto m = parse_manifest(
      R"({"version":1,"default":"deny","rules":[{"id":1,"action":"allow","domain":"github.com"},)"
      R"({"id":3,"action":"block","domain":"gist.github.com"}]})");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->default_action, "deny");
  ASSERT_EQ(m->rules.size(), 2u);
  EXPECT_EQ(m->find(3)->entry, "gist.github.com");
  EXPECT_EQ(m->find(3)->id, "3");
  EXPECT_EQ(m->find(3)->action, "block");
  EXPECT_EQ(m->find(2), nullptr);
}

TEST(Manifest, IgnoresUnknownKeys) {
  const auto m = parse_manifest(
      R"({"version":2,"extra":[1],"rules":[{"id":1,"action":"allow","domain":"x.com","ports":[443]}]})");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->rules.at(0).entry, "x.com");
}

TEST(Manifest, RejectsWhatIsNotAManifest) {
  EXPECT_FALSE(parse_manifest(""));
  EXPECT_FALSE(parse_manifest("[]"));
  EXPECT_FALSE(parse_manifest(R"({"rules":{}})"));
  EXPECT_FALSE(parse_manifest(R"({"rules":[{"id":0,"action":"allow","domain":"x"}]})"));
  EXPECT_FALSE(parse_manifest(R"({"rules":[{"id":-1,"action":"allow","domain":"x"}]})"));
  EXPECT_FALSE(parse_manifest(R"({"rules":[{"id":1,"action":"allow"}]})"));
  EXPECT_FALSE(parse_manifest(R"({"rules":[{"id":4294967296,"action":"allow","domain":"x"}]})"));
  EXPECT_FALSE(parse_manifest(R"({"default":1,"rules":[]})"));
  EXPECT_FALSE(parse_manifest(R"({"rules":[], )"));
  EXPECT_FALSE(parse_manifest(R"({"rules":[{"id":"a"}]})"));
  EXPECT_FALSE(parse_manifest(R"({"rules":[{"id":true,"action":"allow"}]})"));
  EXPECT_FALSE(parse_manifest(R"({"rules":[{"id":"a","action":"allow","rule":0}]})"));
  EXPECT_FALSE(parse_manifest(R"({"rules":[{"id":"a","action":"allow","rule":"1"}]})"));
  EXPECT_FALSE(parse_manifest(R"({"rules":[{"id":"a","action":"allow","order":-1}]})"));
  EXPECT_FALSE(parse_manifest(R"({"rules":[{"id":"a","action":"allow","domains":"x"}]})"));
  EXPECT_FALSE(parse_manifest(R"({"rules":[{"id":"a","action":"allow","domains":[1]}]})"));
  EXPECT_FALSE(parse_manifest(R"({"rules":[{"id":"a","action":"allow","protocol":2}]})"));
}

}  // namespace
}  // namespace awf::logs
