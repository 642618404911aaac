"""install.sh and action.yml against a release made here: the binary under test as
awf-linux-<arch>, packaging/awf.apparmor and their checksums.txt, served from a directory or from
an HTTP server on 127.0.0.1 (nothing else is reached). Installs as root happen in a private mount
namespace whose /usr/local/bin, /etc/apparmor.d and /proc/sys/kernel are fresh tmpfs, so the
machine's own are never touched; the AppArmor setting is faked there and apparmor_parser is a
stub that records its arguments."""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import platform
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path

import pytest

import vnet as V

AWF = os.environ.get("AWF_BIN", V.DEFAULT_AWF_BIN)
ROOT = Path(__file__).resolve().parents[2]
INSTALL = ROOT / "install.sh"
PROFILE = ROOT / "packaging" / "awf.apparmor"
ASSET = {"x86_64": "awf-linux-x64", "aarch64": "awf-linux-arm64"}.get(platform.machine())
SYSCTL = "/proc/sys/kernel/apparmor_restrict_unprivileged_userns"

pytestmark = [
    pytest.mark.skipif(not os.access(AWF, os.X_OK), reason=f"no awf binary at {AWF}"),
    pytest.mark.skipif(ASSET is None, reason=f"no awf release for {platform.machine()}"),
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (runuser, mount namespaces)"),
]


def _version() -> str:
    out = subprocess.run([AWF, "--version"], capture_output=True, text=True, check=True).stdout
    return out.split()[1]


def _world_dir(prefix: str) -> Path:
    """A directory the user nobody can read (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    path.chmod(0o755)
    return path


@pytest.fixture(scope="module")
def binary():
    """The binary under test without its debug information, as a release ships it (and a
    tenth of the bytes to copy and hash)."""
    path = _world_dir("awf-stripped-")
    subprocess.run(["objcopy", "--strip-all", AWF, str(path / "awf")], check=True)
    yield path / "awf"
    shutil.rmtree(path)


@pytest.fixture
def release(binary):
    """A release directory: the binary, the AppArmor profile and checksums.txt."""
    path = _world_dir("awf-release-")
    shutil.copy(binary, path / ASSET)
    shutil.copy(PROFILE, path / "awf.apparmor")
    _write_checksums(path, [ASSET, "awf.apparmor"])
    yield path
    shutil.rmtree(path)


def _write_checksums(path: Path, names: list[str]):
    lines = [f"{hashlib.sha256((path / n).read_bytes()).hexdigest()}  {n}\n" for n in names]
    (path / "checksums.txt").write_text("".join(lines))


@pytest.fixture
def home():
    """An empty home directory owned by nobody."""
    path = _world_dir("awf-home-")
    os.chown(path, 65534, 65534)
    yield path
    shutil.rmtree(path)


def _as_nobody(home: Path, *args: str, path: str = "/usr/bin:/bin"):
    return subprocess.run(["runuser", "-u", "nobody", "--", "env", "-i", f"HOME={home}",
                           f"PATH={path}", "bash", str(INSTALL), *args],
                          capture_output=True, text=True, timeout=120)


def _installed(home: Path) -> Path:
    return home / ".local" / "bin" / "awf"


def test_rootless_install_for_a_user_with_an_empty_home(release, binary, home):
    r = _as_nobody(home, "--rootless", "--from", str(release))
    assert r.returncode == 0, r
    installed = _installed(home)
    assert installed.read_bytes() == binary.read_bytes()
    st = installed.stat()
    assert (st.st_uid, st.st_mode & 0o777) == (65534, 0o755)
    assert r.stdout.strip().endswith(f"awf {_version()} (AWF v0.28 interface)"), r
    assert f"{home}/.local/bin is not on PATH" in r.stderr, r


def test_rootless_install_with_the_version_asked_for(release, home):
    r = _as_nobody(home, "--rootless", "--version", "v" + _version(), "--from", str(release))
    assert r.returncode == 0, r


@pytest.mark.parametrize("args,message", [
    (["--rootless", "--from", "REL", "--bogus"], "unknown option '--bogus'"),
    (["--rootless", "--from"], "--from needs a value"),
    (["--version", "--rootless"], "--version needs a value"),
    (["--rootless", "--version", "1.2 3", "--from", "REL"], "'1.2 3' is not a release version"),
    (["--rootless", "--from", "/nonexistent/awf-release"], "is neither a directory nor"),
    (["--rootless", "--version", "99.0.0", "--from", "REL"],
     "asked for version 99.0.0, but the release's binary"),
    (["--from", "REL"], "installing to /usr/local/bin needs root"),
], ids=["unknown-flag", "missing-value", "value-is-a-flag", "bad-version", "no-source",
        "other-version", "non-root"])
def test_refusals(release, home, args, message):
    r = _as_nobody(home, *[str(release) if a == "REL" else a for a in args])
    assert r.returncode == 1 and message in r.stderr, r
    assert r.stderr.startswith("install.sh: "), r
    assert not _installed(home).exists()


def test_checksum_mismatch_is_refused(release, home):
    with open(release / ASSET, "ab") as f:
        f.write(b"\0")
    r = _as_nobody(home, "--rootless", "--from", str(release))
    assert r.returncode == 1 and f"checksum mismatch for {ASSET}" in r.stderr, r
    assert not _installed(home).exists()


def test_a_file_missing_from_checksums_is_refused(release, home):
    _write_checksums(release, ["awf.apparmor"])
    r = _as_nobody(home, "--rootless", "--from", str(release))
    assert r.returncode == 1 and f"checksums.txt has no entry for {ASSET}" in r.stderr, r
    assert not _installed(home).exists()


def test_unsupported_architecture_is_refused(release, home):
    shim = _world_dir("awf-shim-")
    (shim / "uname").write_text("#!/bin/sh\necho riscv64\n")
    (shim / "uname").chmod(0o755)
    try:
        r = _as_nobody(home, "--rootless", "--from", str(release), path=f"{shim}:/usr/bin:/bin")
    finally:
        shutil.rmtree(shim)
    assert r.returncode == 1 and "unsupported architecture 'riscv64'" in r.stderr, r


@pytest.fixture
def server(release):
    """The release directory over HTTP on 127.0.0.1."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(release))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.RequestHandlerClass.log_message = lambda *a: None
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_install_from_a_url(server, binary, home):
    r = _as_nobody(home, "--rootless", "--from", server + "/")
    assert r.returncode == 0, r
    assert _installed(home).read_bytes() == binary.read_bytes()


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_download_failure_is_reported(server, home):
    r = _as_nobody(home, "--rootless", "--from", server + "/no-such-release")
    assert r.returncode == 1, r
    assert f"download of {server}/no-such-release/checksums.txt failed" in r.stderr, r


