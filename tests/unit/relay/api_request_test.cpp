#include "proxy/api_request.h"

#include <gtest/gtest.h>

namespace awf::proxy {
namespace {

ApiRoute route(bool secret) {
  ApiRoute r;
  r.target = ApiTarget{"llm.private.test", 8443};
  r.base_path = "/serving-abc";
  r.secret_target = secret;
  return r;
}

TEST(ApiRequest, SecretEndpointIsRedactedInRecords) {
  EXPECT_EQ(logged_authority(route(false)), "llm.private.test:8443");
  EXPECT_EQ(logged_url(route(false), "/serving-abc/chat/completions?k=v"),
            "https://llm.private.test:8443/serving-abc/chat/completions");
  EXPECT_EQ(logged_authority(route(true)), "redacted.invalid");
  EXPECT_EQ(logged_url(route(true), "/serving-abc/chat/completions?k=v"),
            "https://redacted.invalid/chat/completions");
}

TEST(ApiRequest, SecretEndpointAllowedByItsRouteOnly) {
  Verdict denied;
  denied.denial = Denial::Policy;
  denied.status = 403;
  denied.reason = "not in the allowlist";
  Verdict verdict = denied;
  allow_secret_target(route(false), verdict);
  EXPECT_EQ(verdict.denial, Denial::Policy);
  allow_secret_target(route(true), verdict);
  EXPECT_TRUE(verdict.allowed());
  EXPECT_EQ(verdict.route, Route::Origin);
  // Only the allowlist's denial: a credential in the path is still refused.
  Verdict credential = denied;
  credential.denial = Denial::Credential;
  allow_secret_target(route(true), credential);
  EXPECT_EQ(credential.denial, Denial::Credential);
}

}  // namespace
}  // namespace awf::proxy
