"""packaging/deb.sh on the binary under test: what the .deb holds, its control fields, and its
maintainer scripts, which load the AppArmor profile only where AppArmor mediates user
namespaces (run in a mount namespace of the test's own with a faked setting and stub tools, so
the machine's AppArmor is never touched). Installing the .deb into a fresh system is CI's
package check; this file needs neither dpkg -i nor the network."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import vnet as V

AWF = os.environ.get("AWF_BIN", V.DEFAULT_AWF_BIN)
ROOT = Path(__file__).resolve().parents[2]
DEB_SH = ROOT / "packaging" / "deb.sh"
ARCH = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.strip()

pytestmark = [
    pytest.mark.skipif(not os.access(AWF, os.X_OK), reason=f"no awf binary at {AWF}"),
    pytest.mark.skipif(shutil.which("dpkg-shlibdeps") is None, reason="dpkg-dev is not installed"),
    pytest.mark.skipif(ARCH not in ("amd64", "arm64"), reason=f"no awf package for {ARCH}"),
]


def _version() -> str:
    out = subprocess.run([AWF, "--version"], capture_output=True, text=True, check=True).stdout
    return out.split()[1]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The .deb of a stripped copy of the binary under test, and that package unpacked."""
    work = tmp_path_factory.mktemp("deb")
    binary = work / "awf"
    subprocess.run(["objcopy", "--strip-all", AWF, str(binary)], check=True)
    out = subprocess.run(["bash", str(DEB_SH), ARCH, str(binary), _version(), str(work / "dist")],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out
    deb = work / "dist" / f"awf_{_version()}_{ARCH}.deb"
    subprocess.run(["dpkg-deb", "-R", str(deb), str(work / "root")], check=True)
    return deb, work / "root", binary


def test_deb_holds_binary_manual_completions_profile_and_copyright(built):
    deb, root, binary = built
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True,
                             check=True).stdout
    paths = {line.split()[-1].lstrip(".") for line in listing.splitlines()}
    files = {"/usr/bin/awf", "/usr/share/man/man1/awf.1.gz",
             "/usr/share/bash-completion/completions/awf",
             "/usr/share/zsh/vendor-completions/_awf",
             "/usr/share/fish/vendor_completions.d/awf.fish", "/etc/apparmor.d/awf",
             "/usr/share/doc/awf/copyright"}
    assert files <= paths, files - paths
    assert all(line.split()[1] == "root/root" for line in listing.splitlines()), listing
    assert (root / "usr/bin/awf").read_bytes() == binary.read_bytes()
    assert os.stat(root / "usr/bin/awf").st_mode & 0o777 == 0o755
    assert gzip.decompress((root / "usr/share/man/man1/awf.1.gz").read_bytes()).startswith(
        b".TH AWF 1")
    assert (root / "etc/apparmor.d/awf").read_bytes() == (
        ROOT / "packaging/awf.apparmor").read_bytes()
    assert (root / "DEBIAN/conffiles").read_text() == "/etc/apparmor.d/awf\n"
    # The release also gets the profile as an asset for install.sh.
    assert (deb.parent / "awf.apparmor").read_bytes() == (
        ROOT / "packaging/awf.apparmor").read_bytes()
    subprocess.run(["bash", "-n", str(root / "usr/share/bash-completion/completions/awf")],
                   check=True)
    for shell, path in (("zsh", "usr/share/zsh/vendor-completions/_awf"),
                        ("fish", "usr/share/fish/vendor_completions.d/awf.fish")):
        if shutil.which(shell):
            subprocess.run([shell, "-n", str(root / path)], check=True)


def test_control_depends_on_what_the_binary_links(built):
    deb, _, binary = built
    fields = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True,
                            check=True).stdout
    assert f"Package: awf\nVersion: {_version()}\nArchitecture: {ARCH}\n" in fields, fields
    dynamic = subprocess.run(["readelf", "-d", str(binary)], capture_output=True, text=True,
                             check=True).stdout
    if "(NEEDED)" in dynamic:
        assert "Depends: libc6 (>= 2." in fields, fields
    else:
        assert "Depends:" not in fields, fields  # a static binary needs nothing


