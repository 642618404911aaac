"""Host IPC (issue 14, round 3): no host process is reachable through a pathname Unix socket or a
FIFO, wherever and whenever it appears. The sandbox's /tmp and /var/tmp are its own (per-run
tmpfs), so a socket or FIFO a host process creates there, before or during the run, at the top
level or deeper, is not in the view; paths the caller names (-v, the workspace) are bound in.

Each test runs the real awf binary, with a control showing the probe reaches the host listener
without awf. The listeners are pathname sockets in the test process (the filesystem, not the
network namespace, decides who reaches them); nothing here sends a packet anywhere."""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import time

import pytest

import vnet as V
from unix_probes import CLIENT, HostListener, host_probe, results, write_script

ALLOW = ["-d", "allowed.test"]

# Inside the sandbox: a listener and a FIFO reader of the command's own; one connection each.
OWN_SERVER = r'''
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
os.mkfifo(sys.argv[2])
fifo = os.open(sys.argv[2], os.O_RDONLY | os.O_NONBLOCK)
open(sys.argv[2] + ".ready", "w").close()
conn, _ = s.accept()
conn.send(b"own")
'''


@pytest.fixture
def cleanup():
    paths: list[str] = []
    yield paths
    for path in reversed(paths):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.lexists(path):
            os.unlink(path)


def test_sockets_and_fifos_created_during_the_run_are_unreachable(awf, vnet, nonce, cleanup):
    """The old sweep of /tmp ran once, at startup: a socket or FIFO a host process created at the
    top of /tmp afterwards was reachable."""
    client = write_script(vnet, f"ipc-client-{nonce}.py", CLIENT)
    started = os.path.join(vnet.scratch_dir, f"started-{nonce}")
    go = os.path.join(vnet.scratch_dir, f"go-{nonce}")
    sock_path, fifo = f"/tmp/awfit-late-{nonce}.sock", f"/tmp/awfit-late-{nonce}.fifo"
    cleanup += [started, go, sock_path, fifo]
    script = (f"touch {started}; for i in $(seq 300); do test -e {go} && break; sleep 0.05; done; "
              f"{V.PY} {client} {sock_path} --fifo {fifo}; echo tmp=$(ls -A /tmp | tr '\\n' ,)")
    p = awf.popen(ALLOW, ["bash", "-c", script])
    try:
        deadline = time.monotonic() + 30
        while not os.path.exists(started) and time.monotonic() < deadline and p.poll() is None:
            time.sleep(0.05)
        assert os.path.exists(started), "the command did not start"
        listener = HostListener(sock_path, "host-daemon")
        cleanup.append(sock_path)
        os.mkfifo(fifo, 0o666)
        os.chmod(fifo, 0o666)
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a host process reading it
        try:
            # Control: from the host both answer.
            control = host_probe(client, sock_path, "--fifo", fifo)
            assert control == {sock_path: "connected:host-daemon", fifo: "opened"}, control
            accepted = listener.accepted
            os.read(reader, 4096)
            open(go, "w").close()
            out, err = p.communicate(timeout=60)
            out = out.decode()
            assert p.returncode == 0, out + err.decode()
            assert results(out)[sock_path] == "ENOENT" and results(out)[fifo] == "ENOENT", out
            assert listener.accepted == accepted, "the host socket was reached"
            try:
                assert os.read(reader, 4096) == b"", "the host FIFO was written"
            except BlockingIOError:
                pass
        finally:
            os.close(reader)
            listener.close()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_sockets_deeper_in_tmp_and_in_var_tmp_are_unreachable(awf, vnet, nonce, cleanup):
    """A socket one level down in /tmp (the sweep looked at the top level only) and a daemon's
    socket in /var/tmp (its read-only bind does not stop connect())."""
    client = write_script(vnet, f"ipc-client-{nonce}.py", CLIENT)
    deep_dir, var_dir = f"/tmp/awfit-dir-{nonce}", f"/var/tmp/awfit-{nonce}"
    cleanup += [deep_dir, var_dir]
    for d in (deep_dir, var_dir):
        os.makedirs(d)
        os.chmod(d, 0o755)
    deep, daemon = f"{deep_dir}/agent.sock", f"{var_dir}/daemon.sock"
    listeners = [HostListener(deep, "deep"), HostListener(daemon, "var-tmp-daemon")]
    try:
        assert host_probe(client, deep, daemon) == {deep: "connected:deep",
                                                    daemon: "connected:var-tmp-daemon"}
        accepted = [l.accepted for l in listeners]
        r = awf(ALLOW, f"{V.PY} {client} {deep} {daemon}; echo var_tmp=$(ls -A /var/tmp | wc -l)")
        assert r.rc == 0, r.describe()
        got = results(r.stdout)
        assert got[deep] == "ENOENT" and got[daemon] == "ENOENT", r.describe()
        assert got["var_tmp"] == "0", r.describe()
        assert [l.accepted for l in listeners] == accepted, "a host socket was reached"
    finally:
        for l in listeners:
            l.close()


