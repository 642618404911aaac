#include "policy/credential_scan.h"

#include <gtest/gtest.h>

#include <string>

namespace awf::policy {
namespace {

std::string kind_of(std::string_view text) {
  const auto kind = find_credential(text);
  return kind ? std::string(*kind) : "<none>";
}

TEST(CredentialScan, FindsEachShape) {
  EXPECT_EQ(kind_of("http://x.test/?t=ghp_abcdefghijklmnopqrstuvwxyz0123456789"), "GitHub token");
  EXPECT_EQ(kind_of("/gho_ABCDEFGHIJKLMNOPQRST"), "GitHub token");
  EXPECT_EQ(kind_of("/ghs_ABCDEFGHIJKLMNOPQRST"), "GitHub token");
  EXPECT_EQ(kind_of("/ghu_ABCDEFGHIJKLMNOPQRST"), "GitHub token");
  EXPECT_EQ(kind_of("/github_pat_11ABCDEFG0123456789_abcdefghij"), "GitHub token");
  EXPECT_EQ(kind_of("/v1?key=sk-ant-api03-abcdefghijklmnopqrstuv"), "Anthropic API key");
  EXPECT_EQ(kind_of("/v1?key=sk-proj-abcdefghijklmnopqrstuv"), "OpenAI API key");
  EXPECT_EQ(kind_of("/v1?key=sk-abcdefghijklmnopqrstuvwx"), "OpenAI API key");
  EXPECT_EQ(kind_of("/AKIAIOSFODNN7EXAMPLE/x"), "AWS access key id");
  EXPECT_EQ(kind_of("/?k=AIzaSyA-abcdefghijklmnopqrstuvwxyz01234"), "Google API key");
  EXPECT_EQ(kind_of("/?t=xoxb-1234567890-abc"), "Slack token");
  EXPECT_EQ(kind_of("/?t=xoxp-1234567890-abc"), "Slack token");
  EXPECT_EQ(kind_of("/api?Bearer=abc"), "credential query parameter");
  EXPECT_EQ(kind_of("/api?x=1&authorization=abc"), "credential query parameter");
  EXPECT_EQ(kind_of("/api?access_token=abc"), "credential query parameter");
  EXPECT_EQ(kind_of("/up?d=-----BEGIN%20RSA%20PRIVATE%20KEY-----"), "private key");
  EXPECT_EQ(kind_of("/up?d=BEGIN+OPENSSH+PRIVATE+KEY"), "private key");
}

TEST(CredentialScan, SeesThroughPercentEncoding) {
  EXPECT_EQ(kind_of("/?t=%67hp_abcdefghijklmnopqrstuvwxyz"), "GitHub token");
  EXPECT_EQ(kind_of("/?t=%2567hp_abcdefghijklmnopqrstuvwxyz"), "GitHub token");
  EXPECT_EQ(kind_of("/?t=%41KIAIOSFODNN7EXAMPLE"), "AWS access key id");
  EXPECT_EQ(kind_of("/%"), "<none>");
  EXPECT_EQ(kind_of("/%4"), "<none>");
  EXPECT_EQ(kind_of("/%zz"), "<none>");
}

TEST(CredentialScan, IgnoresLookalikes) {
  EXPECT_EQ(kind_of("http://github.com/owner/repo/pulls?page=2"), "<none>");
  EXPECT_EQ(kind_of("/desk-abcdefghijklmnopqrstuvwxyz"), "<none>");  // not a word start
  EXPECT_EQ(kind_of("/ghp_short"), "<none>");
  EXPECT_EQ(kind_of("/sk-short"), "<none>");
  EXPECT_EQ(kind_of("/AKIA1234"), "<none>");
  EXPECT_EQ(kind_of("/akiaiosfodnn7example0"), "<none>");  // AWS ids are upper case
  EXPECT_EQ(kind_of("/?bearer="), "<none>");                // no value
  EXPECT_EQ(kind_of("/bearer=abc"), "<none>");              // not a query parameter
  EXPECT_EQ(kind_of("api.github.com:443"), "<none>");
  EXPECT_EQ(kind_of(""), "<none>");
}

}  // namespace
}  // namespace awf::policy

namespace awf::policy {
namespace {

constexpr char kToken[] = "ghp_abcdefghijklmnopqrstuvwxyz0123456789";

TEST(CredentialRedaction, QueryIsAlwaysRedacted) {
  EXPECT_EQ(redact_credentials(std::string("http://allowed.test/path?token=") + kToken),
            "http://allowed.test/path?<redacted>");
  EXPECT_EQ(redact_credentials("http://allowed.test/p?access_token=abc&x=1"),
            "http://allowed.test/p?<redacted>");
  EXPECT_EQ(redact_credentials("http://allowed.test:8080/#frag"), "http://allowed.test:8080/#<redacted>");
}

TEST(CredentialRedaction, PathAndHostWhenTheyHoldIt) {
  EXPECT_EQ(redact_credentials(std::string("http://allowed.test/a/") + kToken + "/b"),
            "http://allowed.test/<redacted>");
  EXPECT_EQ(redact_credentials(std::string("http://allowed.test/a/b?x=") + kToken),
            "http://allowed.test/a/b?<redacted>");
  EXPECT_EQ(redact_credentials("sk-ant-api03-abcdefghijklmnopqrstuvwx.evil.test:443"),
            "<redacted>:443");
  EXPECT_EQ(redact_credentials("http://sk-ant-api03-abcdefghijklmnopqrstuvwx.evil.test/x?y"),
            "http://<redacted>/x?<redacted>");
  EXPECT_EQ(redact_credentials(std::string(kToken) + ".evil.test"), "<redacted>");
}

TEST(CredentialRedaction, ResultHoldsNoCredential) {
  for (const std::string& url :
       {std::string("http://a.test/") + kToken, std::string("http://a.test/%67hp_") + (kToken + 4),
        std::string("a.test:443"), std::string("http://a.test/x?k=AKIAIOSFODNN7EXAMPLE")}) {
    EXPECT_FALSE(find_credential(redact_credentials(url))) << url;
  }
  EXPECT_EQ(redact_credentials("http://a.test/plain/path"), "http://a.test/plain/path");
}

}  // namespace
}  // namespace awf::policy
