#!/usr/bin/env bash
# Builds awf's Debian package from one built binary, with dpkg-deb alone (no debhelper):
#   bash packaging/deb.sh ARCH BINARY VERSION OUTDIR
#     ARCH     Debian architecture of BINARY: amd64 or arm64
#     BINARY   the (stripped) awf executable for ARCH
#     VERSION  the package version, the one `BINARY --version` prints (CMakeLists.txt's)
#     OUTDIR   where to write awf_VERSION_ARCH.deb; the AppArmor profile is copied there too as
#              awf.apparmor, the release asset install.sh fetches and checks against checksums.txt
# The package holds /usr/bin/awf, its manual page and bash, zsh and fish completions (generated
# by awf itself: `awf man`, `awf completion SHELL`), the AppArmor profile /etc/apparmor.d/awf (a
# conffile; postinst loads it only where AppArmor mediates user namespaces) and a copyright
# file. Depends is what BINARY links, computed by dpkg-shlibdeps: nothing for a static binary.
# Environment:
#   AWF_HOST_BIN    an awf of the same version that runs on this machine, to generate the manual
#                   page and completions when BINARY cannot run here (another architecture).
#                   Default: BINARY itself, through qemu-aarch64-static for arm64 on another
#                   machine when that is installed.
#   AWF_MAINTAINER  the control file's Maintainer (default: a placeholder in the .invalid domain).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

die() { echo "deb.sh: $*" >&2; exit 1; }

(($# == 4)) || die "usage: deb.sh ARCH BINARY VERSION OUTDIR (got $# arguments)"
arch=$1 binary=$2 version=$3 outdir=$4
case $arch in
  amd64) machine="X86-64" ;;
  arm64) machine="AArch64" ;;
  *) die "ARCH '$arch' is not supported: amd64 or arm64" ;;
esac
[[ -f $binary && -x $binary ]] || die "BINARY '$binary' is not an executable file"
[[ $version =~ ^[0-9][A-Za-z0-9.+~]*$ ]] ||
  die "VERSION '$version' is not a Debian upstream version (digits first, then [A-Za-z0-9.+~])"
for tool in dpkg-deb dpkg-shlibdeps readelf gzip; do
  command -v "$tool" >/dev/null || die "$tool is missing (apt-get install dpkg-dev binutils gzip)"
done
header=$(readelf -h "$binary" 2>/dev/null) || die "BINARY '$binary' is not an ELF file"
[[ $header == *"Machine:"*"$machine"* ]] ||
  die "BINARY '$binary' is not a $machine executable, as ARCH $arch needs"

# The awf that generates the manual page and completions: one whose flag table is BINARY's.
generator() {
  if [[ -n ${AWF_HOST_BIN:-} ]]; then
    echo "$AWF_HOST_BIN"
  elif [[ $arch == "$(dpkg --print-architecture)" ]]; then
    echo "$binary"
  elif [[ $arch == arm64 ]] && command -v qemu-aarch64-static >/dev/null; then
    printf '%s\n' qemu-aarch64-static "$binary"
  else
    die "BINARY is for $arch and cannot run here: set AWF_HOST_BIN to an awf $version for" \
        "$(dpkg --print-architecture), or install qemu-user-static"
  fi
}
mapfile -t awf < <(generator)
said=$("${awf[@]}" --version) || die "'${awf[*]} --version' failed"
[[ $said == "awf $version "* ]] ||
  die "'${awf[*]} --version' says '$said', not awf $version: its manual and completions would" \
      "not match BINARY"

# What BINARY links, as Depends (dpkg-shlibdeps reads the libraries' shlibs/symbols files).
depends() {
  local dynamic work out
  dynamic=$(readelf -d "$binary")
  [[ $dynamic == *"(NEEDED)"* ]] || return 0
  work=$(mktemp -d)
  mkdir "$work/debian"
  printf 'Source: awf\n\nPackage: awf\nArchitecture: any\n' >"$work/debian/control"
  if ! out=$(cd "$work" && DEB_HOST_ARCH=$arch dpkg-shlibdeps -O -e "$(realpath "$binary")" \
               2>"$work/errors"); then
    cat "$work/errors" >&2
    rm -rf "$work"
    die "dpkg-shlibdeps could not tell what $binary needs (are its $arch libraries installed?)"
  fi
  rm -rf "$work"
  echo "${out#shlibs:Depends=}"
}
needs=$(depends)

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"
umask 022

install -D -m 0755 "$binary" "$root/usr/bin/awf"
# generate FILE WORDS...: FILE is what `awf WORDS...` prints.
generate() {
  local file=$1; shift
  install -d "$(dirname "$file")"
  "${awf[@]}" "$@" >"$file" 2>/dev/null ||
    die "'${awf[*]} $*' failed: that awf cannot generate it (set AWF_HOST_BIN to one that can)"
}
generate "$root/usr/share/man/man1/awf.1" man
gzip -9n "$root/usr/share/man/man1/awf.1"
generate "$root/usr/share/bash-completion/completions/awf" completion bash
generate "$root/usr/share/zsh/vendor-completions/_awf" completion zsh
generate "$root/usr/share/fish/vendor_completions.d/awf.fish" completion fish
install -D -m 0644 "$here/awf.apparmor" "$root/etc/apparmor.d/awf"
install -D -m 0644 /dev/stdin "$root/usr/share/doc/awf/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: awf
Comment: awf, the Agent Workflow Firewall, built from its source tree as one static binary.

Files: *
Copyright: the awf authors
License: see the project's source tree
EOF

install -d "$root/DEBIAN"
install -m 0755 "$here/debian/postinst" "$here/debian/postrm" "$root/DEBIAN/"
echo /etc/apparmor.d/awf >"$root/DEBIAN/conffiles"
{
  echo "Package: awf"
  echo "Version: $version"
  echo "Architecture: $arch"
  echo "Maintainer: ${AWF_MAINTAINER:-awf developers <awf@example.invalid>}"
  echo "Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)"
  [[ -z $needs ]] || echo "Depends: $needs"
  echo "Section: net"
  echo "Priority: optional"
  echo "Description: Agent Workflow Firewall: run a command with network access limited to" \
       "allowed domains"
  echo " awf runs a command, typically an AI coding agent, in namespaces whose only way out is"
  echo " awf's gateway: HTTP, HTTPS and DNS to the allowed domains pass, everything else is"
  echo " refused, and every decision is logged. It takes the command line of GitHub's"
  echo " gh-aw-firewall (AWF) and needs neither Docker nor root."
} >"$root/DEBIAN/control"

mkdir -p "$outdir"
deb="$outdir/awf_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
install -m 0644 "$here/awf.apparmor" "$outdir/awf.apparmor"
echo "deb.sh: $deb: $(stat -c %s "$deb") bytes${needs:+, Depends: $needs}"
