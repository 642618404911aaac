#include "policy/public_suffix.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <fstream>
#include <iterator>
#include <string>

namespace awf::policy {

extern const unsigned char kPublicSuffixDafsa[];
extern const std::size_t kPublicSuffixDafsa_size;

namespace {

TEST(PublicSuffix, EmbedsTheListTheBuildWasGiven) {
  std::ifstream file(AWF_PUBLIC_SUFFIX_DAFSA, std::ios::binary);
  ASSERT_TRUE(file) << AWF_PUBLIC_SUFFIX_DAFSA;
  const std::string expected{std::istreambuf_iterator<char>(file), {}};
  const std::string embedded(reinterpret_cast<const char*>(kPublicSuffixDafsa),
                             kPublicSuffixDafsa_size);
  EXPECT_EQ(embedded, expected);
}

TEST(PublicSuffix, LoadsOnceAndAnswers) {
  const psl_ctx_t* psl = public_suffixes();
  ASSERT_NE(psl, nullptr);
  EXPECT_EQ(public_suffixes(), psl);
  EXPECT_NE(psl, psl_builtin());  // the embedded list, not libpsl's own copy
  EXPECT_TRUE(psl_is_public_suffix2(psl, "co.uk", PSL_TYPE_ICANN));
  EXPECT_TRUE(psl_is_public_suffix2(psl, "github.io", PSL_TYPE_PRIVATE));
  EXPECT_FALSE(psl_is_public_suffix2(psl, "github.io", PSL_TYPE_ICANN));
  EXPECT_FALSE(psl_is_public_suffix(psl, "example.com"));
  EXPECT_STREQ(psl_registrable_domain(psl, "a.b.example.co.uk"), "example.co.uk");
  EXPECT_STREQ(psl_registrable_domain(psl, "a.u.github.io"), "u.github.io");
}

}  // namespace
}  // namespace awf::policy
