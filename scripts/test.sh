#!/usr/bin/env bash
# awf's whole test suite, for a fresh Debian 12 machine (run as root: the integration tests
# build network namespaces). Installs what it needs, then:
#   1. release build (the static-pie binary that ships): unit tests
#   2. the x64 package (scripts/package.sh --x64-only) and its checks on other systems: a
#      Debian 11 chroot, the .deb in a Debian 12 chroot, install.sh --rootless, awf from the
#      .deb in a Docker container (scripts/check-package.sh)
#   3. ASan/UBSan build: unit tests, then the integration tests of awf's parsers and proxies
#      (ASAN_TESTS below) against the sanitized binary
#   4. clang libFuzzer build: every fuzz target for FUZZ_SECONDS (default 10) on its corpus
#   5. every black-box integration test in the virtual internet, against the release binary
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fuzz_seconds=${FUZZ_SECONDS:-10}

# Under ASan: the files whose tests drive untrusted bytes through awf's own parsers and
# relays (HTTP, TLS, DNS, DoH, the API and CLI proxies, the Unix socket supervisor, config
# and log formats). The rest (namespaces, mounts, lifecycle, Docker peers) run against the
# release binary in step 5.
ASAN_TESTS=(
  test_http test_ssl_bump test_dns test_dns_denial test_dns_payload test_dns_rebinding test_doh
  test_api_proxy test_api_usage test_api_budgets test_api_rate_limits test_api_surface
  test_api_targets test_api_auto_cache
  test_cli_proxy test_gateway_extra test_tunnel_rules test_upstream_proxy test_streaming
  test_unix_sockets test_socket_sends test_battery test_egress test_config test_awf_formats
  test_logs_command test_bad_input test_blocked_attempts test_credentials test_gh_aw_replay
)

if [[ $(id -u) -ne 0 ]]; then
  echo "scripts/test.sh: run as root (sudo): the integration tests create network namespaces" >&2
  exit 1
fi

bash scripts/install-deps.sh

step() { printf '\n==== %s ==== (%ds)\n' "$*" "$SECONDS"; }

step "release build"
bash scripts/build.sh release
step "unit tests (release)"
ctest --test-dir build --output-on-failure -j "$(nproc)"

step "x64 package and its checks"
bash scripts/package.sh --x64-only
bash scripts/check-package.sh dist

step "ASan/UBSan build"
bash scripts/build.sh asan
step "unit tests (ASan/UBSan)"
ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan --output-on-failure -j "$(nproc)"

step "integration tests of the parsers and proxies (ASan/UBSan binary)"
asan_files=()
for name in "${ASAN_TESTS[@]}"; do asan_files+=("tests/integration/$name.py"); done
AWF_BIN=$root/build-asan/src/cli/awf ASAN_OPTIONS=detect_leaks=0 \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider "${asan_files[@]}"

step "fuzzing (${fuzz_seconds}s per target)"
bash scripts/build.sh fuzz
for target in build-fuzz/tests/fuzz/fuzz_*; do
  [[ -x $target ]] || continue
  name=$(basename "$target")
  corpus_seed=tests/fuzz/corpus/${name#fuzz_}
  work=$(mktemp -d)
  [[ -d $corpus_seed ]] && cp -r "$corpus_seed"/. "$work"/
  echo "-- $name"
  "$target" -max_total_time="$fuzz_seconds" -print_final_stats=0 "$work" 2>&1 | tail -n 2
  rm -rf "$work"
done

step "integration tests (release binary)"
AWF_BIN=$root/build/src/cli/awf /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration
step "done"
