// libFuzzer target: policy-manifest.json parsing (`awf logs audit` reads it from a run's logs).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "logs/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto manifest = awf::logs::parse_manifest(text);
  if (!manifest) return 0;
  for (const awf::logs::ManifestRule& rule : manifest->rules) {
    if (rule.id == 0 || manifest->find(rule.id) == nullptr) std::abort();
  }
  return 0;
}
