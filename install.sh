#!/usr/bin/env bash
# Installs an awf release binary, checked against the release's checksums.txt:
#   install.sh [--version V] [--rootless] [--from DIR|URL]
#     --version V   the release to install (v0.1.0 or 0.1.0; default: the latest). The installed
#                   binary must say it is that version.
#     --rootless    install to ~/.local/bin/awf as the current user (default: /usr/local/bin/awf,
#                   which needs root)
#     --from SRC    take the release's files from a directory (scripts/package.sh's dist/) or a
#                   base URL (http:// or https://, fetched with curl or wget) instead of GitHub
# The files used: awf-linux-x64 or awf-linux-arm64 (by `uname -m`), checksums.txt (sha256sum
# format) and, where needed, awf.apparmor. As root, where AppArmor restricts unprivileged user
# namespaces (Ubuntu 23.10 and later), that profile is installed as /etc/apparmor.d/awf and loaded
# so that /usr/local/bin/awf may build its sandbox; without root the script says what to do.
# In one line: curl -fsSL https://raw.githubusercontent.com/$AWF_REPO/main/install.sh | sudo bash
#   (arguments after `bash -s --`).
# Environment:
#   AWF_REPO   the GitHub repository (owner/name) whose releases are the default source. The
#              value below is a placeholder until the project's repository is public.
set -euo pipefail

AWF_REPO=${AWF_REPO:-OWNER/awf}

readonly usage="usage: install.sh [--version V] [--rootless] [--from DIR|URL]"
readonly userns_sysctl=/proc/sys/kernel/apparmor_restrict_unprivileged_userns

die() {
  echo "install.sh: $*" >&2
  exit 1
}

