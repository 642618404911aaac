// --ssl-bump: the run's certificate authority. An ECDSA P-256 key and a self-signed CA
// certificate valid for one day, made at start and held only in awf's memory (the key is never
// written anywhere), and leaf certificates minted per name on first use. OpenSSL, no sockets.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace awf::proxy {

struct X509Free {
  void operator()(X509* x) const;
};
struct KeyFree {
  void operator()(EVP_PKEY* k) const;
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;

class BumpAuthority {
 public:
  // Throws std::runtime_error when OpenSSL fails.
  BumpAuthority();

  // The CA certificate (PEM) the sandbox trusts.
  const std::string& ca_pem() const { return ca_pem_; }
  // A PKCS#12 trust store holding the CA certificate and every certificate of `system_pem`
  // (the host's CA bundle) as trusted entries (the attribute Java's KeyStore needs), with the
  // password kTrustStorePassword (a trust store holds no secret). It replaces a JVM's own
  // cacerts, so the origins awf does not intercept must still verify.
  std::string trust_store_p12(std::string_view system_pem = {}) const;

  // The leaf certificate for `name` (a normalized host name or an IP literal), minted once
  // and cached; signed by the CA, with `name` as its only subject alternative name. Safe to
  // call from several threads. The returned pointer lives as long as the authority.
  X509* leaf_for(const std::string& name);
  // The one key of every leaf.
  EVP_PKEY* leaf_key() const { return leaf_key_.get(); }
  X509* ca_certificate() const { return ca_.get(); }

 private:
  KeyPtr ca_key_;
  KeyPtr leaf_key_;
  X509Ptr ca_;
  std::string ca_pem_;
  std::mutex mutex_;
  std::unordered_map<std::string, X509Ptr> leaves_;
};

inline constexpr char kTrustStorePassword[] = "changeit";

}  // namespace awf::proxy
