"""awf from the amd64 .deb inside a Docker container, blocking and allowing as on the host, with
the options docs/deploy.md ("Inside a container") documents and no more.

A private dockerd runs in the vnet's host namespace (tests/integration/docker_host.py); the image
is `docker import` of the Debian 12 minbase root filesystem that scripts/check-package.sh
debootstraps (with curl), and the .deb is installed into it with `dpkg -i` (nothing is pulled).
The container's only way out is the vnet: its DNS is the vnet's server, its bridge is NATed into
the vnet's host namespace. Each documented option is shown to be needed: without it awf refuses
to start, saying why.
"""

from __future__ import annotations

import json
import os
import tempfile

import pytest

import docker_host as D
import vnet as V

BASE_IMAGE = "awf-test-bookworm"
IMAGE = "awf-test-awf"
RUNNER = "runner"        # a non-root user, as on GitHub's runners (uid 1001)
RUNNER_UID = 1001
BUILD = "awf-test-install"

# docs/deploy.md, "Inside a container": keep the two in step. OPTIONS are what awf needs,
# HARDENING what it tolerates on top (tested together, as documented).
ROOTLESS_OPTIONS = ["--security-opt", "seccomp=unconfined", "--security-opt", "systempaths=unconfined"]
ROOT_CAPS = ["SYS_ADMIN", "NET_ADMIN", "NET_RAW", "NET_BIND_SERVICE", "SETUID", "SETGID", "SETPCAP",
             "SYS_PTRACE"]
ROOT_OPTIONS = [*[a for c in ROOT_CAPS for a in ("--cap-add", c)],
                "--security-opt", "seccomp=unconfined"]
HARDENING = ["--cap-drop", "ALL", "--security-opt", "no-new-privileges"]

MODES = {
    "rootless": {"user": RUNNER, "options": ROOTLESS_OPTIONS, "hardening": HARDENING},
    "root": {"user": "root", "options": ROOT_OPTIONS, "hardening": HARDENING},
    # The same as root, counted from Docker's default capability set.
    "root-default-caps": {"user": "root", "hardening": [],
                          "options": ["--cap-add", "SYS_ADMIN", "--cap-add", "NET_ADMIN",
                                      "--cap-add", "SYS_PTRACE", "--security-opt", "seccomp=unconfined"]},
}

# What awf says when one of them is missing (rootless: Docker's seccomp profile refuses the
# user namespace; the masked /proc paths forbid a fresh procfs in it. Root: awf checks its
# capabilities before it creates anything and names each missing one; Docker's seccomp profile
# refuses pivot_root even with CAP_SYS_ADMIN).
WITHOUT = {
    ("rootless", "seccomp=unconfined"):
        "cannot create the sandbox: unprivileged user namespaces are not permitted here",
    ("rootless", "systempaths=unconfined"): "sandbox: mount proc on /newroot/proc: Operation not permitted",
    **{("root", cap): f"cannot create the sandbox: awf runs as root without CAP_{cap} ("
       for cap in ROOT_CAPS},
    ("root", "seccomp=unconfined"): "pivot_root staging: Operation not permitted",
}

# What the sandboxed command does: an allowed origin by name; a blocked one by name (awf's DNS
# refuses it) and by its address (awf's transparent HTTP listener refuses the Host).
SCRIPT = (
    "curl -sS --max-time 10 http://allowed.test/; echo allowed=$?; "
    "getent hosts blocked.test || echo blocked-dns=refused; "
    f"curl -sS --max-time 10 -o /dev/null -w 'blocked-http=%{{http_code}}\\n' "
    f"--resolve blocked.test:80:{V.EVIL4} http://blocked.test/denied"
)


class DistroDockerHost(D.DockerHost):
    # A container of a 140 MB Debian image: overlay2 shares the image's layers, where vfs
    # would copy them for each of the test's containers (15 s each on a busy disk).
    STORAGE_DRIVER = "overlay2"


@pytest.fixture(scope="module")
def docker(vnet, rootfs_tarball, amd64_deb):
    why = D.DockerHost.unavailable()
    if why:
        pytest.fail(f"no Docker here: {why}")
    d = DistroDockerHost(vnet)
    try:
        d.start()
        d.docker("import", rootfs_tarball, BASE_IMAGE, timeout=300)
        install_awf(d, amd64_deb)
        yield d
    finally:
        d.stop()


def install_awf(d: D.DockerHost, deb: str):
    """The .deb with dpkg -i in a container of the bare image, committed as IMAGE, plus the
    non-root user the rootless runs use."""
    name = os.path.basename(deb)
    d.docker("run", "--name", BUILD, "--network", "none",
             "-v", f"{os.path.dirname(os.path.abspath(deb))}:/dist:ro", BASE_IMAGE,
             "sh", "-c", f"dpkg -i /dist/{name} && useradd -m -u {RUNNER_UID} {RUNNER}",
             timeout=120)
    d.docker("commit", BUILD, IMAGE, timeout=120)
    d.docker("rm", BUILD)


class Run:
    def __init__(self, proc, logs_dir: str):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.audit = V.read_jsonl(os.path.join(logs_dir, "audit.jsonl")) \
            if os.path.exists(os.path.join(logs_dir, "audit.jsonl")) else []

    def describe(self) -> str:
        return f"rc={self.rc}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}\n--- audit\n" + \
            "\n".join(json.dumps(r) for r in self.audit)