@pytest.mark.parametrize("args,message", [
    (["i386", "BIN", "0.1.0", "OUT"], "ARCH 'i386' is not supported"),
    (["OTHER", "BIN", "0.1.0", "OUT"], "is not a"),
    (["ARCH", "/nonexistent/awf", "0.1.0", "OUT"], "is not an executable file"),
    (["ARCH", "BIN", "1.0 beta", "OUT"], "is not a Debian upstream version"),
    (["ARCH", "BIN", "9.9.9", "OUT"], "not awf 9.9.9"),
    (["ARCH", "BIN"], "usage: deb.sh ARCH BINARY VERSION OUTDIR"),
], ids=["arch", "wrong-machine", "no-binary", "bad-version", "other-version", "usage"])
def test_bad_arguments_are_refused(built, tmp_path, args, message):
    other = "arm64" if ARCH == "amd64" else "amd64"
    words = {"ARCH": ARCH, "OTHER": other, "BIN": str(built[2]), "OUT": str(tmp_path)}
    r = subprocess.run(["bash", str(DEB_SH), *[words.get(a, a) for a in args]],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and message in r.stderr, r
    assert not list(tmp_path.glob("*.deb"))


def _maintainer_script(built, script: str, restricted: bool, aa_enabled: bool):
    """Runs SCRIPT of the package with the AppArmor user-namespace setting faked (or absent),
    aa-enabled answering AA_ENABLED, and apparmor_parser recording its arguments."""
    root = built[1]
    setup = f"""
        set -e
        mount -t tmpfs none /proc/sys/kernel
        {'echo 1 >/proc/sys/kernel/apparmor_restrict_unprivileged_userns' if restricted else ''}
        stub=$(mktemp -d)
        trap 'rm -rf $stub' EXIT
        printf '#!/bin/sh\\nexit {0 if aa_enabled else 1}\\n' >$stub/aa-enabled
        printf '#!/bin/sh\\necho "parser $*"\\n' >$stub/apparmor_parser
        chmod 755 $stub/*
        export PATH=$stub:/usr/bin:/bin
    """
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", "-c",
                           setup + script.format(root=root)], capture_output=True, text=True,
                          timeout=60)


def test_postinst_loads_the_profile_where_apparmor_mediates_userns(built):
    r = _maintainer_script(built, "sh {root}/DEBIAN/postinst configure", True, True)
    assert r.returncode == 0, r
    assert r.stdout == ("parser --replace --skip-read-cache --write-cache "
                        "/etc/apparmor.d/awf\n"), r


@pytest.mark.parametrize("restricted,aa_enabled", [(False, True), (True, False)],
                         ids=["no-userns-mediation", "apparmor-inactive"])
def test_postinst_leaves_apparmor_alone_elsewhere(built, restricted, aa_enabled):
    r = _maintainer_script(built, "sh {root}/DEBIAN/postinst configure", restricted, aa_enabled)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", ""), r


def test_postinst_survives_a_failing_parser(built):
    r = _maintainer_script(built, """
        printf '#!/bin/sh\\nexit 1\\n' >$stub/apparmor_parser
        sh {root}/DEBIAN/postinst configure
    """, True, True)
    assert r.returncode == 0, r
    assert "could not load the AppArmor profile /etc/apparmor.d/awf" in r.stderr, r


def test_postrm_never_fails(built):
    r = _maintainer_script(built, "sh {root}/DEBIAN/postrm remove", True, True)
    assert (r.returncode, r.stderr) == (0, ""), r


# The profile's `userns` rule needs AppArmor 4's parser (Ubuntu 24.04, Debian 13); Debian 12's
# 3.0 cannot read it. AWF_APPARMOR_PARSER and AWF_APPARMOR_BASE name another parser and its
# profile directory (abi/4.0, tunables/global), e.g. one built from AppArmor's source tree.
PARSER = os.environ.get("AWF_APPARMOR_PARSER", "apparmor_parser")
PARSER_BASE = os.environ.get("AWF_APPARMOR_BASE", "/etc/apparmor.d")


@pytest.mark.skipif(shutil.which(PARSER) is None or not os.path.exists(f"{PARSER_BASE}/abi/4.0"),
                    reason="needs AppArmor 4's apparmor_parser (abi/4.0)")
def test_apparmor_profile_compiles():
    profile = ROOT / "packaging" / "awf.apparmor"
    out = subprocess.run([PARSER, "--skip-kernel-load", "--skip-cache", "--stdout",
                          "--base", PARSER_BASE, "-I", PARSER_BASE, str(profile)],
                         capture_output=True, timeout=60)
    assert out.returncode == 0 and out.stdout, out
    broken = profile.read_text().replace("userns,", "usernss,")
    out = subprocess.run([PARSER, "--skip-kernel-load", "--skip-cache", "--base", PARSER_BASE,
                          "-I", PARSER_BASE], input=broken.encode(), capture_output=True,
                         timeout=60)
    assert out.returncode != 0, "the parser accepts anything: this check proves nothing"
