#include "policy/public_suffix.h"

#include <cstddef>
#include <cstdio>
#include <stdexcept>

namespace awf::policy {

// Generated from AWF_PUBLIC_SUFFIX_DAFSA by cmake/embed_file.cmake.
extern const unsigned char kPublicSuffixDafsa[];
extern const std::size_t kPublicSuffixDafsa_size;

namespace {

psl_ctx_t* load_embedded() {
  // fmemopen only reads the buffer: the const_cast does not let anything write to it.
  FILE* stream = fmemopen(const_cast<unsigned char*>(kPublicSuffixDafsa),
                          kPublicSuffixDafsa_size, "r");
  if (stream == nullptr) throw std::runtime_error("public-suffix list: fmemopen failed");
  psl_ctx_t* psl = psl_load_fp(stream);
  std::fclose(stream);
  if (psl == nullptr) {
    throw std::runtime_error("public-suffix list: libpsl rejected the embedded list");
  }
  return psl;
}

}  // namespace

const psl_ctx_t* public_suffixes() {
  // Loaded once (thread-safe static) and never freed: every later lookup shares it.
  static const psl_ctx_t* const psl = load_embedded();
  return psl;
}

}  // namespace awf::policy
