"""Sends that awf performs for the command (issue 14, the Unix socket rule): every sendto() with a
destination, sendmsg() and sendmmsg() goes to awf's supervisor, which sends on the command's own
socket from its own copy of the message, so that nothing the command changes after the check
reaches the kernel. These tests pin down that such a send behaves as the kernel's own: passed
descriptors, the credentials a receiver sees, SIGPIPE, a blocking send that waits while other
calls go on, a stream's large send, sendmmsg's counts, a handler's signal during a blocked send;
and that awf's own rights do not leak into it (SCM_CREDENTIALS, netlink peers, SO_ZEROCOPY).

The script runs inside the sandbox and, as the control, on the host (where the kernel sends).
Everything happens on socket pairs, pathname sockets in the sandbox's /tmp and the sandbox's
loopback: nothing leaves either network namespace."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

import vnet as V

ALLOW = ["-d", "allowed.test"]

SENDS = r'''
import ctypes, errno, os, signal, socket, struct, sys, threading, time
tmp = sys.argv[1]
out = {}
def name(e):
    return errno.errorcode.get(e.errno, str(e.errno))

# A pipe's write end passed over a datagram pair (SCM_RIGHTS), used by the receiver.
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
r, w = os.pipe()
a.sendmsg([b"fd"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("i", w))])
os.close(w)
msg, anc, _, _ = b.recvmsg(16, socket.CMSG_SPACE(4))
passed = struct.unpack("i", anc[0][2][:4])[0]
os.write(passed, b"through")
os.close(passed)
out["rights"] = os.read(r, 16).decode()

# A receiver that asks for credentials (SO_PASSCRED) sees the sender's uid and gid.
rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
rx.bind(tmp + "/passcred.sock")
rx.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
tx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
tx.sendto(b"who", tmp + "/passcred.sock")
_, anc, _, _ = rx.recvmsg(16, socket.CMSG_SPACE(12))
pid, uid, gid = struct.unpack("iII", anc[0][2][:12])
out["passcred"] = "match" if (uid, gid) == (os.getuid(), os.getgid()) else f"{uid}:{gid}"

# Explicit credentials: the kernel checks them against the sending thread.
try:
    tx.sendmsg([b"creds"], [(socket.SOL_SOCKET, socket.SCM_CREDENTIALS,
                             struct.pack("iII", os.getpid(), os.getuid(), os.getgid()))],
               0, tmp + "/passcred.sock")
    out["explicit_creds"] = "sent"
except OSError as e:
    out["explicit_creds"] = name(e)

# SIGPIPE on a send to a closed stream, unless MSG_NOSIGNAL.
caught = []
signal.signal(signal.SIGPIPE, lambda *_: caught.append(1))
for key, flags in (("sigpipe", 0), ("nosignal", socket.MSG_NOSIGNAL)):
    c, d = socket.socketpair()
    d.close()
    caught.clear()
    try:
        c.sendmsg([b"x"], [], flags)
        result = "sent"
    except OSError as e:
        result = name(e)
    out[key] = ("caught:" if caught else "") + result

# A blocking datagram send to a full queue waits; another thread's sends go on meanwhile; a
# handler's signal during the wait does not make the datagram go twice.
full_rx, full_tx = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
full_tx.setblocking(False)
queued = 0
try:
    while True:
        full_tx.sendmsg([b"q"])
        queued += 1
except BlockingIOError:
    pass
full_tx.setblocking(True)
done = []
def blocked():
    full_tx.sendmsg([b"marker"])
    done.append(time.monotonic())
signal.signal(signal.SIGALRM, lambda *_: None)
t = threading.Thread(target=blocked)
t.start()
time.sleep(0.3)
signal.setitimer(signal.ITIMER_REAL, 0.1)
other_a, other_b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
other_a.sendmsg([b"other"])
out["other_while_blocked"] = other_b.recv(16).decode() if not done else "after"
time.sleep(0.3)
still_waiting = not done
full_rx.setblocking(False)
markers = 0
deadline = time.monotonic() + 5
while time.monotonic() < deadline and (not done or markers == 0):
    try:
        if full_rx.recv(16) == b"marker":
            markers += 1
    except BlockingIOError:
        time.sleep(0.01)
t.join(5)
time.sleep(0.1)
try:
    while True:
        if full_rx.recv(16) == b"marker":
            markers += 1
except BlockingIOError:
    pass
out["blocked_send"] = f"waited={still_waiting},queued={queued > 0},markers={markers}"

# A large blocking stream send: the count returned is what the receiver gets.
s1, s2 = socket.socketpair()
got = []
def drain():
    total = 0
    while True:
        chunk = s2.recv(1 << 20)
        if not chunk:
            break
        total += len(chunk)
    got.append(total)
reader = threading.Thread(target=drain)
reader.start()
n = s1.sendmsg([b"z" * (5 << 20)])
s1.close()
reader.join(10)
out["stream_send"] = "ok" if n > 0 and got == [n] else f"{n}/{got}"

# sendmmsg through libc: three UDP datagrams on the loopback, their lengths written back.
class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
class msghdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32), ("iov", ctypes.POINTER(iovec)),
                ("iovlen", ctypes.c_size_t), ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]
class mmsghdr(ctypes.Structure):
    _fields_ = [("hdr", msghdr), ("len", ctypes.c_uint)]
u_rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u_rx.bind(("127.0.0.1", 0))
u_tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u_tx.connect(u_rx.getsockname())
bufs = [ctypes.create_string_buffer(b"x" * k, k) for k in (3, 5, 7)]
iovs = [iovec(ctypes.cast(buf, ctypes.c_void_p), len(buf)) for buf in bufs]
vec = (mmsghdr * 3)()
for i in range(3):
    vec[i].hdr.iov = ctypes.pointer(iovs[i])
    vec[i].hdr.iovlen = 1
libc = ctypes.CDLL(None, use_errno=True)
count = libc.sendmmsg(u_tx.fileno(), vec, 3, 0)
sizes = sorted(len(u_rx.recv(16)) for _ in range(max(count, 0)))
out["sendmmsg"] = f"{count}:{','.join(str(vec[i].len) for i in range(3))}:{sizes}"

# A netlink message to another socket's port: the kernel allows it only with CAP_NET_ADMIN.
nl = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
try:
    nl.sendto(b"\0" * 16, (4242, 0))
    out["netlink_peer"] = "sent"
except OSError as e:
    out["netlink_peer"] = name(e)

# Connecting to another socket's port needs CAP_NET_ADMIN too.
try:
    socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE).connect((4242, 0))
    out["netlink_connect_peer"] = "connected"
except OSError as e:
    out["netlink_connect_peer"] = name(e)

# Zero-copy sends would have the kernel read awf's buffer after the call returns.
try:
    socket.socket().setsockopt(socket.SOL_SOCKET, 60, 1)  # SO_ZEROCOPY
    out["zerocopy"] = "set"
except OSError as e:
    out["zerocopy"] = name(e)

for k, v in out.items():
    print(f"{k}={v}")
'''

# What the sandbox gives (as a user without privileges, awf root or rootless) where it differs
# from the host run of the same script as root: explicit credentials are refused (awf cannot
# send them as the command), a netlink peer needs CAP_NET_ADMIN, SO_ZEROCOPY is off.
EXPECTED = {
    "rights": "through",
    "passcred": "match",
    "explicit_creds": "EPERM",
    "sigpipe": "caught:EPIPE",
    "nosignal": "EPIPE",
    "other_while_blocked": "other",
    "blocked_send": "waited=True,queued=True,markers=1",
    "stream_send": "ok",
    "sendmmsg": "3:3,5,7:[3, 5, 7]",
    "netlink_peer": "EPERM",
    "netlink_connect_peer": "EPERM",
    "zerocopy": "ENOPROTOOPT",
}

# (ECONNREFUSED: root may send to a netlink port; there is none.)
HOST_DIFFERS = {"explicit_creds": "sent", "netlink_peer": "ECONNREFUSED",
                "netlink_connect_peer": "connected", "zerocopy": "set"}

# In the sandbox only (never on the host): a route change, which iproute2 sends to the kernel
# with an address (the kernel then judges the sender's capabilities alone, and awf sends it).
ROUTE_ADD = "; ip route add 10.9.0.0/16 dev lo 2>/dev/null; echo route_add=$?"


def results(out: str) -> dict:
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


@pytest.fixture
def script(vnet, nonce):
    path = os.path.join(vnet.scratch_dir, f"sends-{nonce}.py")
    with open(path, "w") as f:
        f.write(SENDS)
    os.chmod(path, 0o644)
    return path


def test_the_script_is_a_fair_control(vnet, nonce, script, tmp_path):
    """On the host (root, the kernel sending), the same script gives the same results, except
    where the sandbox is meant to differ."""
    r = subprocess.run([V.PY, script, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert results(r.stdout) == {**EXPECTED, **HOST_DIFFERS}, r.stdout


def test_sends_behave_as_the_kernels(awf, script, nonce):
    r = awf(ALLOW, f"mkdir -p /tmp/sends-{nonce} && {V.PY} {script} /tmp/sends-{nonce}"
                   + ROUTE_ADD, timeout=90)
    assert r.rc == 0, r.describe()
    assert results(r.stdout) == {**EXPECTED, "route_add": "2"}, r.describe()


def test_sends_behave_as_the_kernels_rootless(awf, vnet, script, nonce):
    """Rootless awf owns the sandbox's user namespace, so the kernel would grant awf's sends what
    it refuses the command's: the refusals must come from awf."""
    if shutil.which("setpriv", path=V.SAFE_PATH) is None:
        pytest.skip("setpriv missing")
    logs = os.path.join(vnet.scratch_dir, f"sends-rootless-logs-{nonce}")
    r = awf(ALLOW, f"mkdir -p /tmp/sends-{nonce} && {V.PY} {script} /tmp/sends-{nonce}"
                   + ROUTE_ADD, logs_dir=logs,
            prefix=["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"], timeout=90)
    assert r.rc == 0, r.describe()
    assert results(r.stdout) == {**EXPECTED, "route_add": "2"}, r.describe()