def run_awf(d: D.DockerHost, vnet: V.VNet, user: str, options: list[str]) -> Run:
    """`docker run` of awf in IMAGE as USER with OPTIONS; awf's logs on a host directory. awf
    takes its upstream resolver from the container's resolv.conf, which `--dns` makes the
    vnet's server alone."""
    logs = tempfile.mkdtemp(prefix="container-", dir=vnet.logs_root)
    os.chmod(logs, 0o1777)
    p = d.docker("run", "--rm", "--dns", V.DNS4, "--user", user, *options,
                 "-v", f"{logs}:/logs", IMAGE,
                 "awf", "--proxy-logs-dir", "/logs/run",
                 "--allow-domains", "allowed.test", "--", "sh", "-c", SCRIPT,
                 check=False, timeout=120)
    return Run(p, os.path.join(logs, "run"))


def assert_blocks_and_allows(r: Run, vnet: V.VNet, mark: dict):
    assert r.rc == 0, r.describe()
    assert f"origin={V.ALLOWED4} host=allowed.test" in r.stdout, r.describe()
    assert "allowed=0" in r.stdout, r.describe()
    assert "blocked-dns=refused" in r.stdout, r.describe()
    assert "blocked-http=403" in r.stdout, r.describe()
    reached = [(q.get("host"), q.get("path")) for q in vnet.origin_requests(mark)]
    assert ("allowed.test", "/") in reached, reached
    assert not [h for h, _ in reached if h == "blocked.test"], reached
    assert "blocked.test" not in vnet.dns_names_seen(mark), vnet.dns_names_seen(mark)
    denials = [x for x in r.audit if x.get("name") == "blocked.test" and x.get("action") == "deny"]
    assert {x.get("kind") for x in denials} >= {"dns", "http"}, r.describe()
    allowed = [x for x in r.audit if x.get("name") == "allowed.test" and x.get("kind") == "http"]
    assert allowed and all(x.get("action") == "allow" for x in allowed), r.describe()


def assert_refused_to_start(r: Run, vnet: V.VNet, mark: dict, *fragments: str):
    assert r.rc == 1, r.describe()
    assert "allowed=" not in r.stdout, r.describe()  # the command never ran
    assert r.stderr.rstrip().splitlines()[-1] == "Process exiting with code: 1", r.describe()
    for fragment in fragments:
        assert fragment in r.stderr, r.describe()
    assert not vnet.origin_requests(mark), vnet.origin_requests(mark)


# ------------------------------------------------------------------------------ the documented sets
@pytest.mark.parametrize("mode", MODES)
def test_documented_options_block_and_allow(docker, vnet, mode):
    m = MODES[mode]
    mark = vnet.mark()
    r = run_awf(docker, vnet, m["user"], [*m["hardening"], *m["options"]])
    assert_blocks_and_allows(r, vnet, mark)


def test_the_package_is_what_runs(docker):
    p = docker.docker("run", "--rm", "--network", "none", IMAGE, "sh", "-c",
                      "command -v awf && dpkg-query -W -f='${Status}' awf && awf --version")
    lines = p.stdout.splitlines()
    assert lines[0] == "/usr/bin/awf", p.stdout
    assert lines[1].startswith("install ok installedawf "), p.stdout  # no newline after Status


# ------------------------------------------------------------------------------ each option is needed
def without(options: list[str], i: int) -> list[str]:
    """OPTIONS less the pair (flag, value) at index i."""
    return options[:i] + options[i + 2:]


NEEDED = [(mode, i, MODES[mode]["options"][i + 1]) for mode in ("rootless", "root")
          for i in range(0, len(MODES[mode]["options"]), 2)]


@pytest.mark.parametrize("mode,index,option", NEEDED, ids=[f"{m}-without-{o}" for m, _, o in NEEDED])
def test_each_documented_option_is_needed(docker, vnet, mode, index, option):
    m = MODES[mode]
    mark = vnet.mark()
    r = run_awf(docker, vnet, m["user"], [*m["hardening"], *without(m["options"], index)])
    assert_refused_to_start(r, vnet, mark, WITHOUT[(mode, option)])


# ------------------------------------------------------------------------------ negative controls
def test_default_container_as_a_user_gets_awfs_message(docker, vnet):
    """No options at all, a non-root user: Docker's seccomp profile refuses the user namespace,
    and awf says so, naming the fix, before it creates anything."""
    mark = vnet.mark()
    r = run_awf(docker, vnet, RUNNER, [])
    assert_refused_to_start(r, vnet, mark, "Fatal error: cannot create the sandbox: unprivileged user "
                            "namespaces are not permitted here", "seccomp profile")
    assert not r.audit, r.describe()


def test_default_container_as_root_is_refused(docker, vnet):
    """No options, root: awf names the three capabilities Docker's default set lacks, and the
    fix, before it creates anything."""
    mark = vnet.mark()
    r = run_awf(docker, vnet, "root", [])
    assert_refused_to_start(r, vnet, mark, "Fatal error: cannot create the sandbox: awf runs as root "
                            "without CAP_SYS_ADMIN, CAP_NET_ADMIN, CAP_SYS_PTRACE (", "--cap-add")
