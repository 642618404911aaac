"""Signals and cleanup: SIGTERM/SIGINT are forwarded (143/130); SIGKILL of awf leaves nothing."""

from __future__ import annotations

import os
import re
import shlex
import select
import signal
import subprocess
import time

import pytest

import vnet as V

SCAN_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run")
TRANSIENT = re.compile(r"^(cc[A-Za-z0-9]{6}\..*|bash_tool_.*|bash_jobs.*|pytest-of-.*|tmp[a-z0-9_]{8}.*)$")


def wait_for_line(p: subprocess.Popen, token: bytes, timeout: float = 15) -> bytes:
    buf = b""
    deadline = time.monotonic() + timeout
    while token not in buf:
        left = deadline - time.monotonic()
        if left <= 0 or p.poll() is not None:
            break
        ready, _, _ = select.select([p.stdout], [], [], left)
        if ready:
            chunk = os.read(p.stdout.fileno(), 4096)
            if not chunk:
                break
            buf += chunk
    return buf


def marker_pids(token: str) -> list[int]:
    """Processes whose argv[0] starts with token (set with bash's `exec -a`)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if cmd.split(b"\0")[0].startswith(token.encode()) and not V.is_zombie(int(d)):
            out.append(int(d))
    return out


def wait_until(pred, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def finish(p: subprocess.Popen, timeout: float = 15):
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        return None, out, err
    return p.returncode, out, err


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)],
                         ids=["SIGTERM", "SIGINT"])
def test_signal_forwarded_and_exit_code(awf, vnet, nonce, sig, code):
    token = f"awfsig{nonce}"
    p = awf.popen(["-d", "allowed.test"], ["bash", "-c", f"echo ready; exec -a {token} sleep 60"])
    try:
        got = wait_for_line(p, b"ready")
        assert b"ready" in got, f"command never started: {got!r} {p.stderr.read1(65536) if p.poll() is not None else b''!r}"
        assert wait_until(lambda: marker_pids(token), 5), "marker process not visible"
        t0 = time.monotonic()
        os.kill(p.pid, sig)  # awf only, not its process group
        rc, out, err = finish(p)
        r = vnet.collect(p.argv, rc, got + (out or b""), err, time.monotonic() - t0, p.logs_dir)
        assert rc == code, r.describe()
        assert r.duration < 10, r.describe()
        assert r.last_stderr_line == f"Process exiting with code: {code}", r.describe()
        assert wait_until(lambda: not marker_pids(token), 5), "the command outlived awf"
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def _fs_entries() -> set[str]:
    out = set()
    for d in SCAN_DIRS:
        try:
            for n in os.listdir(d):
                if not TRANSIENT.match(n):
                    out.add(os.path.join(d, n))
        except OSError:
            pass
    return out


def _cgroup_dirs() -> set[str]:
    out = set()
    root = "/sys/fs/cgroup"
    for dirpath, dirnames, _ in os.walk(root):
        depth = dirpath[len(root):].count("/")
        if depth >= 4:
            dirnames[:] = []
        for dn in dirnames:
            if "awf" in dn.lower():
                out.add(os.path.join(dirpath, dn))
    return out


def _mounts() -> set[str]:
    with open("/proc/self/mountinfo") as f:
        pts = {line.split()[4] for line in f}
    return {m for m in pts if not re.match(r"^/run/netns/" + V.NS_PREFIX, m)}


def _others_netns(vnet) -> set[str]:
    """netns names except vnets of concurrent test runs (another pid)."""
    mine = (vnet.host_ns, vnet.inet_ns)
    return {n for n in V.netns_list() if n in mine or not n.startswith(V.NS_PREFIX)}


def _links(vnet) -> str:
    return vnet.host_run(["ip", "-o", "link"]).stdout


def test_sigkill_leaves_nothing_behind(awf, vnet, nonce):
    token = f"awfkill{nonce}"
    before = dict(netns=_others_netns(vnet), mounts=_mounts(), files=_fs_entries(),
                  cgroups=_cgroup_dirs(), links=[l.split(":")[1] for l in _links(vnet).splitlines()])
    script = (f"(exec -a {token}-child sleep 120) & "
              f"setsid -f bash -c 'exec -a {token}-daemon sleep 120'; "
              f"{shlex.join(awf.curl('-o', '/dev/null', 'https://allowed.test/sleep/30', max_time=100))} & "
              f"echo ready; exec -a {token}-main sleep 120")
    p = awf.popen(["-d", "allowed.test"], ["bash", "-c", script])
    try:
        got = wait_for_line(p, b"ready")
        assert b"ready" in got, f"command never started: {got!r}"
        assert wait_until(lambda: len(marker_pids(token)) >= 3, 10), \
            f"marker processes not all visible: {marker_pids(token)}"
        time.sleep(0.3)  # let the in-flight request reach the origin
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    assert wait_until(lambda: not marker_pids(token), 10), \
        f"sandboxed processes survived SIGKILL of awf: {marker_pids(token)}"
    assert wait_until(lambda: not V.netns_pids(vnet.host_ns), 5), \
        f"processes left in the host ns: {V.netns_pids(vnet.host_ns)}"
    assert wait_until(lambda: _others_netns(vnet) == before["netns"], 5), \
        f"netns list changed: {before['netns'] ^ _others_netns(vnet)}"
    assert _mounts() == before["mounts"], f"mounts changed: {before['mounts'] ^ _mounts()}"
    links = [l.split(":")[1] for l in _links(vnet).splitlines()]
    assert links == before["links"], f"interfaces changed in the host ns: {links}"

    def new_files():
        return _fs_entries() - before["files"] - {vnet.run_dir}
    time.sleep(0.5)
    first = new_files()
    time.sleep(1.0)
    persistent = first & new_files()  # ignore short-lived files of unrelated processes
    assert not persistent, f"files left behind: {sorted(persistent)}"
    # The one thing a SIGKILLed awf cannot remove is its (empty) run cgroup: the next run does.
    assert awf(["-d", "allowed.test"], ["true"]).rc == 0
    assert _cgroup_dirs() <= before["cgroups"], f"cgroups left: {_cgroup_dirs() - before['cgroups']}"


def test_command_exit_tears_down_children(awf, nonce):
    """When the command exits, background children in the sandbox are gone too."""
    token = f"awfbg{nonce}"
    r = awf(["-d", "allowed.test"],
            ["bash", "-c", f"(exec -a {token} sleep 120) & setsid -f bash -c 'exec -a {token}-d sleep 120'; exit 5"],
            timeout=30)
    assert r.rc == 5, r.describe()
    assert wait_until(lambda: not marker_pids(token), 5), f"children survived: {marker_pids(token)}"


def test_command_keeps_the_default_sigpipe(awf):
    # awf itself survives broken pipes (a handler, not SIG_IGN); the command must still be
    # ended by SIGPIPE, as `producer | head` expects: an ignored SIGPIPE would survive execve
    # and make `yes` fail with "write error: Broken pipe" instead.
    r = awf(["-d", "allowed.test"],
            ["bash", "-c", "yes | head -n 1 > /dev/null; echo \"status=${PIPESTATUS[0]}\"; "
                           "grep '^SigIgn' /proc/self/status"])
    assert r.rc == 0, r.describe()
    assert "status=141" in r.stdout, r.describe()
    ignored = int(r.stdout.split("SigIgn:")[1].split()[0], 16)
    assert not ignored & (1 << (signal.SIGPIPE - 1)), r.describe()
    assert "Broken pipe" not in r.stderr, r.describe()
