#!/usr/bin/env bash
# awf's benchmarks in one command (see bench/README.md). Run as root on Debian 12:
#   bash bench/run.sh            # full run: 5 repetitions, ~9 minutes (~11 with --awf-before)
#   QUICK=1 bash bench/run.sh    # smoke test: 1 repetition, short runs, small transfers
#   REPS=9 bash bench/run.sh     # more repetitions
#   bash bench/run.sh --awf-before /path/to/old/awf   # also measure an earlier awf, side by side
# Installs what it needs, builds awf (build/) and the bench tools (build-bench/), then runs
# bench/bench.py, which brings up the integration tests' virtual internet (two network
# namespaces), starts nginx, a DNS server, HAProxy, Squid and tinyproxy in it, runs every workload
# against direct / HAProxy / Squid / tinyproxy / (awf before) / awf, prints the table and writes
# bench/results/latest.json (QUICK=1: quick.json; with --awf-before: compare.json). Every packet
# stays on loopback or inside those namespaces; everything is removed on exit, even on failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [[ $(id -u) -ne 0 ]]; then
  echo "bench/run.sh: run as root (sudo): the benchmark builds network namespaces" >&2
  exit 1
fi

# Namespaces of a harness that was killed (SIGKILL) are removed here and on the way out.
cleanup() { /usr/bin/python3 "$root/bench/bench.py" cleanup-stale >/dev/null 2>&1 || true; }
trap cleanup EXIT

if [[ ${SKIP_INSTALL:-0} != 1 ]]; then
  bash scripts/install-deps.sh
fi

# awf itself (release build). Other people may be editing src/ right now: retry a few times.
if [[ ${SKIP_BUILD:-0} != 1 ]]; then
  for attempt in 1 2 3 4 5; do
    if bash scripts/build.sh release; then break; fi
    if [[ $attempt == 5 ]]; then echo "bench/run.sh: awf does not build" >&2; exit 1; fi
    echo "bench/run.sh: build failed (attempt $attempt), retrying in 30 s" >&2
    sleep 30
  done
  # The bench tools: their own tree, optimized, warnings not fatal (only two targets built).
  cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DAWF_BENCH=ON -DAWF_TESTS=OFF \
    -DAWF_WERROR=OFF >/dev/null
  cmake --build build-bench -j "$(nproc)" --target tunnel_rate policy_bench
fi

# NICE=-10: run the whole harness (servers, proxies, load generators) at a higher priority than
# background jobs on a shared machine; recorded in the results.
if [[ -n ${NICE:-} ]]; then
  nice -n "$NICE" /usr/bin/python3 bench/bench.py "$@"
else
  /usr/bin/python3 bench/bench.py "$@"
fi
