"""The Unix socket rule (issue 14, host IPC): the command reaches a pathname Unix socket only when
the socket was created inside the sandbox, or when the caller named its path
(--allow-unix-socket PATH, or a -v bind of the socket itself). A host daemon's socket that the
view shows (in the workspace, in a -v directory, under a read-only bind) is refused with EACCES
and recorded in audit.jsonl (kind "unix").

Each refusal has a control: the same client reaches the same socket without awf, or with the
path named. The listeners are pathname sockets of the test process; nothing here sends a packet
anywhere."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time

import pytest

import vnet as V
from unix_probes import CLIENT, HostListener, host_probe, results, write_script

ALLOW = ["-d", "allowed.test"]

# Inside the sandbox: a listener of the command's own at argv[1], greeting "own", serving
# argv[2] connections; touches argv[1] + ".ready" once it listens.
OWN_SERVER = r'''
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(64)
open(sys.argv[1] + ".ready", "w").close()
for _ in range(int(sys.argv[2])):
    conn, _ = s.accept()
    conn.send(b"own")
    conn.close()
'''

# Inside the sandbox: swaps a symlink between the command's own socket and a host socket as
# fast as it can while connecting through it; prints own=N host=N refused=N.
RACE = r'''
import errno, os, socket, sys, threading, time
link, own, host = sys.argv[1], sys.argv[2], sys.argv[3]
stop = False
def swap():
    i = 0
    while not stop:
        tmp = link + ".tmp"
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        os.symlink(own if i % 2 else host, tmp)
        os.rename(tmp, link)
        i += 1
t = threading.Thread(target=swap, daemon=True)
os.symlink(own, link)
t.start()
counts = {"own": 0, "host": 0, "refused": 0}
deadline = time.monotonic() + 3
while time.monotonic() < deadline:
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(2)
    try:
        s.connect(link)
        greeting = s.recv(64).decode()
        counts["host" if greeting == "host-daemon" else "own"] += 1
    except OSError:
        counts["refused"] += 1
    finally:
        s.close()
stop = True
print(" ".join(f"{k}={v}" for k, v in counts.items()))
'''


# Inside the sandbox: thread A connects (blocking) to a Unix listener of the command's own
# whose backlog is full, thread A2 likewise to a TCP one (its SYN is dropped); then the main
# thread connects to the gateway (TCP, 127.0.0.1:3128) and to another listener of its own.
# Prints tcp=connected unix=connected (and whether A and A2 are still waiting), or deadlock=1
# when they do not complete within 10 s.
FULL_BACKLOG = r'''
import os, socket, sys, threading, time
full, other = sys.argv[1], sys.argv[2]
server = socket.socket(socket.AF_UNIX)
server.bind(full)
server.listen(0)
queued = []
while True:  # fill the backlog: non-blocking connects until EAGAIN
    c = socket.socket(socket.AF_UNIX)
    c.setblocking(False)
    try:
        c.connect(full)
        queued.append(c)
    except BlockingIOError:
        break
print("queued=" + str(len(queued)), flush=True)
blocked = socket.socket(socket.AF_UNIX)  # no timeout: a blocking connect() system call
done = {"unix": False, "tcp": False}
def wait(sock, address, name):
    try:
        sock.connect(address)
    except OSError:
        pass
    done[name] = True
threading.Thread(target=wait, args=(blocked, full, "unix"), daemon=True).start()
tcp_server = socket.socket()
tcp_server.bind(("127.0.0.1", 0))
tcp_server.listen(0)
for _ in range(3):  # the accept queue takes one; later SYNs are dropped
    c = socket.socket()
    c.setblocking(False)
    c.connect_ex(tcp_server.getsockname())
    queued.append(c)
tcp_blocked = socket.socket()
threading.Thread(target=wait, args=(tcp_blocked, tcp_server.getsockname(), "tcp"),
                 daemon=True).start()
time.sleep(0.5)  # threads A and A2 are in connect() now
threading.Timer(10, lambda: (print("deadlock=1", flush=True), os._exit(3))).start()
listener = socket.socket(socket.AF_UNIX)
listener.bind(other)
listener.listen(4)
tcp = socket.socket()
tcp.connect(("127.0.0.1", 3128))
print("tcp=connected", flush=True)
u = socket.socket(socket.AF_UNIX)
u.connect(other)
print("unix=connected", flush=True)
print(f"waiting={int(not done['unix'])},{int(not done['tcp'])}", flush=True)
os._exit(0)
'''


# Inside the sandbox: a listener and a client of the command's own; prints what the server
# learns of its client (SO_PEERCRED's pid, uid, gid), the command's own uid:gid, and what
# SO_PEERPIDFD gives.
PEER = r'''
import errno, os, socket, struct, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
c = socket.socket(socket.AF_UNIX)
c.connect(sys.argv[1])
conn, _ = s.accept()
pid, uid, gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))
print(f"pid={pid}\npeer={uid}:{gid}\nme={os.getuid()}:{os.getgid()}")
try:
    conn.getsockopt(socket.SOL_SOCKET, 77)  # SO_PEERPIDFD
    print("pidfd=given")
except OSError as e:
    print("pidfd=" + errno.errorcode.get(e.errno, str(e.errno)))
'''


# Inside the sandbox: sendto() from a datagram socket, through libc, with a destination in a
# buffer another thread flips between the command's own datagram socket and a host one as fast
# as it can; prints own=N refused=N (what the sender saw; where the datagrams landed is counted
# by the listeners).
DGRAM_RACE = r'''
import ctypes, os, socket, sys, threading, time
own_path, host_path = sys.argv[1].encode(), sys.argv[2].encode()
own = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
own.bind(own_path)
own.setblocking(False)
class Address(ctypes.Structure):
    _fields_ = [("family", ctypes.c_ushort), ("path", ctypes.c_char * 108)]
addr = Address(socket.AF_UNIX, own_path)
paths = [Address(socket.AF_UNIX, own_path), Address(socket.AF_UNIX, host_path)]
size = ctypes.sizeof(Address)
stop = False
def flip():
    i = 0
    while not stop:
        ctypes.memmove(ctypes.addressof(addr), ctypes.addressof(paths[i & 1]), size)
        i += 1
threading.Thread(target=flip, daemon=True).start()
libc = ctypes.CDLL(None, use_errno=True)
sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
counts = {"sent": 0, "refused": 0}
deadline = time.monotonic() + 3
while time.monotonic() < deadline:
    r = libc.sendto(sender.fileno(), b"x", 1, 0, ctypes.byref(addr), size)
    counts["sent" if r == 1 else "refused"] += 1
    try:
        while True:
            own.recv(16)
    except BlockingIOError:
        pass
stop = True
print(" ".join(f"{k}={v}" for k, v in counts.items()))
'''


def unix_refusals(r) -> dict:
    return {rec.get("name"): rec for rec in r.audit if rec.get("kind") == "unix"}


@pytest.fixture
def cleanup():
    paths: list[str] = []
    yield paths
    for path in reversed(paths):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path, ignore_errors=True)
        elif os.path.lexists(path):
            os.unlink(path)


@pytest.fixture
def dirs(vnet, nonce, cleanup):
    """A directory in the workspace (awf's working directory), one bound read-write with -v and
    one bound read-only at a /var/lib-like path."""
    work = os.path.join(vnet.run_dir, f"uxs-{nonce}")
    bound = os.path.join(vnet.scratch_dir, f"uxs-bound-{nonce}")
    readonly = os.path.join(vnet.scratch_dir, f"uxs-ro-{nonce}")
    for d in (work, bound, readonly):
        os.makedirs(d)
        os.chmod(d, 0o777)
        cleanup.append(d)
    return work, bound, readonly


def test_host_sockets_in_the_view_are_refused_and_recorded(awf, vnet, nonce, dirs):
    """A host daemon's socket in the workspace, in a -v directory and under a read-only bind at a
    /var/lib-like path: connect() is refused (a read-only bind alone does not stop it) and each
    refusal is an audit record naming the path and the process."""
    client = write_script(vnet, f"uxs-client-{nonce}.py", CLIENT)
    work, bound, readonly = dirs
    var_lib = f"/var/lib/awfit-{nonce}"
    in_work, in_bound = f"{work}/daemon.sock", f"{bound}/daemon.sock"
    listeners = [HostListener(in_work), HostListener(in_bound), HostListener(f"{readonly}/daemon.sock")]
    try:
        control = host_probe(client, in_work, in_bound, f"{readonly}/daemon.sock")
        assert set(control.values()) == {"connected:host-daemon"}, control
        accepted = [l.accepted for l in listeners]
        seen = f"{var_lib}/daemon.sock"
        r = awf([*ALLOW, "-v", f"{bound}:{bound}:rw", "-v", f"{readonly}:{var_lib}:ro"],
                f"{V.PY} {client} {in_work} {in_bound} {seen}")
        assert r.rc == 0, r.describe()
        got = results(r.stdout)
        assert got == {in_work: "EACCES", in_bound: "EACCES", seen: "EACCES"}, r.describe()
        assert [l.accepted for l in listeners] == accepted, "a host socket was reached"
        refusals = unix_refusals(r)
        for path in (in_work, in_bound, seen):
            assert path in refusals, r.describe()
            rec = refusals[path]
            assert rec["action"] == "deny" and rec["event"] == "blocked_attempt", rec
            assert rec["pid"] > 0 and rec["command"].startswith("python"), rec
            assert "outside the sandbox" in rec["reason"], rec
    finally:
        for l in listeners:
            l.close()


def test_a_named_socket_is_reachable(awf, vnet, nonce, dirs):
    """--allow-unix-socket PATH (as the command sees it) and a -v bind of the socket file itself
    (how a caller passes /run/docker.sock) let the command reach that socket, and no other."""
    client = write_script(vnet, f"uxs-client-{nonce}.py", CLIENT)
    work, bound, _ = dirs
    named, other, docker = f"{work}/named.sock", f"{work}/other.sock", f"{bound}/docker.sock"
    listeners = [HostListener(named, "named"), HostListener(other, "other"),
                 HostListener(docker, "docker")]
    try:
        seen_docker = f"/run/awfit-docker-{nonce}.sock"
        r = awf([*ALLOW, "--allow-unix-socket", named, "-v", f"{docker}:{seen_docker}"],
                f"{V.PY} {client} {named} {other} {seen_docker}")
        assert r.rc == 0, r.describe()
        got = results(r.stdout)
        assert got == {named: "connected:named", other: "EACCES",
                       seen_docker: "connected:docker"}, r.describe()
        assert list(unix_refusals(r)) == [other], r.describe()
    finally:
        for l in listeners:
            l.close()


def test_a_named_socket_keeps_its_permissions(awf, vnet, nonce, dirs):
    """awf connects on the command's behalf as the command (fsuid, fsgid, groups): a named socket
    only root may use (0600, root's) stays closed to the command, though awf itself is root. Not
    a refusal of the rule: the kernel's own EACCES, nothing recorded."""
    client = write_script(vnet, f"uxs-client-{nonce}.py", CLIENT)
    work, _, _ = dirs
    path = f"{work}/root-only.sock"
    listener = HostListener(path, "root-only")
    os.chmod(path, 0o600)
    try:
        assert host_probe(client, path) == {path: "connected:root-only"}  # root, on the host
        r = awf([*ALLOW, "--allow-unix-socket", path], f"{V.PY} {client} {path}")
        assert r.rc == 0, r.describe()
        assert results(r.stdout) == {path: "EACCES"}, r.describe()
        assert listener.accepted == 1 and unix_refusals(r) == {}, r.describe()
    finally:
        listener.close()


def test_relative_name_is_refused_too(awf, vnet, nonce, dirs):
    """A relative path (resolved from the caller's working directory) reaches the same decision."""
    client = write_script(vnet, f"uxs-client-{nonce}.py", CLIENT)
    work, _, _ = dirs
    listener = HostListener(f"{work}/daemon.sock")
    try:
        r = awf(ALLOW, f"cd {work} && {V.PY} {client} daemon.sock")
        assert r.rc == 0, r.describe()
        assert results(r.stdout) == {"daemon.sock": "EACCES"}, r.describe()
        assert listener.accepted == 0
        assert "daemon.sock" in unix_refusals(r), r.describe()
    finally:
        listener.close()


def test_sandbox_server_and_client_talk(awf, vnet, nonce, dirs):
    """Control for the rule: processes in the sandbox talk over Unix sockets they create, in the
    workspace (a host directory), in /tmp, by absolute and relative paths; nothing is recorded."""
    client = write_script(vnet, f"uxs-client-{nonce}.py", CLIENT)
    server = write_script(vnet, f"uxs-server-{nonce}.py", OWN_SERVER)
    work, _, _ = dirs
    in_work, in_tmp = f"{work}/own.sock", f"/tmp/own-{nonce}.sock"
    wait = "for i in $(seq 100); do test -e {0}.ready && break; sleep 0.05; done"
    script = "\n".join([
        f"{V.PY} {server} {in_work} 2 & {V.PY} {server} {in_tmp} 1 &",
        wait.format(in_work), wait.format(in_tmp),
        f"{V.PY} {client} {in_work} {in_tmp}",
        f"cd {work} && {V.PY} {client} own.sock; wait",
    ])
    r = awf(ALLOW, script)
    assert r.rc == 0, r.describe()
    got = results(r.stdout)
    assert got == {in_work: "connected:own", in_tmp: "connected:own",
                   "own.sock": "connected:own"}, r.describe()
    assert unix_refusals(r) == {}, r.describe()


def test_a_path_swapped_during_the_check_never_reaches_the_host(awf, vnet, nonce, dirs):
    """A symlink swapped between the command's own socket and a host socket while the command
    connects through it: awf connects to the very file it checked, so the host socket is never
    reached (connects land on the own socket or are refused)."""
    race = write_script(vnet, f"uxs-race-{nonce}.py", RACE)
    server = write_script(vnet, f"uxs-server-{nonce}.py", OWN_SERVER)
    work, _, _ = dirs
    host = HostListener(f"{work}/daemon.sock")
    try:
        own = f"/tmp/own-{nonce}.sock"
        r = awf(ALLOW, f"{V.PY} {server} {own} 100000 & "
                       f"for i in $(seq 100); do test -e {own}.ready && break; sleep 0.05; done; "
                       f"{V.PY} {race} {work}/link.sock {own} {work}/daemon.sock; kill %1",
                timeout=90)
        got = results(r.stdout.replace(" ", "\n"))
        assert got.get("host") == "0", r.describe()
        assert int(got["own"]) > 0 and int(got["refused"]) > 0, r.describe()
        assert host.accepted == 0, "the host socket was reached"
    finally:
        host.close()


def test_host_datagram_socket_is_refused(awf, vnet, nonce, dirs):
    """sendto() to a host datagram socket (a syslog- or journald-like daemon) in the workspace is
    refused and recorded; the control sends from the host, and with the path named."""
    client = write_script(vnet, f"uxs-client-{nonce}.py", CLIENT)
    work, _, _ = dirs
    path = f"{work}/log.sock"
    listener = HostListener(path, dgram=True)
    try:
        assert host_probe(client, "--dgram", path) == {path: "sent"}
        r = awf(ALLOW, f"{V.PY} {client} --dgram {path}")
        assert r.rc == 0, r.describe()
        assert results(r.stdout) == {path: "EACCES"}, r.describe()
        assert path in unix_refusals(r), r.describe()
        r = awf([*ALLOW, "--allow-unix-socket", path], f"{V.PY} {client} --dgram {path}")
        assert results(r.stdout) == {path: "sent"}, r.describe()
    finally:
        listener.close()


def test_allow_unix_socket_must_be_absolute(awf):
    r = awf([*ALLOW, "--allow-unix-socket", "run/docker.sock"], "true")
    assert r.rc != 0
    assert "--allow-unix-socket 'run/docker.sock'" in r.stderr and "absolute" in r.stderr, r.describe()


def test_rootless_awf_holds_the_rule(awf, vnet, nonce, dirs):
    """awf without root (uid 65534, no capabilities): the listener reaches awf the same way, a host
    socket in the workspace is refused and recorded, the command's own socket works, and a server
    reads the command's uid and gid as its peer's (awf's uid, mapped) and no pidfd."""
    if shutil.which("setpriv", path=V.SAFE_PATH) is None:
        pytest.skip("setpriv missing")
    client = write_script(vnet, f"uxs-client-{nonce}.py", CLIENT)
    server = write_script(vnet, f"uxs-server-{nonce}.py", OWN_SERVER)
    work, _, _ = dirs
    host, own = f"{work}/daemon.sock", f"{work}/own.sock"
    listener = HostListener(host)
    logs = os.path.join(vnet.scratch_dir, f"uxs-rootless-logs-{nonce}")  # awf (as 65534) makes it
    try:
        peer = write_script(vnet, f"uxs-peer-{nonce}.py", PEER)
        r = awf(ALLOW, f"{V.PY} {server} {own} 1 & "
                       f"for i in $(seq 100); do test -e {own}.ready && break; sleep 0.05; done; "
                       f"{V.PY} {client} {host} {own}; wait; {V.PY} {peer} /tmp/peer-{nonce}.sock",
                logs_dir=logs, prefix=["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"])
        assert r.rc == 0, r.describe()
        got = results(r.stdout)
        assert got.pop("peer") == got.pop("me") and got.pop("pid") == "0", r.describe()
        assert got.pop("pidfd") == "ENOPROTOOPT", r.describe()
        assert got == {host: "EACCES", own: "connected:own"}, r.describe()
        assert listener.accepted == 0
        assert list(unix_refusals(r)) == [host], r.describe()
    finally:
        listener.close()


def test_a_blocked_connect_holds_no_other_call(awf, vnet, nonce):
    """Connects that block in awf's hands (Unix and TCP listeners of the command's own with a
    full backlog, never accepting) while another thread connects to the gateway and to another
    Unix listener: those complete (a waiting connect hands awf's receiving role over)."""
    script = write_script(vnet, f"uxs-backlog-{nonce}.py", FULL_BACKLOG)
    r = awf(ALLOW, f"{V.PY} {script} /tmp/full-{nonce}.sock /tmp/other-{nonce}.sock",
            timeout=60)
    got = results(r.stdout)
    assert r.rc == 0 and "deadlock" not in got, r.describe()
    assert int(got["queued"]) >= 1, r.describe()
    assert got["tcp"] == "connected" and got["unix"] == "connected", r.describe()
    assert got["waiting"] == "1,1", r.describe()  # both blocked connects were still waiting


def test_a_server_sees_the_command_as_its_peer(awf, vnet, nonce):
    """awf connects on the command's behalf (as the command's euid and egid when awf is root):
    a server in the sandbox reads the command's uid and gid from SO_PEERCRED, pid 0 (awf's
    process is outside the sandbox's pid namespace), and SO_PEERPIDFD, which would hand it a
    pidfd of awf, fails as on a kernel without it."""
    script = write_script(vnet, f"uxs-peer-{nonce}.py", PEER)
    r = awf(ALLOW, f"{V.PY} {script} /tmp/peer-{nonce}.sock")
    assert r.rc == 0, r.describe()
    got = results(r.stdout)
    assert got["peer"] == got["me"] and got["pid"] == "0", r.describe()
    assert got["pidfd"] == "ENOPROTOOPT", r.describe()


def test_a_datagram_destination_flipped_after_the_check(awf, vnet, nonce, dirs):
    """sendto() whose destination another thread flips between the command's own datagram socket
    and a host one, as fast as it can, for 3 s: awf sends the datagram itself, to the file it
    checked, from its own copy of the address, so whatever the flip does no datagram reaches the
    host socket. (When the kernel sent after awf's check, it read the address again, and
    hundreds of the ~10000 datagrams landed on the host socket.)"""
    race = write_script(vnet, f"uxs-dgram-race-{nonce}.py", DGRAM_RACE)
    work, _, _ = dirs
    host = HostListener(f"{work}/log.sock", dgram=True)
    try:
        r = awf(ALLOW, f"{V.PY} {race} /tmp/own-{nonce}.sock {work}/log.sock", timeout=60)
        got = results(r.stdout.replace(" ", "\n"))
        assert r.rc == 0 and int(got["sent"]) > 0 and int(got["refused"]) > 0, r.describe()
        time.sleep(0.2)
        assert host.accepted == 0, f"{host.accepted} datagrams reached the host socket ({got})"
    finally:
        host.close()
