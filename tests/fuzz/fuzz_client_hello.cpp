// libFuzzer target: TLS ClientHello parsing on arbitrary client bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "proxy/client_hello.h"

using awf::tls::HelloStatus;

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> bytes(data, size);
  const auto full = awf::tls::parse_client_hello(bytes);
  if (full.status == HelloStatus::Complete) {
    if (full.has_sni) {
      check(!full.sni.empty() && full.sni.size() <= 255);
      for (char c : full.sni) {
        const auto u = static_cast<unsigned char>(c);
        check(u > 0x20 && u < 0x7f);
      }
    } else {
      check(full.sni.empty());
    }
    for (const auto& p : full.alpn) check(!p.empty() && p.size() <= 255);
  } else {
    check(!full.has_sni && full.sni.empty() && full.alpn.empty());
  }

  // More bytes never change a final verdict: a prefix that is already decided gives the
  // same answer as the whole input; an undecided prefix never claims Complete early.
  const auto half = awf::tls::parse_client_hello(bytes.first(size / 2));
  if (half.status != HelloStatus::NeedMore) {
    check(half.status == full.status);
    if (half.status == HelloStatus::Complete) {
      check(half.sni == full.sni && half.has_sni == full.has_sni && half.alpn == full.alpn &&
            half.legacy_version == full.legacy_version);
    }
  }
  return 0;
}
