#include "cli/mount_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

namespace awf::cli {
namespace {

using ::testing::HasSubstr;

std::optional<std::string> fake_env(const std::string& name) {
  static const std::map<std::string, std::string> vars = {{"WS", "/work/space"},
                                                          {"EMPTY", ""}};
  const auto it = vars.find(name);
  if (it == vars.end()) return std::nullopt;
  return it->second;
}

std::string error_of(std::string_view text) {
  try {
    parse_mount_spec(text, fake_env);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "<no error>";
}

TEST(MountSpec, Forms) {
  MountSpec m = parse_mount_spec("/a:/b", fake_env);
  EXPECT_EQ(m.host, "/a");
  EXPECT_EQ(m.container, "/b");
  EXPECT_FALSE(m.read_only);
  m = parse_mount_spec("/a/:/b//c/./:ro", fake_env);
  EXPECT_EQ(m.host, "/a");
  EXPECT_EQ(m.container, "/b/c");
  EXPECT_TRUE(m.read_only);
  EXPECT_FALSE(parse_mount_spec("/a:/b:rw", fake_env).read_only);
}

TEST(MountSpec, Variables) {
  MountSpec m = parse_mount_spec("$WS/src:${WS}/dst", fake_env);
  EXPECT_EQ(m.host, "/work/space/src");
  EXPECT_EQ(m.container, "/work/space/dst");
  EXPECT_EQ(expand_variables("a$$b", fake_env), "a$b");
  EXPECT_EQ(expand_variables("${EMPTY}x", fake_env), "x");
  EXPECT_THAT(error_of("$NOPE/a:/b"), HasSubstr("'NOPE' is not set"));
  EXPECT_THAT(error_of("${WS:/b"), HasSubstr("unterminated"));
  EXPECT_THAT(error_of("$/a:/b"), HasSubstr("not a valid variable"));
}

TEST(MountSpec, Rejects) {
  EXPECT_THAT(error_of("/a"), HasSubstr("parts"));
  EXPECT_THAT(error_of("/a:/b:ro:x"), HasSubstr("parts"));
  EXPECT_THAT(error_of("a:/b"), HasSubstr("host path must be absolute"));
  EXPECT_THAT(error_of("/a:b"), HasSubstr("container path must be absolute"));
  EXPECT_THAT(error_of(":/b"), HasSubstr("absolute"));
  EXPECT_THAT(error_of("/a:/b:rx"), HasSubstr("'ro' or 'rw'"));
  EXPECT_THAT(error_of("/a:/"), HasSubstr("cannot be '/'"));
  EXPECT_THAT(error_of("/a:/b/../../etc"), HasSubstr(".."));
  EXPECT_THAT(error_of("/a:/b"), HasSubstr("<no error>"));
}

}  // namespace
}  // namespace awf::cli