def test_tmp_and_var_tmp_are_private_and_writable(awf, vnet, nonce, cleanup):
    """Control: the command's own sockets, FIFOs and files in /tmp and /var/tmp work, and none of
    them lands on the host."""
    client = write_script(vnet, f"ipc-client-{nonce}.py", CLIENT)
    server = os.path.join(vnet.scratch_dir, f"ipc-own-server-{nonce}.py")
    with open(server, "w") as f:
        f.write(OWN_SERVER)
    os.chmod(server, 0o644)
    host_file = f"/tmp/awfit-hostfile-{nonce}"
    cleanup.append(host_file)
    with open(host_file, "w") as f:
        f.write("host")
    script = "; ".join([
        f"test -e {host_file} && echo host_file=visible || echo host_file=absent",
        f"echo mine > /tmp/own-{nonce} && echo tmp_write=$(cat /tmp/own-{nonce})",
        f"echo mine > /var/tmp/own-{nonce} && echo var_tmp_write=$(cat /var/tmp/own-{nonce})",
        "echo tmp_mode=$(stat -c %a /tmp) var_tmp_mode=$(stat -c %a /var/tmp)",
        # The command's own listener and FIFO, in /tmp: reachable.
        f"{V.PY} {server} /tmp/mine-{nonce}.sock /tmp/fifo-{nonce} & true",
        f"for i in $(seq 100); do test -e /tmp/fifo-{nonce}.ready && break; sleep 0.05; done",
        f"{V.PY} {client} /tmp/mine-{nonce}.sock --fifo /tmp/fifo-{nonce}",
        "wait",
    ])
    r = awf(ALLOW, ["bash", "-c", script])
    assert r.rc == 0, r.describe()
    got = results(r.stdout)
    assert got["host_file"] == "absent", r.describe()
    assert got["tmp_write"] == "mine" and got["var_tmp_write"] == "mine", r.describe()
    assert "tmp_mode=1777 var_tmp_mode=1777" in r.stdout, r.describe()
    assert got[f"/tmp/mine-{nonce}.sock"] == "connected:own", r.describe()
    assert got[f"/tmp/fifo-{nonce}"] == "opened", r.describe()
    for name in (f"own-{nonce}", f"mine-{nonce}.sock", f"fifo-{nonce}"):
        assert not os.path.exists(f"/tmp/{name}"), f"/tmp/{name} was written on the host"
    assert not os.path.exists(f"/var/tmp/own-{nonce}")


def test_named_tmp_paths_are_bound(awf, vnet, nonce, cleanup):
    """What the caller names is there: a -v mount of a /tmp subpath (gh-aw's /tmp/gh-aw) read-write
    and a workspace under /tmp (the integration tests' own run directory)."""
    shared = f"/tmp/awfit-shared-{nonce}"
    cleanup.append(shared)
    os.makedirs(shared)
    os.chmod(shared, 0o777)
    with open(f"{shared}/prompt.txt", "w") as f:
        f.write("prompt")
    os.chmod(f"{shared}/prompt.txt", 0o644)
    script = (f"echo prompt=$(cat {shared}/prompt.txt); echo out > {shared}/output.txt; "
              f"echo cwd_listed=$(ls {shlex.quote(vnet.run_dir)} >/dev/null && echo yes); "
              f"echo sibling=$(ls -A /tmp | grep -c awfit-hostonly-{nonce})")
    sibling = f"/tmp/awfit-hostonly-{nonce}"
    cleanup.append(sibling)
    os.makedirs(sibling)
    r = awf([*ALLOW, "--mount", f"{shared}:{shared}:rw"], script)
    assert r.rc == 0, r.describe()
    got = results(r.stdout)
    assert got["prompt"] == "prompt" and got["cwd_listed"] == "yes", r.describe()
    assert got["sibling"] == "0", r.describe()
    with open(f"{shared}/output.txt") as f:
        assert f.read() == "out\n"


def test_a_bound_host_tmp_is_still_swept(awf, vnet, nonce, cleanup):
    """`-v /tmp:/tmp` (or /tmp as the workspace) shows the host's /tmp: its top-level sockets are
    still covered, as before."""
    client = write_script(vnet, f"ipc-client-{nonce}.py", CLIENT)
    sock_path = f"/tmp/awfit-bound-{nonce}.sock"
    listener = HostListener(sock_path, "bound")
    cleanup.append(sock_path)
    try:
        assert host_probe(client, sock_path) == {sock_path: "connected:bound"}
        accepted = listener.accepted
        r = awf([*ALLOW, "-v", "/tmp:/tmp:rw"], f"{V.PY} {client} {sock_path}")
        assert r.rc == 0, r.describe()
        # Covered by an empty read-only file: no write permission, no listener.
        assert results(r.stdout)[sock_path] in ("EACCES", "ECONNREFUSED"), r.describe()
        assert listener.accepted == accepted
    finally:
        listener.close()
    assert stat.S_ISDIR(os.stat("/tmp").st_mode)
