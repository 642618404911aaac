#!/usr/bin/env bash
# Checks a built dist/ directory (scripts/package.sh) as a user would meet it, on systems other
# than the build machine:
#   1. bullseye:   the x64 binary runs in a Debian 11 chroot (glibc 2.31)
#   2. deb:        the amd64 .deb installs with dpkg -i in a fresh Debian 12 chroot, and is removed
#   3. rootless:   install.sh --rootless --from DIST for a non-root user with an empty HOME
#   4. container:  awf from the .deb blocks and allows inside a Docker container
#                  (tests/package/test_container.py)
# Run as root, with debootstrap, docker.io, busybox-static and python3-pytest installed. The
# chroots come from debootstrap --variant=minbase on the Debian mirror the machine's apt sources
# already name (both suites side by side when neither is cached); each suite's root filesystem
# is cached as a tarball under AWF_CI_CACHE (default /var/cache/awf-ci), so a second run
# extracts instead of downloading (fresh: about 5 minutes; cached: about 1).
# Every check runs in a fresh copy and prints its time; the first failure stops the script with
# a line naming the check.
#
#   bash scripts/check-package.sh DIST [CHECK...]     (CHECK: bullseye deb rootless container)
set -Eeuo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${AWF_CI_CACHE:-/var/cache/awf-ci}
all_checks=(bullseye deb rootless container)

usage() {
  echo "usage: bash scripts/check-package.sh DIST [${all_checks[*]}]" >&2
  exit 2
}

fail() {  # exit 3: the ERR trap knows the failure has been named already
  printf 'check-package: FAILED %s: %s\n' "$current" "$*" >&2
  exit 3
}

