"""Every proxy and DNS record names the process that made it: `pid` (host numbering) and
`command` (/proc/PID/comm).

The command prints its pid as the sandbox sees it ($$, kept across `exec`) and then keeps the
process alive a little (a slow second request, or a sleep), so that the test can look the
record's pid up in the host's /proc while it still exists: the process must be in a different
pid namespace than the test, its innermost pid must be the one printed, and its comm the
record's command.
"""

from __future__ import annotations

import json
import os
import shutil
import time

import pytest

import vnet as V

PROXY = "http://127.0.0.1:3128"
SLOW = "http://allowed.test/sleep/2"  # keeps curl alive while the test looks at it


def ns_view(pid: int) -> dict | None:
    """What the host's /proc says about `pid`: its innermost pid, comm and pid namespace."""
    try:
        with open(f"/proc/{pid}/status") as f:
            status = f.read()
        with open(f"/proc/{pid}/comm") as f:
            comm = f.read().strip()
        ns = os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None
    nspid = next(l.split()[1:] for l in status.splitlines() if l.startswith("NSpid:"))
    return {"inner": int(nspid[-1]), "depth": len(nspid), "comm": comm, "ns": ns}


def read_audit(logs_dir: str) -> list[dict]:
    out = []
    try:
        with open(os.path.join(logs_dir, "audit.jsonl")) as f:
            for line in f:
                line = line.strip()
                if line:
                    out.append(json.loads(line))
    except FileNotFoundError:
        pass
    return out


def run_watching(awf, cmd: str, want, args=("--allow-domains", "allowed.test"), timeout=40):
    """Runs awf with `cmd`; while it runs, looks up in /proc the pid of every audit record
    `want(record)` accepts. Returns (result, {pid: ns_view}, first stdout line as int)."""
    p = awf.popen(list(args), ["sh", "-c", cmd])
    views: dict[int, dict | None] = {}
    deadline = time.monotonic() + timeout
    try:
        while p.poll() is None and time.monotonic() < deadline:
            for rec in read_audit(p.logs_dir):
                pid = rec.get("pid")
                if want(rec) and pid and pid not in views:
                    views[pid] = ns_view(pid)
            time.sleep(0.05)
        out, err = p.communicate(timeout=max(1, deadline - time.monotonic()))
    finally:
        if p.poll() is None:
            os.killpg(p.pid, 9)
            p.communicate()
    result = awf.vnet.collect(p.argv, p.returncode, out, err, 0.0, p.logs_dir)
    first = result.stdout.splitlines()[0] if result.stdout else ""
    return result, views, int(first) if first.isdigit() else None


def check_attributed(result, views, inner_pid, records, command):
    assert records, "no matching audit record" + result.describe()
    assert inner_pid, "the command did not print its pid" + result.describe()
    my_ns = os.readlink("/proc/self/ns/pid")
    for rec in records:
        assert rec.get("command") == command, f"record {rec}" + result.describe()
        pid = rec.get("pid")
        assert isinstance(pid, int) and pid > 1, f"record without a pid: {rec}" + result.describe()
        view = views.get(pid)
        assert view is not None, f"pid {pid} was not seen alive in /proc: {rec}" + result.describe()
        assert view["ns"] != my_ns and view["depth"] >= 2, f"pid {pid} is not in the sandbox: {view}"
        assert view["inner"] == inner_pid, f"pid {pid} is {view}, the command printed {inner_pid}"
        assert view["comm"] == command


def test_explicit_http_names_curl(awf, vnet):
    cmd = ("echo $$; exec " + " ".join(awf.curl("-o", "/dev/null", "-x", PROXY,
                                                 "http://allowed.test/")) +
           " --next -sS -o /dev/null -x " + PROXY + " " + SLOW)
    want = lambda r: r.get("kind") == "http"
    r, views, inner = run_watching(awf, cmd, want)
    assert r.rc == 0, r.describe()
    recs = [x for x in r.audit if want(x)]
    assert len(recs) == 2, r.describe()
    check_attributed(r, views, inner, recs, "curl")
    assert all(x.get("rule", 0) >= 1 for x in recs), r.describe()


def test_connect_names_curl(awf, vnet):
    # The tunnel's record is written when curl closes it, at its exit: its pid is checked
    # against the plain request that follows in the same curl (seen while it sleeps).
    cmd = ("echo $$; exec " + " ".join(awf.curl("-o", "/dev/null", "-x", PROXY, "https://allowed.test/")) +
           " --next -sS -o /dev/null -x " + PROXY + " http://allowed.test/" +
           " --next -sS -o /dev/null -x " + PROXY + " " + SLOW)
    want = lambda r: r.get("kind") in ("connect", "http")
    r, views, inner = run_watching(awf, cmd, want)
    assert r.rc == 0, r.describe()
    recs = [x for x in r.audit if x.get("kind") == "connect"]
    assert recs and recs[0]["action"] == "allow", r.describe()
    check_attributed(r, views, inner, recs + [x for x in r.audit if want(x)], "curl")
    assert recs[0].get("rule", 0) >= 1, r.describe()


