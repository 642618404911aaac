#include "proxy/bump_ca.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <thread>
#include <vector>

namespace awf::proxy {
namespace {

// Verifies `leaf` for `name` against the CA alone, as a client that trusts the run's CA does.
int verify(BumpAuthority& authority, X509* leaf, const std::string& name) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, authority.ca_certificate());
  X509_STORE_CTX* context = X509_STORE_CTX_new();
  X509_STORE_CTX_init(context, store, leaf, nullptr);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(context);
  X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
  if (X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str()) != 1) {
    X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
  }
  const int ok = X509_verify_cert(context);
  const int error = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(context);
  X509_STORE_CTX_free(context);
  X509_STORE_free(store);
  return error;
}

TEST(BumpAuthority, CaIsAOneDayP256Ca) {
  BumpAuthority authority;
  X509* ca = authority.ca_certificate();
  EXPECT_EQ(X509_check_ca(ca), 1);
  EXPECT_EQ(EVP_PKEY_get_base_id(X509_get0_pubkey(ca)), EVP_PKEY_EC);
  int days = 0;
  int seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(ca), X509_get0_notAfter(ca)), 1);
  EXPECT_LE(days * 86400 + seconds, 25 * 3600);
  EXPECT_NE(authority.ca_pem().find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_EQ(authority.ca_pem().find("PRIVATE KEY"), std::string::npos);
}

TEST(BumpAuthority, LeavesVerifyForTheirNameOnly) {
  BumpAuthority authority;
  X509* leaf = authority.leaf_for("github.com");
  EXPECT_EQ(verify(authority, leaf, "github.com"), X509_V_OK);
  EXPECT_EQ(verify(authority, leaf, "evil.test"), X509_V_ERR_HOSTNAME_MISMATCH);
  EXPECT_EQ(verify(authority, authority.leaf_for("203.0.113.10"), "203.0.113.10"), X509_V_OK);
  EXPECT_EQ(verify(authority, authority.leaf_for("2001:db8::1"), "2001:db8::1"), X509_V_OK);
  const std::string long_name = std::string(60, 'a') + "." + std::string(60, 'b') + ".test";
  EXPECT_EQ(verify(authority, authority.leaf_for(long_name), long_name), X509_V_OK);
  EXPECT_EQ(X509_check_private_key(leaf, authority.leaf_key()), 1);
  EXPECT_EQ(X509_check_ca(leaf), 0);
}

TEST(BumpAuthority, AnotherRunsCaIsNotTrusted) {
  BumpAuthority first;
  BumpAuthority second;
  EXPECT_NE(verify(first, second.leaf_for("github.com"), "github.com"), X509_V_OK);
}

TEST(BumpAuthority, LeavesAreCachedAcrossThreads) {
  BumpAuthority authority;
  std::vector<X509*> seen(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&, i] { seen[i] = authority.leaf_for("api.github.com"); });
  }
  for (std::thread& thread : threads) thread.join();
  for (X509* leaf : seen) EXPECT_EQ(leaf, seen[0]);
}

TEST(BumpAuthority, TrustStoreHoldsTheCaAsTrusted) {
  BumpAuthority authority;
  const std::string der = authority.trust_store_p12();
  const unsigned char* cursor = reinterpret_cast<const unsigned char*>(der.data());
  PKCS12* store = d2i_PKCS12(nullptr, &cursor, static_cast<long>(der.size()));
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(PKCS12_verify_mac(store, kTrustStorePassword, -1), 1);
  STACK_OF(PKCS7)* safes = PKCS12_unpack_authsafes(store);
  ASSERT_EQ(sk_PKCS7_num(safes), 1);
  STACK_OF(PKCS12_SAFEBAG)* bags = PKCS12_unpack_p7data(sk_PKCS7_value(safes, 0));
  ASSERT_EQ(sk_PKCS12_SAFEBAG_num(bags), 1);
  const PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags, 0);
  X509* cert = PKCS12_SAFEBAG_get1_cert(bag);
  EXPECT_EQ(X509_cmp(cert, authority.ca_certificate()), 0);
  ASN1_OBJECT* trusted = OBJ_txt2obj("2.16.840.1.113894.746875.1.1", 1);
  bool has_trust = false;
  const STACK_OF(X509_ATTRIBUTE)* attributes = PKCS12_SAFEBAG_get0_attrs(bag);
  for (int i = 0; i < sk_X509_ATTRIBUTE_num(attributes); ++i) {
    has_trust |=
        OBJ_cmp(X509_ATTRIBUTE_get0_object(sk_X509_ATTRIBUTE_value(attributes, i)), trusted) == 0;
  }
  EXPECT_TRUE(has_trust);
  ASN1_OBJECT_free(trusted);
  X509_free(cert);
  sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
  sk_PKCS7_pop_free(safes, PKCS7_free);
  PKCS12_free(store);
}

TEST(BumpAuthority, TrustStoreAddsTheSystemBundle) {
  BumpAuthority authority;
  BumpAuthority other;
  BumpAuthority third;
  const std::string bundle = other.ca_pem() + "# comment\n" + third.ca_pem();
  const std::string der = authority.trust_store_p12(bundle);
  const unsigned char* cursor = reinterpret_cast<const unsigned char*>(der.data());
  PKCS12* store = d2i_PKCS12(nullptr, &cursor, static_cast<long>(der.size()));
  ASSERT_NE(store, nullptr);
  STACK_OF(PKCS7)* safes = PKCS12_unpack_authsafes(store);
  STACK_OF(PKCS12_SAFEBAG)* bags = PKCS12_unpack_p7data(sk_PKCS7_value(safes, 0));
  EXPECT_EQ(sk_PKCS12_SAFEBAG_num(bags), 3);
  sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
  sk_PKCS7_pop_free(safes, PKCS7_free);
  PKCS12_free(store);
}

}  // namespace
}  // namespace awf::proxy