# ------------------------------------------ as root, in a mount namespace of the test's own
def _in_private_mounts(script: str, release: Path, restricted: bool):
    """Runs SCRIPT (bash) with fresh /usr/local/bin, /proc/sys/kernel and /etc/apparmor.d, the
    AppArmor user-namespace setting faked when RESTRICTED, and a recording apparmor_parser."""
    setup = f"""
        set -e
        mount -t tmpfs none /usr/local/bin
        mount -t tmpfs none /etc/apparmor.d
        mount -t tmpfs none /proc/sys/kernel
        {'echo 1 >' + SYSCTL if restricted else ''}
        stub=$(mktemp -d); chmod 755 $stub
        trap 'rm -rf $stub' EXIT
        printf '#!/bin/sh\\necho "$@" >/etc/apparmor.d/parser-args\\n' >$stub/apparmor_parser
        chmod 755 $stub/apparmor_parser
        export PATH=$stub:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        release={release}
    """
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "bash", "-c",
                           setup + script], capture_output=True, text=True, timeout=120)


needs_apparmor_dir = pytest.mark.skipif(
    not os.path.isdir("/etc/apparmor.d"), reason="no /etc/apparmor.d to mount over")


@needs_apparmor_dir
def test_root_install_loads_the_profile_where_apparmor_restricts_userns(release, binary):
    r = _in_private_mounts(f"""
        bash {INSTALL} --from "$release"
        cmp /usr/local/bin/awf {binary}
        cmp /etc/apparmor.d/awf {PROFILE}
        echo "parser: $(cat /etc/apparmor.d/parser-args)"
    """, release, restricted=True)
    assert r.returncode == 0, r
    assert "parser: --replace --skip-read-cache --write-cache /etc/apparmor.d/awf" in r.stdout, r
    assert "loaded the AppArmor profile /etc/apparmor.d/awf" in r.stdout, r


@needs_apparmor_dir
def test_root_install_leaves_apparmor_alone_where_userns_is_not_restricted(release, binary):
    r = _in_private_mounts(f"""
        bash {INSTALL} --from "$release"
        cmp /usr/local/bin/awf {binary}
        echo "apparmor.d: [$(ls /etc/apparmor.d)]"
    """, release, restricted=False)
    assert r.returncode == 0, r
    assert "apparmor.d: []" in r.stdout, r
    assert "AppArmor" not in r.stdout + r.stderr, r


@needs_apparmor_dir
def test_root_install_refuses_a_tampered_profile(release):
    (release / "awf.apparmor").write_text("profile awf /** flags=(unconfined) { userns, }\n")
    r = _in_private_mounts(f"bash {INSTALL} --from \"$release\"", release, restricted=True)
    assert r.returncode == 1 and "checksum mismatch for awf.apparmor" in r.stderr, r


@needs_apparmor_dir
def test_rootless_install_says_what_to_do_where_userns_is_restricted(release, home):
    r = _in_private_mounts(f"""
        runuser -u nobody -- env -i HOME={home} PATH=/usr/bin:/bin \
            bash {INSTALL} --rootless --from "$release"
    """, release, restricted=True)
    assert r.returncode == 0, r
    assert "AppArmor restricts unprivileged user namespaces here" in r.stderr, r
    assert "sudo bash install.sh" in r.stderr, r


# ------------------------------------------------------------------------------ action.yml
def test_action_installs_and_reports(release, home, tmp_path):
    yaml = pytest.importorskip("yaml")
    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    assert set(action["inputs"]) == {"version", "rootless", "from"}
    assert action["inputs"]["version"]["default"] == "latest"
    assert action["inputs"]["rootless"]["default"] == "false"
    step = action["runs"]["steps"][0]
    runner = _world_dir("awf-runner-")
    os.chown(runner, 65534, 65534)
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "RUNNER_OS": "Linux",
           "GITHUB_PATH": f"{runner}/path", "GITHUB_OUTPUT": f"{runner}/output",
           "INPUT_VERSION": "latest", "INPUT_ROOTLESS": "true", "INPUT_FROM": str(release),
           "ACTION_PATH": str(ROOT), "ACTION_REPOSITORY": "example/awf"}
    for key, value in step["env"].items():
        assert key in env, (key, value)
    try:
        r = subprocess.run(["runuser", "-u", "nobody", "--", "env", "-i",
                            *[f"{k}={v}" for k, v in env.items()], "bash", "-c", step["run"]],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r
        assert Path(env["GITHUB_PATH"]).read_text() == f"{home}/.local/bin\n"
        assert Path(env["GITHUB_OUTPUT"]).read_text() == (
            f"version={_version()}\npath={home}/.local/bin/awf\n")
    finally:
        shutil.rmtree(runner)
