#include "proxy/bump_ca.h"

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <stdexcept>

namespace awf::proxy {

void X509Free::operator()(X509* x) const {
  X509_free(x);
}
void KeyFree::operator()(EVP_PKEY* k) const {
  EVP_PKEY_free(k);
}

namespace {

constexpr long kValidity = 24 * 60 * 60;  // one day: the CA outlives no run by much
constexpr long kBackdate = 60 * 60;       // clocks in the sandbox equal awf's, but origins' not

void check(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("--ssl-bump: OpenSSL failed to ") + what);
}

KeyPtr new_key() {
  KeyPtr key(EVP_EC_gen("P-256"));
  check(key != nullptr, "generate a P-256 key");
  return key;
}

void set_random_serial(X509* cert) {
  std::unique_ptr<BIGNUM, decltype(&BN_free)> serial(BN_new(), &BN_free);
  check(serial && BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) == 1 &&
            BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert)) != nullptr,
        "make a serial number");
}

void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
  check(extension != nullptr, "make a certificate extension");
  const int added = X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
  check(added == 1, "add a certificate extension");
}

bool is_ip_literal(const std::string& name) {
  ASN1_OCTET_STRING* address = a2i_IPADDRESS(name.c_str());
  ASN1_OCTET_STRING_free(address);
  return address != nullptr;
}

std::string pem_of(X509* cert) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  check(bio && PEM_write_bio_X509(bio.get(), cert) == 1, "encode the CA certificate");
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace

BumpAuthority::BumpAuthority() : ca_key_(new_key()), leaf_key_(new_key()), ca_(X509_new()) {
  check(ca_ != nullptr, "allocate a certificate");
  X509* ca = ca_.get();
  check(X509_set_version(ca, 2) == 1, "set the certificate version");
  set_random_serial(ca);
  X509_gmtime_adj(X509_getm_notBefore(ca), -kBackdate);
  X509_gmtime_adj(X509_getm_notAfter(ca), kValidity);
  X509_NAME* name = X509_get_subject_name(ca);
  const std::string common_name = "awf run CA (pid " + std::to_string(getpid()) + ")";
  check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                   reinterpret_cast<const unsigned char*>("awf"), -1, -1, 0) == 1 &&
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                       reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                       -1, -1, 0) == 1 &&
            X509_set_issuer_name(ca, name) == 1 && X509_set_pubkey(ca, ca_key_.get()) == 1,
        "name the CA");
  // pathlen:0: the run's CA signs leaves only, never another CA.
  add_extension(ca, ca, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_extension(ca, ca, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_extension(ca, ca, NID_subject_key_identifier, "hash");
  check(X509_sign(ca, ca_key_.get(), EVP_sha256()) > 0, "sign the CA certificate");
  ca_pem_ = pem_of(ca);
}

X509* BumpAuthority::leaf_for(const std::string& name) {
  const std::lock_guard lock(mutex_);
  if (auto found = leaves_.find(name); found != leaves_.end()) return found->second.get();
  X509Ptr leaf(X509_new());
  check(leaf != nullptr, "allocate a certificate");
  X509* cert = leaf.get();
  check(X509_set_version(cert, 2) == 1, "set the certificate version");
  set_random_serial(cert);
  check(X509_set1_notBefore(cert, X509_get0_notBefore(ca_.get())) == 1 &&
            X509_set1_notAfter(cert, X509_get0_notAfter(ca_.get())) == 1,
        "set the validity");
  X509_NAME* subject = X509_get_subject_name(cert);
  if (name.size() <= 64) {  // the CN's limit; the SAN is what clients check
    check(X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1,
                                     0) == 1,
          "name the leaf");
  }
  check(X509_set_issuer_name(cert, X509_get_subject_name(ca_.get())) == 1 &&
            X509_set_pubkey(cert, leaf_key_.get()) == 1,
        "set the leaf's issuer and key");
  add_extension(cert, ca_.get(), NID_subject_alt_name,
                (is_ip_literal(name) ? "IP:" : "DNS:") + name);
  add_extension(cert, ca_.get(), NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert, ca_.get(), NID_key_usage, "critical,digitalSignature");
  add_extension(cert, ca_.get(), NID_ext_key_usage, "serverAuth");
  add_extension(cert, ca_.get(), NID_authority_key_identifier, "keyid:always");
  check(X509_sign(cert, ca_key_.get(), EVP_sha256()) > 0, "sign a leaf certificate");
  return leaves_.emplace(name, std::move(leaf)).first->second.get();
}

namespace {

// A certificate bag with Oracle's "trusted key usage" attribute (anyExtendedKeyUsage): without
// it Java's PKCS12 KeyStore shows the certificate but does not trust it.
bool add_trusted_bag(STACK_OF(PKCS12_SAFEBAG) * bags, X509* cert, const std::string& alias) {
  PKCS12_SAFEBAG* bag = PKCS12_SAFEBAG_create_cert(cert);
  if (bag == nullptr) return false;
  ASN1_OBJECT* any_usage = OBJ_txt2obj("2.5.29.37.0", 1);
  const bool ok =
      any_usage != nullptr && PKCS12_add_friendlyname_asc(bag, alias.c_str(), -1) == 1 &&
      PKCS12_add1_attr_by_txt(bag, "2.16.840.1.113894.746875.1.1", V_ASN1_OBJECT,
                              reinterpret_cast<const unsigned char*>(any_usage), -1) == 1 &&
      sk_PKCS12_SAFEBAG_push(bags, bag) > 0;
  ASN1_OBJECT_free(any_usage);
  if (!ok) PKCS12_SAFEBAG_free(bag);
  return ok;
}

}  // namespace

std::string BumpAuthority::trust_store_p12(std::string_view system_pem) const {
  STACK_OF(PKCS12_SAFEBAG)* bags = sk_PKCS12_SAFEBAG_new_null();
  bool ok = bags != nullptr && add_trusted_bag(bags, ca_.get(), "awf-run-ca");
  if (ok && !system_pem.empty()) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(system_pem.data(), static_cast<int>(system_pem.size())), &BIO_free);
    int index = 0;
    while (ok && bio) {
      X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
      if (!cert) break;
      ok = add_trusted_bag(bags, cert.get(), "system-" + std::to_string(index++));
    }
    ERR_clear_error();  // the end of the bundle reads as an error
  }
  if (!ok) {
    sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    check(false, "make the trust store");
  }
  PKCS7* safe = PKCS12_pack_p7data(bags);
  sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
  check(safe != nullptr, "pack the trust store");
  STACK_OF(PKCS7)* safes = sk_PKCS7_new_null();
  if (safes == nullptr || sk_PKCS7_push(safes, safe) == 0) {
    PKCS7_free(safe);
    sk_PKCS7_free(safes);
    check(false, "pack the trust store");
  }
  PKCS12* store = PKCS12_add_safes(safes, 0);
  sk_PKCS7_pop_free(safes, PKCS7_free);
  check(store != nullptr, "build the trust store");
  // SHA-1 MAC: every Java since 8 reads it (the password protects nothing secret).
  const bool sealed =
      PKCS12_set_mac(store, kTrustStorePassword, -1, nullptr, 0, 2048, EVP_sha1()) == 1;
  unsigned char* der = nullptr;
  const int size = sealed ? i2d_PKCS12(store, &der) : -1;
  PKCS12_free(store);
  check(size > 0, "encode the trust store");
  std::string bytes(reinterpret_cast<char*>(der), static_cast<std::size_t>(size));
  OPENSSL_free(der);
  return bytes;
}

}  // namespace awf::proxy
