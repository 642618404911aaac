// libFuzzer target: policy-manifest.json parsing (`awf logs audit` reads it from a run's logs),
// and the manifest awf writes for arbitrary policies: it parses back, and every rule number an
// audit record can carry resolves to that rule.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "cli/audit_files.h"
#include "logs/manifest.h"
#include "policy/policy.h"

namespace {

void check(bool ok) {
  if (!ok) std::abort();
}

void check_written_manifest(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider fdp(data, size);
  std::vector<std::string> allow, block, exact;
  const auto count = fdp.ConsumeIntegralInRange<int>(0, 6);
  for (int i = 0; i < count; ++i) {
    const auto which = fdp.ConsumeIntegralInRange<int>(0, 2);
    std::string entry = fdp.ConsumeRandomLengthString(40);
    (which == 0 ? allow : which == 1 ? block : exact).push_back(std::move(entry));
  }
  awf::cli::ManifestFacts facts;
  facts.generated_ms = fdp.ConsumeIntegral<std::int64_t>();
  facts.dlp = fdp.ConsumeBool();
  facts.host_access = fdp.ConsumeBool();
  if (fdp.ConsumeBool()) facts.topology_peers.push_back(fdp.ConsumeRandomLengthString(16));
  facts.dns_servers = awf::cli::dns_server_list(fdp.ConsumeRemainingBytesAsString());
  awf::policy::Policy policy;
  try {
    policy = awf::policy::Policy::build(allow, block, exact);
  } catch (const awf::policy::PolicyError&) {
    return;
  }
  const auto manifest = awf::logs::parse_manifest(awf::cli::policy_manifest_json(policy, facts));
  check(manifest.has_value());
  for (const awf::policy::RuleInfo& rule : policy.rules()) {
    const awf::logs::ManifestRule* found = manifest->find(rule.id);
    check(found != nullptr && found->entry == rule.entry &&
          found->action == (rule.block ? "deny" : "allow") && found->domains.size() == 1);
  }
  // Evaluation order: 1, 2, 3, ... as listed.
  for (std::size_t i = 0; i < manifest->rules.size(); ++i) {
    check(manifest->rules[i].order == i + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto manifest = awf::logs::parse_manifest(text)) {
    for (const awf::logs::ManifestRule& rule : manifest->rules) {
      // Every number a rule carries finds a rule with that number (the first, when repeated).
      check(rule.rule == 0 ||
            (manifest->find(rule.rule) != nullptr && manifest->find(rule.rule)->rule == rule.rule));
    }
  }
  check_written_manifest(data, size);
  return 0;
}
