#!/usr/bin/env bash
# awf's whole test suite, for a fresh Debian 12 machine (run as root: the integration tests
# build network namespaces). Installs what it needs, then:
#   1. release build: unit tests, then the black-box integration tests in the virtual internet
#   2. ASan/UBSan build: unit tests, then the integration tests against the sanitized binary
#   3. clang libFuzzer build: every fuzz target for FUZZ_SECONDS (default 20) on its corpus
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fuzz_seconds=${FUZZ_SECONDS:-20}

if [[ $(id -u) -ne 0 ]]; then
  echo "scripts/test.sh: run as root (sudo): the integration tests create network namespaces" >&2
  exit 1
fi

bash scripts/install-deps.sh

step() { printf '\n==== %s ====\n' "$*"; }

step "release build"
bash scripts/build.sh release
step "unit tests (release)"
ctest --test-dir build --output-on-failure -j "$(nproc)"

step "ASan/UBSan build"
bash scripts/build.sh asan
step "unit tests (ASan/UBSan)"
ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan --output-on-failure -j "$(nproc)"

step "integration tests (ASan/UBSan binary)"
AWF_BIN=$root/build-asan/src/cli/awf ASAN_OPTIONS=detect_leaks=0 \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration

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
