#!/usr/bin/env bash
# Configures and builds one awf build tree.
#   scripts/build.sh release   -> build/        (RelWithDebInfo, -Werror, one static-pie
#                                               executable: what scripts/package.sh ships)
#   scripts/build.sh asan      -> build-asan/   (Debug, AddressSanitizer + UBSan)
#   scripts/build.sh fuzz      -> build-fuzz/   (clang-14 libFuzzer targets)
set -euo pipefail
cd "$(dirname "$0")/.."
flavor=${1:-release}
jobs=$(nproc)
case "$flavor" in
  release) dir=build; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DAWF_PORTABLE=ON) ;;
  asan) dir=build-asan; args=(-DCMAKE_BUILD_TYPE=Debug -DAWF_SANITIZE=ON) ;;
  fuzz) dir=build-fuzz; args=(-DCMAKE_CXX_COMPILER=clang++-14
                              -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAWF_FUZZ=ON -DAWF_TESTS=OFF) ;;
  *) echo "usage: $0 release|asan|fuzz" >&2; exit 2 ;;
esac
cmake -S . -B "$dir" -G Ninja -DAWF_WERROR=ON "${args[@]}" >/dev/null
if [[ $flavor == fuzz ]]; then
  cmake --build "$dir" -j "$jobs" --target $(sed -n 's/^fuzz_\(.*\)\.cpp$/fuzz_\1/p' <(ls tests/fuzz))
else
  cmake --build "$dir" -j "$jobs"
fi
