"""awf started by an unprivileged user (uid 65534 from the start, inside the vnet's host netns):
the sandbox then lives in a user namespace and must give the same guarantees."""

from __future__ import annotations

import os
import re
import shutil
import shlex

import pytest

import vnet as V
from conftest import ALLOWED

NOBODY = 65534
SETPRIV = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]


@pytest.fixture
def rootless(awf, vnet):
    """Runs awf as uid/gid 65534 (no capabilities, no groups) with the given logs dir."""
    if shutil.which("setpriv", path=V.SAFE_PATH) is None:
        pytest.skip("setpriv missing")

    def run(args, cmd, logs_dir, **kw):
        return awf(args, cmd, logs_dir=logs_dir, prefix=SETPRIV, **kw)
    return run


def test_rootless_end_to_end(rootless, vnet, nonce):
    logs = os.path.join(vnet.scratch_dir, f"rootless-logs-{nonce}")  # awf (as 65534) creates it
    q = shlex.quote
    script = "; ".join([
        "echo ids=$(id -u):$(id -g)",
        "grep -E '^(Cap|NoNewPrivs)' /proc/self/status",
        shlex.join(vnet.curl_args("https://allowed.test/rootless-proxy")) + "; echo",
        shlex.join(vnet.curl_args("--noproxy", "*", "https://allowed.test/rootless-transparent")) + "; echo",
        shlex.join(vnet.curl_args("-w", "connect=%{http_connect}\\n", "https://blocked.test/")) + " 2>/dev/null",
        "dig +time=3 +tries=1 blocked.test | grep -o 'status: [A-Z]*'",
        f"echo logs_entries=$(ls -A {q(logs)} | wc -l)",
        f"touch {q(logs)}/forged 2>/dev/null; echo touch=$?",
        f"echo forged >> {q(logs)}/access.log 2>/dev/null; echo append=$?",
        "exit 7"])
    r = rootless(["-d", "allowed.test"], ["bash", "-c", script], logs)
    assert r.rc == 7, r.describe()
    assert r.last_stderr_line == "Process exiting with code: 7", r.describe()
    assert "running the command as uid/gid 65534" not in r.stderr, r.describe()
    out = r.stdout
    assert f"ids={NOBODY}:{NOBODY}" in out, r.describe()
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        m = re.search(rf"^{cap}:\s*([0-9a-f]+)$", out, re.M)
        assert m and int(m.group(1), 16) == 0, f"{cap}" + r.describe()
    assert re.search(r"^NoNewPrivs:\s*1$", out, re.M), r.describe()
    origins = [V.parse_origin_line(l) for l in out.splitlines() if l.startswith("origin=")]
    assert [o.get("path") for o in origins] == ["/rootless-proxy", "/rootless-transparent"], r.describe()
    assert all(o.get("origin") in ALLOWED and o.get("sni") == "allowed.test" for o in origins), r.describe()
    assert "connect=403" in out, r.describe()
    assert "status: NXDOMAIN" in out, r.describe()
    # The logs dir is masked: empty and read-only from inside.
    assert "logs_entries=0" in out and "touch=0" not in out and "append=0" not in out, r.describe()
    assert sorted(os.listdir(logs)) == ["access.log", "audit.jsonl", "policy-manifest.json"], \
        os.listdir(logs)
    assert "forged" not in open(os.path.join(logs, "access.log")).read()
    # ... and complete on the host.
    ok = [d for d in r.access_for("allowed.test", method="CONNECT") if d["status"] == 200]
    assert len(ok) == 2 and all(d["squid_status"] == "TCP_TUNNEL" for d in ok), r.describe()
    assert r.audit_for("allowed.test", kind="connect", action="allow"), r.describe()
    assert r.audit_for("allowed.test", kind="tls", action="allow"), r.describe()
    denied = [d for d in r.access_for("blocked.test", method="CONNECT") if d["status"] == 403]
    assert denied and denied[0]["squid_status"] == "TCP_DENIED", r.describe()
    assert r.audit_for("blocked.test", kind="connect", action="deny"), r.describe()
    dns = r.audit_for("blocked.test", kind="dns", action="deny")
    assert dns and dns[0].get("rcode") == "NXDOMAIN", r.describe()
    st = os.stat(os.path.join(logs, "audit.jsonl"))
    assert st.st_uid == NOBODY, "logs not written by the unprivileged awf"


@pytest.mark.parametrize("how", ["absolute", "relative", "symlink"])
def test_rootless_log_dir_hidden_however_named(rootless, vnet, nonce, how):
    """The command runs as the same uid that owns the logs: if it can see them it can rewrite
    them. The mask must hold however --proxy-logs-dir names the directory."""
    real = os.path.join(vnet.scratch_dir, f"hidden-{how}-{nonce}")
    os.makedirs(real)
    os.chown(real, NOBODY, NOBODY)
    logs_real = os.path.join(real, "logs")
    if how == "absolute":
        arg = logs_real
    elif how == "relative":  # awf runs in the vnet's run dir
        arg = os.path.relpath(logs_real, vnet.run_dir)
    else:
        link = os.path.join(vnet.scratch_dir, f"hidden-link-{nonce}")
        os.symlink(real, link)
        arg = os.path.join(link, "logs")
    q = shlex.quote
    script = "; ".join([
        f"echo entries=$(ls -A {q(logs_real)} 2>/dev/null | wc -l)",
        f"echo forged >> {q(logs_real)}/access.log 2>/dev/null; echo append=$?",
        f"echo forged >> {q(arg)}/audit.jsonl 2>/dev/null; echo append2=$?",
        shlex.join(vnet.curl_args("-o", "/dev/null", "https://allowed.test/hidden"))])
    r = rootless(["-d", "allowed.test"], ["bash", "-c", script], arg)
    assert r.rc == 0, r.describe()
    assert "entries=0" in r.stdout, f"logs visible in the sandbox ({how})" + r.describe()
    assert "append=0" not in r.stdout and "append2=0" not in r.stdout, \
        f"the command wrote to awf's logs ({how})" + r.describe()
    with open(os.path.join(logs_real, "access.log")) as f:
        access = f.read()
    with open(os.path.join(logs_real, "audit.jsonl")) as f:
        audit = f.read()
    assert "forged" not in access and "forged" not in audit, (access, audit)
    assert re.search(r" CONNECT 200 TCP_TUNNEL:HIER_DIRECT allowed\.test:443 ", access), access
