#include "logs/manifest.h"

#include <gtest/gtest.h>

namespace awf::logs {
namespace {

TEST(Manifest, ParsesTheDocumentedSchema) {
  const auto m = parse_manifest(
      R"({"version":1,"default":"deny","rules":[{"id":1,"action":"allow","domain":"github.com"},)"
      R"({"id":3,"action":"block","domain":"gist.github.com"}]})");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->default_action, "deny");
  ASSERT_EQ(m->rules.size(), 2u);
  EXPECT_EQ(m->find(3)->domain, "gist.github.com");
  EXPECT_EQ(m->find(3)->action, "block");
  EXPECT_EQ(m->find(2), nullptr);
}

TEST(Manifest, IgnoresUnknownKeys) {
  const auto m = parse_manifest(
      R"({"version":2,"extra":[1],"rules":[{"id":1,"action":"allow","domain":"x.com","ports":[443]}]})");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->rules.at(0).domain, "x.com");
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
}

}  // namespace
}  // namespace awf::logs
