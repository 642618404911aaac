#include "sandbox/git_config.h"

#include <gtest/gtest.h>

namespace awf::sandbox {
namespace {

std::string filtered(std::string_view text) {
  const FilteredGitConfig result = strip_git_credentials(text);
  EXPECT_TRUE(result.complete) << text;
  return result.text;
}

TEST(StripGitCredentials, ActionsCheckoutExtraheaderIsDropped) {
  const char* config =
      "[core]\n"
      "\trepositoryformatversion = 0\n"
      "\tbare = false\n"
      "[remote \"origin\"]\n"
      "\turl = https://github.com/o/r\n"
      "\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
      "[http \"https://github.com/\"]\n"
      "\textraheader = AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hzX3NlY3JldA==\n"
      "[http]\n"
      "\tExtraHeader = Authorization: bearer x\n"
      "\tpostBuffer = 100\n";
  EXPECT_EQ(filtered(config),
            "[core]\n"
            "\trepositoryformatversion = \"0\"\n"
            "\tbare = \"false\"\n"
            "[remote \"origin\"]\n"
            "\turl = \"https://github.com/o/r\"\n"
            "\tfetch = \"+refs/heads/*:refs/remotes/origin/*\"\n"
            "[http \"https://github.com/\"]\n"
            "[http]\n"
            "\tpostBuffer = \"100\"\n");
}

TEST(StripGitCredentials, CredentialSectionsAreDropped) {
  EXPECT_EQ(filtered("[credential]\n\thelper = store\n[Credential \"https://x\"]\n"
                     "\tusername = u\n[user]\n\tname = n\n"),
            "[user]\n\tname = \"n\"\n");
}

TEST(StripGitCredentials, UserinfoIsRemovedFromUrls) {
  EXPECT_EQ(filtered("[remote \"origin\"]\n"
                     "\turl = https://x-access-token:ghs_secret@github.com/o/r.git\n"
                     "\tpushurl = http://ghp_token@example.test/r\n"
                     "[remote \"ssh\"]\n\turl = ssh://git@github.com/o/r\n"
                     "\tpushurl = ftp://user:pass@example.test/r\n"
                     "[http]\n\tproxy = http://u:p@proxy.test:3128\n"),
            "[remote \"origin\"]\n"
            "\turl = \"https://github.com/o/r.git\"\n"
            "\tpushurl = \"http://example.test/r\"\n"
            "[remote \"ssh\"]\n\turl = \"ssh://git@github.com/o/r\"\n"
            "\tpushurl = \"ftp://example.test/r\"\n"
            "[http]\n\tproxy = \"http://proxy.test:3128\"\n");
}

TEST(StripGitCredentials, InsteadOfSectionWithTokenIsDropped) {
  EXPECT_EQ(filtered("[url \"https://x-access-token:ghs_secret@github.com/\"]\n"
                     "\tinsteadOf = https://github.com/\n"
                     "[url \"https://mirror.test/\"]\n\tinsteadOf = https://u:p@a.test/\n"),
            "[url \"https://mirror.test/\"]\n\tinsteadOf = \"https://a.test/\"\n");
}

TEST(StripGitCredentials, SyntaxVariantsAreReadAsGitReadsThem) {
  EXPECT_EQ(filtered("# comment\n; other\n[core] bare = true ; trailing\n"
                     "\tflag\n\tx = \"a \\\"q\\\" b\" c  # c\n"
                     "\ty = one \\\n two\r\n[a.B]\n\tz = \"  \\t\\n\"\n"),
            "[core]\n\tbare = \"true\"\n\tflag\n\tx = \"a \\\"q\\\" b c\"\n"
            "\ty = \"one  two\"\n[a.B]\n\tz = \"  \\t\\n\"\n");
}

TEST(StripGitCredentials, SyntaxErrorKeepsWhatCameBefore) {
  for (const char* bad : {"[core]\n\tx = 1\n[broken\n\ty = 2\n", "[core]\n\tx = 1\n!\n",
                          "[core]\n\tx = 1\n\ty = \"open\n", "[core]\n\tx = 1\n\ty = a\\q\n"}) {
    const FilteredGitConfig result = strip_git_credentials(bad);
    EXPECT_FALSE(result.complete) << bad;
    EXPECT_EQ(result.text, "[core]\n\tx = \"1\"\n") << bad;
  }
  EXPECT_FALSE(strip_git_credentials("x = 1\n").complete);
}

TEST(StripGitCredentials, OutputIsAFixedPoint) {
  const std::string once =
      filtered("[http \"https://github.com/\"]\n\textraheader = a\n[s \"q\\\"\\\\\"]\n\tv = \\\\\n");
  EXPECT_EQ(filtered(once), once);
  // A subsection keeps a tab as it is ("\t" there would read back as "t").
  const std::string tab = filtered("[s \"a\tb\\t\"]\n");
  EXPECT_EQ(tab, "[s \"a\tbt\"]\n");
  EXPECT_EQ(filtered(tab), tab);
}

}  // namespace
}  // namespace awf::sandbox