current=setup
[[ $# -ge 1 ]] || usage
dist=$(cd "$1" 2>/dev/null && pwd) || { echo "check-package: DIST '$1' is not a directory (run scripts/package.sh first)" >&2; exit 2; }
shift
checks=("$@")
((${#checks[@]})) || checks=("${all_checks[@]}")
for c in "${checks[@]}"; do
  [[ " ${all_checks[*]} " == *" $c "* ]] || { echo "check-package: unknown check '$c' (one of: ${all_checks[*]})" >&2; exit 2; }
done
[[ $(id -u) -eq 0 ]] || { echo "check-package: run as root (chroots, dpkg -i, dockerd)" >&2; exit 1; }

scratch=$(mktemp -d /tmp/awf-pkgcheck.XXXXXX)
mounted=()
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[i]}" 2>/dev/null || true; done
  rm -rf --one-file-system "$scratch"
}
trap cleanup EXIT
# Whatever else stops the script under set -e still names the check it was in.
trap 'rc=$?; ((rc == 3)) || echo "check-package: FAILED $current: line $LINENO exited $rc" >&2' ERR

# ------------------------------------------------------------------------------ helpers
now_us() { echo "${EPOCHREALTIME/./}"; }
seconds_since() { local us=$(($(now_us) - $1)); printf '%d.%d s' $((us / 1000000)) $((us / 100000 % 10)); }

# The Debian mirror of the machine's own apt sources (deb822 .sources or one-line lists): the
# first Debian archive entry that is not the security archive.
debian_mirror() {
  local uri
  uri=$(awk '
    function take() {
      if (!done && uri ~ /debian/ && suites !~ /security/ && (keyring == "" || keyring ~ /debian-archive/)) {
        print uri; done = 1; exit
      }
    }
    FNR == 1 || NF == 0 { take(); uri = suites = keyring = "" }
    tolower($1) == "uris:" { uri = $2 }
    tolower($1) == "suites:" { suites = $0 }
    tolower($1) == "signed-by:" { keyring = $0 }
    END { take() }' /etc/apt/sources.list.d/*.sources 2>/dev/null)
  if [[ -z $uri && -f /etc/apt/sources.list ]]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ {
      for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
  fi
  [[ -n $uri ]] && echo "$uri"
}

# A cached minbase root filesystem of SUITE (plus INCLUDE packages) as a tarball path.
rootfs_tarball() {
  local suite=$1 include=$2
  local tarball=$cache/$suite-minbase${include:+-${include//,/-}}.tar.gz
  if [[ ! -s $tarball ]]; then
    command -v debootstrap >/dev/null || fail "debootstrap is missing (apt-get install debootstrap)"
    local mirror
    mirror=$(debian_mirror) || fail "no Debian mirror in /etc/apt/sources.list{,.d/*.sources} for debootstrap"
    mkdir -p "$cache"
    local dir=$scratch/bootstrap-$suite start
    start=$(now_us)
    echo "  debootstrap $suite (minbase${include:+ + $include}); cached as $tarball" >&2
    debootstrap --variant=minbase ${include:+--include=$include} "$suite" "$dir" "$mirror" \
      >"$scratch/debootstrap-$suite.log" 2>&1 ||
      { tail -n 20 "$scratch/debootstrap-$suite.log" >&2; fail "debootstrap $suite failed (log above)"; }
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
    tar -C "$dir" -czf "$tarball.part" --numeric-owner . && mv "$tarball.part" "$tarball"
    rm -rf --one-file-system "$dir"
    echo "  debootstrap $suite: $(seconds_since "$start")" >&2
  fi
  echo "$tarball"
}

# A fresh root filesystem of SUITE in $scratch/NAME, with /proc mounted (not in a subshell:
# the cleanup must know the mount). Sets $dir.
fresh_root() {
  local name=$1 suite=$2 include=$3 tarball
  tarball=$(rootfs_tarball "$suite" "$include")
  dir=$scratch/$name
  mkdir -p "$dir"
  tar -C "$dir" -xzf "$tarball" || fail "cannot extract $tarball (delete it to rebuild it)"
  mount -t proc proc "$dir/proc"
  mounted+=("$dir/proc")
}

in_root() {  # in_root DIR CMD...: CMD in the chroot with a clean environment
  local dir=$1
  shift
  chroot "$dir" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin LANG=C.UTF-8 "$@"
}

expect() {  # expect WHAT CMD...: run CMD, fail naming WHAT (with its output) unless it succeeds
  local what=$1 out
  shift
  out=$("$@" 2>&1) || fail "$what (exit $?): $(printf '%s' "$out" | tail -n 5)"
  printf '%s' "$out"
}

one_file() {  # one_file PATTERN WHAT: the single file of DIST matching PATTERN
  local matches
  mapfile -t matches < <(compgen -G "$dist/$1" || true)
  [[ ${#matches[@]} -eq 1 && -f ${matches[0]} ]] ||
    fail "expected one $2 in $dist ($1), found ${#matches[@]}: ${matches[*]##*/}"
  echo "${matches[0]}"
}

# Commands that must answer the same way everywhere the binary runs: --version, --help and a
# policy question (allowed: exit 0, denied: exit 1), which need no namespace and no network.
smoke_binary() {  # smoke_binary DIR AWF
  local dir=$1 awf=$2 out rc
  out=$(expect "$awf --version" in_root "$dir" "$awf" --version)
  [[ $out == "awf "[0-9]* ]] || fail "$awf --version printed '$out', not 'awf X.Y.Z ...'"
  echo "  $out"
  out=$(expect "$awf --help" in_root "$dir" "$awf" --help)
  [[ $out == *--allow-domains* ]] || fail "$awf --help does not list --allow-domains"
  expect "$awf policy explain (an allowed name)" \
    in_root "$dir" "$awf" policy explain --allow-domains allowed.test www.allowed.test >/dev/null
  rc=0
  in_root "$dir" "$awf" policy explain --allow-domains allowed.test blocked.test >/dev/null 2>&1 || rc=$?
  [[ $rc -eq 1 ]] || fail "$awf policy explain of a denied name exited $rc, not 1"
}

# ------------------------------------------------------------------------------ checks
check_bullseye() {
  local bin dir glibc
  bin=$(one_file awf-linux-x64 "x64 binary")
  fresh_root bullseye bullseye ""
  glibc=$(in_root "$dir" ldd --version | sed -n 1p)
  echo "  chroot: Debian $(cat "$dir/etc/debian_version"), ${glibc##* } glibc"
  install -m 0755 "$bin" "$dir/usr/local/bin/awf"
  smoke_binary "$dir" awf
}

check_deb() {
  local deb dir f status
  deb=$(one_file "awf_*_amd64.deb" "amd64 .deb")
  fresh_root deb bookworm "$bookworm_include"
  cp "$deb" "$dir/tmp/awf.deb"
  expect "dpkg -i ${deb##*/}" in_root "$dir" dpkg -i /tmp/awf.deb >/dev/null
  [[ $(in_root "$dir" sh -c 'command -v awf') == /usr/bin/awf ]] || fail "the .deb put no awf on PATH at /usr/bin/awf"
  smoke_binary "$dir" awf
  if in_root "$dir" sh -c 'command -v man' >/dev/null; then
    expect "man -w awf" in_root "$dir" man -w awf >/dev/null
  fi
  for f in "${deb_files[@]}"; do
    [[ -s $dir$f ]] || fail "the .deb does not install $f"
  done
  echo "  installed: /usr/bin/awf ${deb_files[*]}"
  expect "dpkg -r awf" in_root "$dir" dpkg -r awf >/dev/null
  for f in /usr/bin/awf "${deb_files[@]}"; do
    [[ $f == /etc/* || ! -e $dir$f ]] || fail "dpkg -r awf left $f behind"
  done
  expect "dpkg -P awf" in_root "$dir" dpkg -P awf >/dev/null
  # shellcheck disable=SC2016 # dpkg-query's format, not the shell's
  status=$(in_root "$dir" dpkg-query -W -f='${db:Status-Status}' awf 2>/dev/null || true)
  [[ -z $status || $status == not-installed ]] || fail "after dpkg -P, awf's status is '$status'"
  for f in "${deb_files[@]}"; do
    [[ ! -e $dir$f ]] || fail "dpkg -P awf left $f behind"
  done
}

check_rootless() {
  local dir user=awfci home=/home/awfci out
  [[ -f $root/install.sh ]] || fail "install.sh is missing at the repository root"
  fresh_root rootless bookworm "$bookworm_include"
  in_root "$dir" useradd --no-create-home --home-dir "$home" --shell /bin/bash "$user"
  install -d -m 0700 "$dir$home"
  in_root "$dir" chown "$user:$user" "$home"
  mkdir "$dir/tmp/dist" && cp -a "$dist"/. "$dir/tmp/dist/" && chmod -R a+rX "$dir/tmp/dist"
  cp "$root/install.sh" "$dir/tmp/install.sh"
  # shellcheck disable=SC2317 # called through expect
  as_user() { chroot --userspec="$user:$user" "$dir" /usr/bin/env -i HOME="$home" USER="$user" \
    PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 "$@"; }
  [[ -z $(ls -A "$dir$home") ]] || fail "the test user's HOME is not empty"
  out=$(expect "install.sh --rootless --from DIST as $user" as_user bash /tmp/install.sh --rootless --from /tmp/dist)
  printf '%s\n' "$out" | sed 's/^/  | /'
  out=$(expect "$home/.local/bin/awf --version" as_user "$home/.local/bin/awf" --version)
  [[ $out == "awf "[0-9]* ]] || fail "$home/.local/bin/awf --version printed '$out'"
  [[ $(in_root "$dir" stat -c %U "$home/.local/bin/awf") == "$user" ]] ||
    fail "$home/.local/bin/awf does not belong to $user"
  [[ ! -e $dir/usr/local/bin/awf && ! -e $dir/usr/bin/awf ]] || fail "--rootless installed outside HOME"
  echo "  $home/.local/bin/awf: $out"
}

check_container() {
  local tarball
  tarball=$(rootfs_tarball bookworm "$bookworm_include")
  AWF_DIST=$dist AWF_ROOTFS_TARBALL=$tarball \
    /usr/bin/python3 -m pytest -q -p no:cacheprovider -c "$root/tests/package/pytest.ini" \
    "$root/tests/package/test_container.py" 2>&1 | tee "$scratch/container.log" ||
    fail "tests/package/test_container.py failed (above)"
  # A skip here (no root, no Docker) would be a check that did not run.
  ! grep -q '[0-9] skipped' "$scratch/container.log" || fail "tests/package/test_container.py skipped tests (above)"
}

# ------------------------------------------------------------------------------ main
# One Debian 12 root filesystem serves the .deb, install.sh and the container image: curl is
# what the container test's command runs, ca-certificates what curl expects beside it.
bookworm_include=curl,ca-certificates
deb_files=(/usr/share/man/man1/awf.1.gz /usr/share/bash-completion/completions/awf
  /usr/share/zsh/vendor-completions/_awf /usr/share/fish/vendor_completions.d/awf.fish
  /etc/apparmor.d/awf)

wants() { [[ " ${checks[*]} " == *" $1 "* ]]; }

total_start=$(now_us)
# The root filesystems first, side by side on a fresh machine (one's downloads overlap the
# other's unpacking); each names its own failure. Cached, this takes no time.
current=chroots
pids=()
if wants bullseye; then rootfs_tarball bullseye "" >/dev/null & pids+=($!); fi
if wants deb || wants rootless || wants container; then
  rootfs_tarball bookworm "$bookworm_include" >/dev/null & pids+=($!)
fi
for pid in "${pids[@]}"; do wait "$pid"; done
echo "root filesystems ready ($(seconds_since "$total_start"))"

for current in "${checks[@]}"; do
  printf '==== check %s ====\n' "$current"
  start=$(now_us)
  "check_$current"
  echo "check $current: ok ($(seconds_since "$start"))"
done
current=all
echo "check-package: ${#checks[@]} checks passed in $(seconds_since "$total_start")"
