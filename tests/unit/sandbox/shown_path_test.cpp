#include "sandbox/shown_path.h"

#include <gtest/gtest.h>

namespace awf::sandbox {
namespace {

TEST(PathInView, BindContainingTheFileShowsItBelowTheTarget) {
  EXPECT_EQ(path_in_view("/home/u/.ssh/id_rsa", {"/home/u", "/data"}), "/data/.ssh/id_rsa");
  EXPECT_EQ(path_in_view("/home/u/.ssh/id_rsa", {"/", "/host"}), "/host/home/u/.ssh/id_rsa");
  EXPECT_EQ(path_in_view("/home/u/.netrc", {"/home", "/home"}), "/home/u/.netrc");
}

TEST(PathInView, BindOfTheFileOrInsideItShowsItAtTheTarget) {
  EXPECT_EQ(path_in_view("/home/u/.ssh/id_rsa", {"/home/u/.ssh/id_rsa", "/k"}), "/k");
  EXPECT_EQ(path_in_view("/home/u/.gnupg", {"/home/u/.gnupg/private-keys-v1.d", "/g"}), "/g");
}

TEST(PathInView, UnrelatedOrPrefixOnlyPathsAreNotShown) {
  EXPECT_EQ(path_in_view("/home/u/.ssh/id_rsa", {"/home/u/project", "/w"}), "");
  EXPECT_EQ(path_in_view("/home/user/.netrc", {"/home/u", "/data"}), "");
  EXPECT_EQ(path_in_view("/home/u2/.netrc", {"/home/u", "/data"}), "");
}

TEST(IsWithin, RootContainsEverything) {
  EXPECT_TRUE(is_within("/a", "/"));
  EXPECT_TRUE(is_within("/", "/"));
  EXPECT_TRUE(is_within("/a/b", "/a"));
  EXPECT_FALSE(is_within("/ab", "/a"));
}

}  // namespace
}  // namespace awf::sandbox

namespace awf::sandbox {
namespace {

TEST(IsPersistableHomeDir, ToolDirectoriesAndBelow) {
  EXPECT_TRUE(is_persistable_home_dir(".npm"));
  EXPECT_TRUE(is_persistable_home_dir(".cache/pip"));
  EXPECT_TRUE(is_persistable_home_dir(".local/share/pnpm"));
}

TEST(IsPersistableHomeDir, RefusesOtherOrUnnormalizedPaths) {
  for (const char* bad : {"", ".ssh", "/home/u/.npm", ".npm/", ".cache//pip", ".cache/../.ssh",
                          "./.npm", ".cache/.", "project"}) {
    EXPECT_FALSE(is_persistable_home_dir(bad)) << bad;
  }
}

}  // namespace
}  // namespace awf::sandbox
