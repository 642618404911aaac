#include "cli/mount_spec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
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
  // awf builds /proc, /dev and /sys itself: a mount there would be covered, silently.
  EXPECT_THAT(error_of("/a:/proc"), HasSubstr("/proc is /proc, which awf builds"));
  EXPECT_THAT(error_of("/a:/dev/kvm"), HasSubstr("/dev/kvm is under /dev"));
  EXPECT_THAT(error_of("/a:/sys/fs"), HasSubstr("under /sys"));
  EXPECT_THAT(error_of("/a:/procfs"), HasSubstr("<no error>"));
  EXPECT_THAT(error_of("/a:/device"), HasSubstr("<no error>"));
}

}  // namespace
}  // namespace awf::cli

// unsafe_symlink_in reads the filesystem: a private directory (0700, the caller's) and a
// world-writable sticky one stand for ~ and /tmp.
namespace awf::cli {
namespace {

class UnsafeSymlink : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/awf-mount-spec-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    base_ = templ;
    ASSERT_EQ(mkdir((base_ + "/private").c_str(), 0700), 0);
    ASSERT_EQ(mkdir((base_ + "/private/data").c_str(), 0700), 0);
    ASSERT_EQ(mkdir((base_ + "/shared").c_str(), 01777), 0);
    ASSERT_EQ(chmod((base_ + "/shared").c_str(), 01777), 0);
    chmod(base_.c_str(), 0755);
  }
  void TearDown() override {
    for (const char* link : {"/private/link", "/private/rel", "/shared/link"}) {
      unlink((base_ + link).c_str());
    }
    rmdir((base_ + "/private/data").c_str());
    rmdir((base_ + "/private").c_str());
    rmdir((base_ + "/shared").c_str());
    rmdir(base_.c_str());
  }
  std::string base_;
};

TEST_F(UnsafeSymlink, PlainPathsAndLinksInPrivateDirectoriesAreSafe) {
  EXPECT_EQ(unsafe_symlink_in(base_ + "/private/data"), std::nullopt);
  ASSERT_EQ(symlink((base_ + "/private/data").c_str(), (base_ + "/private/link").c_str()), 0);
  ASSERT_EQ(symlink("data", (base_ + "/private/rel").c_str()), 0);
  EXPECT_EQ(unsafe_symlink_in(base_ + "/private/link"), std::nullopt);
  EXPECT_EQ(unsafe_symlink_in(base_ + "/private/rel/"), std::nullopt);
}

TEST_F(UnsafeSymlink, LinkInAWorldWritableDirectoryIsRefused) {
  ASSERT_EQ(symlink((base_ + "/private/data").c_str(), (base_ + "/shared/link").c_str()), 0);
  const auto why = unsafe_symlink_in(base_ + "/shared/link");
  ASSERT_TRUE(why.has_value());
  EXPECT_THAT(*why, ::testing::HasSubstr(base_ + "/shared/link"));
  // Also when the link is reached through another one, or is not the last component.
  ASSERT_EQ(symlink((base_ + "/shared/link").c_str(), (base_ + "/private/link").c_str()), 0);
  EXPECT_TRUE(unsafe_symlink_in(base_ + "/private/link").has_value());
  EXPECT_TRUE(unsafe_symlink_in(base_ + "/shared/link/.").has_value());
}

}  // namespace
}  // namespace awf::cli
