#!/usr/bin/env bash
# Installs every Debian 12 package that awf's build, tests, demo and benchmarks need.
# Idempotent: packages already present are skipped, `apt-get update` runs at most once.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git clang-14 libclang-rt-14-dev llvm-14
  # libraries (DESIGN.md, "Dependencies")
  libboost1.81-dev libssl-dev libc-ares-dev libseccomp-dev libcap-dev
  libcli11-dev nlohmann-json3-dev libyaml-cpp-dev libidn2-dev libunistring-dev libpsl-dev publicsuffix
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  # integration tests, demo: the virtual internet and its clients
  iproute2 curl dnsutils openssl python3 python3-pytest procps psmisc util-linux netcat-openbsd
  iputils-ping
  zsh fish shellcheck  # completions checked in the real shells; install.sh linted
  # the GitHub CLI proxy tests (--difc-proxy-host): the real gh as the executor runs it
  gh
  # topology peer tests (--topology-attach): a private dockerd in the vnet, a busybox image
  # imported from the static binary (nothing is pulled)
  docker.io busybox-static
  # the package checks (scripts/check-package.sh): Debian 11 and 12 chroots
  debootstrap
  # clients that must trust --ssl-bump's CA without flags (Java is tested when present)
  nodejs
  # benchmarks
  squid tinyproxy haproxy nginx wrk hyperfine linux-perf
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"

# Benchmark servers must not run as system services: bench/ starts its own instances. Nor
# Docker: the topology tests start their own dockerd in the vnet (a system one would own
# /var/run/docker.sock and the default bridge).
for svc in squid tinyproxy haproxy nginx docker docker.socket containerd; do
  $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true
done
