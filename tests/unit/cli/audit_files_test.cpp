#include "cli/audit_files.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace awf::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string config_for(std::vector<std::string> argv) {
  Options options;
  options.argv = std::move(argv);
  return resolved_config_json(options);
}

// Every spelling CLI11 accepts for -e: separate word, --env=, and the fused short form.
TEST(ResolvedConfig, RedactsEveryEnvSpelling) {
  const std::string json = config_for({"-e", "MY_API_KEY=s1", "--env=GITHUB_TOKEN=s2",
                                       "-eDB_PASSWORD=s3", "--env", "PLAIN=visible"});
  for (const char* secret : {"s1", "s2", "s3"}) {
    EXPECT_THAT(json, Not(HasSubstr(std::string("=") + secret))) << json;
  }
  EXPECT_THAT(json, HasSubstr("\"MY_API_KEY=***\""));
  EXPECT_THAT(json, HasSubstr("\"--env=GITHUB_TOKEN=***\""));
  EXPECT_THAT(json, HasSubstr("\"-eDB_PASSWORD=***\""));
  EXPECT_THAT(json, HasSubstr("\"PLAIN=visible\""));
}

TEST(ResolvedConfig, OtherWordsStayAsGiven) {
  const std::string json = config_for({"-e", "-d", "allowed.test", "--log-level=debug"});
  EXPECT_THAT(json, HasSubstr("\"-e\""));
  EXPECT_THAT(json, HasSubstr("\"--log-level=debug\""));
}

}  // namespace
}  // namespace awf::cli