version="" rootless=false from=""
while (($# > 0)); do
  case $1 in
    --version | --from)
      if (($# < 2)) || [[ -z $2 || $2 == --* ]]; then die "$1 needs a value ($usage)"; fi
      if [[ $1 == --version ]]; then version=$2; else from=$2; fi
      shift 2
      ;;
    --version=* | --from=*)
      [[ -n ${1#*=} ]] || die "${1%%=*} needs a value ($usage)"
      if [[ $1 == --version=* ]]; then version=${1#*=}; else from=${1#*=}; fi
      shift
      ;;
    --rootless) rootless=true; shift ;;
    -h | --help)
      cat <<EOF
$usage
Installs awf to /usr/local/bin (root) or ~/.local/bin (--rootless), checked against the
release's checksums.txt, with awf's AppArmor profile where AppArmor restricts user namespaces.
  --version V   the release (v0.1.0 or 0.1.0; default: the latest)
  --rootless    install to ~/.local/bin as the current user, without root
  --from SRC    a directory or http(s) base URL holding the release's files
                (default: https://github.com/$AWF_REPO/releases)
EOF
      exit 0
      ;;
    *) die "unknown option '$1' ($usage)" ;;
  esac
done
if [[ -n $version && ! $version =~ ^v?[0-9][A-Za-z0-9.+~-]*$ ]]; then
  die "--version '$version' is not a release version such as v0.1.0"
fi
version=${version#v}

machine=$(uname -m)
case $machine in
  x86_64 | amd64) asset=awf-linux-x64 ;;
  aarch64 | arm64) asset=awf-linux-arm64 ;;
  *) die "unsupported architecture '$machine': awf releases are built for x86_64 and aarch64" ;;
esac

if $rootless; then
  [[ -n ${HOME:-} ]] || die "--rootless installs to ~/.local/bin, but HOME is not set"
  bindir=$HOME/.local/bin
elif (($(id -u) != 0)); then
  die "installing to /usr/local/bin needs root: run it with sudo, or add --rootless to install" \
      "to ~/.local/bin for this user"
else
  bindir=/usr/local/bin
fi

# Where the release's files come from: a directory, or a base URL.
if [[ -z $from ]]; then
  if [[ -n $version ]]; then
    from="https://github.com/$AWF_REPO/releases/download/v$version"
  else
    from="https://github.com/$AWF_REPO/releases/latest/download"
  fi
fi
if [[ $from =~ ^https?:// ]]; then
  if command -v curl >/dev/null; then
    downloader=curl
  elif command -v wget >/dev/null; then
    downloader=wget
  else
    die "downloading from $from needs curl or wget; install one, or use --from DIR"
  fi
elif [[ ! -d $from ]]; then
  die "--from '$from' is neither a directory nor an http(s) URL"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# fetch NAME: the release's file NAME into $work/NAME.
fetch() {
  local name=$1
  if [[ $from =~ ^https?:// ]]; then
    local url=${from%/}/$name
    if [[ $downloader == curl ]]; then
      curl -fsSL --retry 3 -o "$work/$name" "$url" || die "download of $url failed (curl)"
    else
      wget -q --tries=3 -O "$work/$name" "$url" || die "download of $url failed (wget)"
    fi
  else
    [[ -f $from/$name ]] || die "$from has no $name"
    cp "$from/$name" "$work/$name"
  fi
}

# verify NAME: refuses a file whose SHA-256 is not the one checksums.txt gives for it.
verify() {
  local name=$1 want got
  want=$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1; exit }' "$work/checksums.txt")
  [[ -n $want ]] || die "checksums.txt has no entry for $name: refusing to install an unverified file"
  got=$(sha256sum "$work/$name" | cut -d' ' -f1)
  [[ $got == "$want" ]] ||
    die "checksum mismatch for $name: checksums.txt says $want, the file is $got; refusing to install"
}

# Whether awf, installed at $bindir, needs the AppArmor profile to create user namespaces.
userns_restricted() {
  [[ -r $userns_sysctl && $(cat "$userns_sysctl") == 1 ]]
}

fetch checksums.txt
fetch "$asset"
verify "$asset"
chmod 0755 "$work/$asset"
said=$("$work/$asset" --version) || die "the downloaded $asset does not run on this machine"
if [[ -n $version && $said != "awf $version "* ]]; then
  die "asked for version $version, but the release's binary says '$said'"
fi
profile=false
if userns_restricted && ! $rootless; then
  command -v apparmor_parser >/dev/null ||
    die "AppArmor restricts user namespaces here, but apparmor_parser is missing to load awf's" \
        "profile: install the apparmor package and run install.sh again"
  fetch awf.apparmor
  verify awf.apparmor
  profile=true
fi

mkdir -p "$bindir"
# Written beside the target and renamed over it: a running awf keeps its file, no half copy.
install -m 0755 "$work/$asset" "$bindir/.awf.new"
mv -f "$bindir/.awf.new" "$bindir/awf"
echo "install.sh: installed $bindir/awf"

if $profile; then
  install -D -m 0644 "$work/awf.apparmor" /etc/apparmor.d/awf
  apparmor_parser --replace --skip-read-cache --write-cache /etc/apparmor.d/awf ||
    die "could not load /etc/apparmor.d/awf (awf is installed but may be refused user" \
        "namespaces); as root: apparmor_parser -r /etc/apparmor.d/awf"
  echo "install.sh: loaded the AppArmor profile /etc/apparmor.d/awf (lets $bindir/awf create" \
       "user namespaces)"
elif userns_restricted; then
  echo "install.sh: AppArmor restricts unprivileged user namespaces here ($userns_sysctl = 1)," \
       "so $bindir/awf cannot build its sandbox. Either install as root (sudo bash install.sh)," \
       "which adds an AppArmor profile for /usr/local/bin/awf, or lift the restriction:" \
       "sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0" >&2
fi
if [[ ":$PATH:" != *":$bindir:"* ]]; then
  echo "install.sh: $bindir is not on PATH; add it: export PATH=\"$bindir:\$PATH\"" >&2
fi
"$bindir/awf" --version
