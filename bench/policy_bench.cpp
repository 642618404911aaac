// Policy engine micro-benchmarks (bench/README.md, workload 7): Policy::build and
// Policy::decide for 10, 1,000 and 100,000 allow rules, hits and misses.
//
// The rule sets look like real allowlists: mostly plain names ("svc-17.team-17.example3.com",
// which also allow their subdomains), one in ten a wildcard ("*.w17.example.org"), one in
// twenty limited to https ("https://api-17.example.net"), and a small blocklist.
// Lookups cycle through 4,096 prepared hosts so that caches see a realistic spread:
//   Hit:  a third exact rule names, a third subdomains of rule names, a third wildcard matches
//   Miss: names of the same shape under no rule (same suffixes, so the trie walk is not short)
#include <benchmark/benchmark.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "policy/policy.h"

namespace {

using awf::policy::Policy;
using awf::policy::Protocol;

constexpr std::size_t kHosts = 4096;

// A tiny deterministic generator (no <random> state differences between libstdc++ versions).
struct Lcg {
  std::uint64_t s;
  std::uint64_t next() {
    s = s * 6364136223846793005ULL + 1442695040888963407ULL;
    return s >> 33;
  }
};

// Concatenation by appends (GCC 12 warns falsely about `"literal" + std::string&&`).
template <typename... Parts>
std::string cat(const Parts&... parts) {
  std::string out;
  (out.append(parts), ...);
  return out;
}
std::string num(std::size_t i) { return std::to_string(i); }

std::string plain_rule(std::size_t i) {
  return cat("svc-", num(i), ".team-", num(i % 1000), ".example", num(i % 7), ".com");
}
std::string wildcard_rule(std::size_t i) { return cat("*.w", num(i), ".example.org"); }
std::string https_rule(std::size_t i) { return cat("https://api-", num(i), ".example.net"); }

enum class Kind { kPlain, kWildcard, kHttps };
Kind kind_of(std::size_t i) {
  if (i % 10 == 3) return Kind::kWildcard;
  if (i % 20 == 7) return Kind::kHttps;
  return Kind::kPlain;
}

struct RuleSet {
  std::vector<std::string> allow;
  std::vector<std::string> block;
};

RuleSet make_rules(std::size_t n) {
  RuleSet r;
  r.allow.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    switch (kind_of(i)) {
      case Kind::kPlain: r.allow.push_back(plain_rule(i)); break;
      case Kind::kWildcard: r.allow.push_back(wildcard_rule(i)); break;
      case Kind::kHttps: r.allow.push_back(https_rule(i)); break;
    }
  }
  for (std::size_t i = 0; i < 10; ++i) r.block.push_back(cat("blocked-", num(i), ".example.com"));
  return r;
}

std::vector<std::string> make_hits(std::size_t n) {
  std::vector<std::string> hosts;
  Lcg rng{n * 7919 + 1};
  while (hosts.size() < kHosts) {
    const std::size_t i = rng.next() % n;
    const int shape = static_cast<int>(hosts.size() % 3);
    switch (kind_of(i)) {
      case Kind::kPlain:
        hosts.push_back(shape == 1 ? cat("cdn.eu.", plain_rule(i)) : plain_rule(i));
        break;
      case Kind::kWildcard:
        hosts.push_back(cat("x", num(rng.next() % 100), ".w", num(i), ".example.org"));
        break;
      case Kind::kHttps:
        hosts.push_back(cat("api-", num(i), ".example.net"));
        break;
    }
  }
  return hosts;
}

std::vector<std::string> make_misses(std::size_t n) {
  std::vector<std::string> hosts;
  Lcg rng{n * 104729 + 3};
  while (hosts.size() < kHosts) {
    const std::size_t i = rng.next() % (n * 10 + 10);
    switch (hosts.size() % 4) {
      case 0: hosts.push_back(cat("svc-", num(i), ".team-x", num(i % 1000), ".example1.com")); break;
      case 1: hosts.push_back(cat("w", num(i + n), ".example.org")); break;
      case 2: hosts.push_back(cat("www.other-", num(i), ".example.net")); break;
      default: hosts.push_back(cat("registry-", num(i), ".npmjs.org")); break;
    }
  }
  return hosts;
}

const Policy& cached_policy(std::size_t n) {
  static std::map<std::size_t, std::unique_ptr<Policy>> cache;
  auto& slot = cache[n];
  if (!slot) {
    const RuleSet r = make_rules(n);
    slot = std::make_unique<Policy>(Policy::build(r.allow, r.block));
  }
  return *slot;
}

void BM_Build(benchmark::State& state) {
  const RuleSet r = make_rules(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    Policy p = Policy::build(r.allow, r.block);
    benchmark::DoNotOptimize(p);
  }
  state.counters["rules"] = static_cast<double>(r.allow.size());
}

void lookup(benchmark::State& state, const std::vector<std::string>& hosts, bool expect) {
  const Policy& policy = cached_policy(static_cast<std::size_t>(state.range(0)));
  // Sanity check outside the timed loop: the prepared hosts really are hits (or misses).
  std::size_t wrong = 0;
  for (const auto& h : hosts) wrong += policy.decide(h, Protocol::Https).allowed != expect;
  if (wrong != 0) {
    state.SkipWithError("prepared hosts do not decide as expected");
    return;
  }
  std::size_t k = 0;
  for (auto _ : state) {
    auto d = policy.decide(hosts[k], Protocol::Https);
    benchmark::DoNotOptimize(d);
    k = (k + 1) & (kHosts - 1);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_LookupHit(benchmark::State& state) {
  static std::map<std::int64_t, std::vector<std::string>> hosts;
  auto& h = hosts[state.range(0)];
  if (h.empty()) h = make_hits(static_cast<std::size_t>(state.range(0)));
  lookup(state, h, true);
}

void BM_LookupMiss(benchmark::State& state) {
  static std::map<std::int64_t, std::vector<std::string>> hosts;
  auto& h = hosts[state.range(0)];
  if (h.empty()) h = make_misses(static_cast<std::size_t>(state.range(0)));
  lookup(state, h, false);
}

}  // namespace

BENCHMARK(BM_Build)->Arg(10)->Arg(1000)->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LookupHit)->Arg(10)->Arg(1000)->Arg(100000)->Unit(benchmark::kNanosecond);
BENCHMARK(BM_LookupMiss)->Arg(10)->Arg(1000)->Arg(100000)->Unit(benchmark::kNanosecond);

BENCHMARK_MAIN();