def test_transparent_https_and_its_dns_name_curl(awf, vnet):
    cmd = ("echo $$; exec " + " ".join(awf.curl("-o", "/dev/null", "--noproxy", "'*'", "--http1.1",
                                                 "-H", "'Connection: close'", "https://allowed.test/")) +
           " --next -sS -o /dev/null --noproxy '*' " + SLOW)
    want = lambda r: r.get("kind") in ("tls", "dns")
    r, views, inner = run_watching(awf, cmd, want)
    assert r.rc == 0, r.describe()
    tls = [x for x in r.audit if x.get("kind") == "tls"]
    dns = [x for x in r.audit if x.get("kind") == "dns" and x.get("name") == "allowed.test"]
    assert tls and tls[0]["action"] == "allow", r.describe()
    assert dns, r.describe()
    check_attributed(r, views, inner, tls + dns, "curl")


def test_denied_requests_are_named_too(awf, vnet):
    cmd = ("echo $$; exec " + " ".join(awf.curl("-o", "/dev/null", "-x", PROXY, "http://blocked.test/")) +
           " --next -sS -o /dev/null -x " + PROXY + " https://evil.test/" +
           " --next -sS -o /dev/null -x " + PROXY + " " + SLOW)
    want = lambda r: r.get("action") == "deny"
    r, views, inner = run_watching(awf, cmd, want)
    recs = [x for x in r.audit if want(x)]
    assert {x["name"] for x in recs} >= {"blocked.test", "evil.test"}, r.describe()
    check_attributed(r, views, inner, recs, "curl")
    assert all("rule" not in x for x in recs), "no rule matched these" + r.describe()


def test_dns_udp_names_python(awf, vnet):
    script = ("import socket, time\n"
              "socket.getaddrinfo('allowed.test', 80, socket.AF_INET)\n"
              "try:\n    socket.getaddrinfo('blocked.test', 80, socket.AF_INET)\n"
              "except OSError:\n    pass\n"
              "time.sleep(1.5)\n")
    cmd = f"echo $$; exec {V.PY} -c \"{script}\""
    want = lambda r: r.get("kind") == "dns"
    r, views, inner = run_watching(awf, cmd, want)
    assert r.rc == 0, r.describe()
    recs = [x for x in r.audit if want(x)]
    assert {x["name"] for x in recs} >= {"allowed.test", "blocked.test"}, r.describe()
    assert all(x["transport"] == "udp" for x in recs), r.describe()
    comm = os.path.basename(V.PY)[:15]
    check_attributed(r, views, inner, recs, comm)
    allowed = [x for x in recs if x["name"] == "allowed.test"]
    assert all(x.get("rule", 0) >= 1 for x in allowed), r.describe()


def test_dns_tcp_names_dig(awf, vnet):
    # dig exits at once: the shell keeps running, so check the pid against its children.
    cmd = "echo $$; dig +tcp +time=3 +tries=1 allowed.test A @127.0.0.1 >/dev/null & echo $!; wait; sleep 1"
    want = lambda r: r.get("kind") == "dns"
    r, views, inner = run_watching(awf, cmd, want)
    assert r.rc == 0, r.describe()
    recs = [x for x in r.audit if want(x) and x.get("transport") == "tcp"]
    assert recs, r.describe()
    lines = r.stdout.split()
    dig_inner = int(lines[1])
    for rec in recs:
        assert rec.get("command") == "dig", r.describe()
        assert isinstance(rec.get("pid"), int) and rec["pid"] > 1, r.describe()
        view = views.get(rec["pid"])
        # dig may be gone before the test looks; when it was seen, it must be the right one.
        if view is not None:
            assert view["inner"] == dig_inner and view["comm"] == "dig", view


def test_rootless_run_names_processes(awf, vnet, nonce):
    """Rootless awf (the sandbox in its own user namespace) names processes the same way."""
    if shutil.which("setpriv", path=V.SAFE_PATH) is None:
        pytest.skip("setpriv missing")
    setpriv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    logs = os.path.join(vnet.scratch_dir, f"rootless-attribution-{nonce}")  # awf creates it
    curl = " ".join(awf.curl("-o", "/dev/null", "-x", PROXY, "http://allowed.test/"))
    r = awf(["--allow-domains", "allowed.test"], ["sh", "-c", f"exec {curl}"], logs_dir=logs,
            prefix=setpriv)
    assert r.rc == 0, r.describe()
    recs = [x for x in r.audit if x.get("kind") == "http"]
    assert recs, r.describe()
    assert all(x.get("command") == "curl" and x.get("pid", 0) > 1 for x in recs), r.describe()
