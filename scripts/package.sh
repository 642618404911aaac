#!/usr/bin/env bash
# Builds awf's release artifacts into dist/ on Debian 12 (root, or a user with sudo):
#   awf-linux-x64, awf-linux-arm64    static-pie executables (AWF_PORTABLE), stripped
#   awf-linux-*.debug                 their debug information (gdb finds it by debuglink)
#   whatever packaging/deb.sh adds    (when that script exists)
#   checksums.txt                     SHA-256 of all of them: `cd dist && sha256sum -c checksums.txt`
# arm64 is cross-built with Debian's cross toolchain and :arm64 libraries (multiarch) and
# smoke-tested under qemu-user-static, unit tests included.
#   bash scripts/package.sh [--x64-only]
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { echo "usage: $0 [--x64-only]" >&2; exit 2; }
x64_only=false
case $# in
  0) ;;
  1) [[ $1 == --x64-only ]] || usage; x64_only=true ;;
  *) usage ;;
esac

readonly max_size=$((25 * 1024 * 1024))
# The unit tests of pure modules: no namespaces, no root, nothing qemu-user cannot run.
readonly arm64_tests=(awf_policy_tests awf_logs_tests awf_dns_tests awf_audit_tests awf_sandbox_tests)
version=$(sed -n 's/^project(awf VERSION \([0-9][0-9.]*\) .*/\1/p' CMakeLists.txt)
[[ -n $version ]] || { echo "package: no project(awf VERSION ...) in CMakeLists.txt" >&2; exit 1; }
start=$SECONDS

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# Installs what is missing (apt-get update at most once per call), like install-deps.sh.
install_packages() {
  local missing=() p
  for p in "$@"; do installed "$p" || missing+=("$p"); done
  ((${#missing[@]} == 0)) && return 0
  echo "package: installing ${missing[*]}"
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# The release build's libraries, as Debian ships them (ARCH suffix: "" or ":arm64").
library_packages() {
  local arch=$1 p
  for p in libc6-dev libstdc++-12-dev libboost1.81-dev libssl-dev libc-ares-dev libseccomp-dev \
           libcap-dev libidn2-dev libpsl-dev libunistring-dev libgtest-dev libgmock-dev; do
    echo "$p$arch"
  done
}

install_x64_needs() {
  install_packages build-essential cmake ninja-build ccache pkg-config binutils file \
    publicsuffix libcli11-dev nlohmann-json3-dev libyaml-cpp-dev $(library_packages "")
}

# Multiarch wants the :arm64 libraries at the very version of their x86-64 twins: installing
# them may upgrade those (a pending security update of libssl-dev, say).
install_arm64_needs() {
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    echo "package: adding the arm64 architecture to dpkg (multiarch)"
    $SUDO dpkg --add-architecture arm64
    $SUDO apt-get update -q
  fi
  install_packages g++-aarch64-linux-gnu binutils-aarch64-linux-gnu qemu-user-static \
    $(library_packages ":arm64")
}

# libyaml-cpp-dev is not co-installable across architectures (installing the arm64 one would
# remove the x86-64 one): its arm64 files are unpacked into the build tree instead.
unpack_arm64_yaml_cpp() {
  local root=$1 deb
  [[ -f $root/usr/lib/aarch64-linux-gnu/libyaml-cpp.a ]] && return 0
  mkdir -p "$root/debs"
  (cd "$root/debs" && apt-get download -q libyaml-cpp-dev:arm64 libyaml-cpp0.7:arm64)
  for deb in "$root"/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done
}

# Configures and builds one tree: build_tree DIR TARGETS... -- CMAKE_ARGS...
build_tree() {
  local dir=$1; shift
  local targets=()
  while [[ $1 != -- ]]; do targets+=("$1"); shift; done
  shift
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAWF_WERROR=ON \
    -DAWF_PORTABLE=ON "$@" >/dev/null
  nice -n 10 cmake --build "$dir" -j "$(nproc)" --target "${targets[@]}"
}

# dist/awf-linux-NAME and its .debug from a built binary: strip_into BINARY NAME TOOL_PREFIX
strip_into() {
  local binary=$1 name=$2 tools=$3
  "${tools}objcopy" --only-keep-debug --compress-debug-sections=zlib "$binary" "dist/$name.debug"
  "${tools}objcopy" --strip-all --add-gnu-debuglink="dist/$name.debug" "$binary" "dist/$name"
  chmod 0755 "dist/$name"
  chmod 0644 "dist/$name.debug"
}

# Fails unless dist/NAME is a static executable of the expected machine, within the size limit.
check_binary() {
  local name=$1 machine=$2 tools=$3 size needed kind
  size=$(stat -c %s "dist/$name")
  if ((size > max_size)); then
    echo "package: dist/$name is $size bytes, over the $max_size limit" >&2
    exit 1
  fi
  # Captured, not piped into grep -q: an early exit of grep would fail the pipeline instead.
  needed=$("${tools}objdump" -p "dist/$name" | grep NEEDED || true)
  if [[ -n $needed ]]; then
    echo "package: dist/$name needs shared libraries:" >&2
    echo "$needed" >&2
    exit 1
  fi
  kind=$(file -b "dist/$name")
  if [[ $kind != *"$machine"*"static-pie linked"* ]]; then
    echo "package: dist/$name is not a static-pie $machine executable: $kind" >&2
    exit 1
  fi
  echo "package: dist/$name: $size bytes, static-pie, no shared libraries"
}

# The binary answers as it should: RUN... is how to start it (qemu for arm64).
smoke_test() {
  local out rc
  out=$("$@" --version)
  [[ $out == "awf $version "* ]] || { echo "package: --version said '$out'" >&2; exit 1; }
  out=$("$@" --help)
  [[ $out == *--allow-domains* ]] || { echo "package: --help lacks --allow-domains" >&2; exit 1; }
  out=$("$@" policy explain --allow-domains github.com api.github.com)
  [[ $out == *"Verdict: ALLOWED"* ]] || {
    echo "package: policy explain did not allow api.github.com: $out" >&2; exit 1; }
  # The compiled-in public-suffix list: a whole public suffix is refused.
  rc=0
  out=$("$@" policy explain --allow-domains co.uk x.co.uk 2>&1) || rc=$?
  [[ $rc == 2 && $out == *"public suffix"* ]] || {
    echo "package: allowing co.uk was not refused as a public suffix (exit $rc): $out" >&2; exit 1; }
  echo "package: smoke test passed: $*"
}

install_x64_needs
rm -rf dist
mkdir -p dist

echo "package: building awf $version for x86-64"
# The release build's own tree (scripts/build.sh release: the same configuration), so the
# binary the test suite ran is the one shipped, and CI builds it once.
build_tree build awf --
strip_into build/src/cli/awf awf-linux-x64 ""
check_binary awf-linux-x64 x86-64 ""
smoke_test dist/awf-linux-x64

if $x64_only; then
  echo "package: --x64-only: skipping the arm64 build"
else
  install_arm64_needs
  yaml_root=$PWD/build-portable-arm64/yaml-cpp
  mkdir -p "$yaml_root"
  unpack_arm64_yaml_cpp "$yaml_root"
  echo "package: cross-building awf $version for arm64"
  build_tree build-portable-arm64 awf "${arm64_tests[@]}" -- \
    -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake \
    -Dyaml-cpp_DIR="$yaml_root/usr/lib/aarch64-linux-gnu/cmake/yaml-cpp" \
    -DAWF_YAML_CPP="$yaml_root/usr/lib/aarch64-linux-gnu/libyaml-cpp.a"
  strip_into build-portable-arm64/src/cli/awf awf-linux-arm64 aarch64-linux-gnu-
  check_binary awf-linux-arm64 "ARM aarch64" aarch64-linux-gnu-
  smoke_test qemu-aarch64-static dist/awf-linux-arm64
  for test in "${arm64_tests[@]}"; do
    echo "package: $test under qemu-aarch64"
    qemu-aarch64-static "build-portable-arm64/tests/unit/$test" --gtest_brief=1
  done
fi

if [[ -f packaging/deb.sh ]]; then
  bash packaging/deb.sh amd64 dist/awf-linux-x64 "$version" dist
  $x64_only || bash packaging/deb.sh arm64 dist/awf-linux-arm64 "$version" dist
fi

(cd dist && find . -maxdepth 1 -type f ! -name checksums.txt -printf '%P\n' | sort |
   xargs sha256sum >checksums.txt)
echo "package: dist/ written in $((SECONDS - start)) s:"
ls -l dist
