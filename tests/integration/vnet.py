#!/usr/bin/python3
"""The "virtual internet" for awf's integration tests (stdlib only).

Two network namespaces joined by a veth pair, neither of them connected to anything else:

    host ns  (where awf and every client run, like a CI runner)
        veth-inet  203.0.113.1/24   2001:db8:1::1/64
        default routes (v4 and v6) via the internet side; no other route anywhere
    internet ns  (test hosts; ip_forward off, no default route: it reaches nothing but the host ns)
        veth-host  203.0.113.2/24   2001:db8:1::2/64
                   203.0.113.10  2001:db8:1::10   "allowed" origin   (allowed.test, *.allowed.test)
                   203.0.113.11  2001:db8:1::11   second origin      (other.test, *.other.test)
                   203.0.113.20  2001:db8:1::20   "evil" host        (blocked.test, *.blocked.test, evil.test)
                   203.0.113.53  2001:db8:1::53   authoritative DNS for the zone "test"
        lo         198.51.100.10                  origin on a second public net (second.test)
                   10.99.0.10                     private-range service (private.test)
                   169.254.169.254                fake metadata service (metadata.test)
        (198.51.100.99 exists nowhere: traffic to it is dropped by the internet ns)

Services in the internet ns (one Python process, started by `_serve`):
  * DNS on 203.0.113.53:53 and [2001:db8:1::53]:53, UDP and TCP, authoritative for "test";
    every query is appended to dns-queries.jsonl (flushed per query).
  * HTTP origins on ports 80, 443 (TLS, cert signed by a per-run CA) and 8080, on 0.0.0.0 and
    [::]; every request (and every failed TLS handshake) is appended to origin-requests.jsonl.
    Body: `origin=<local addr> host=<Host> path=<path> method=<m> port=<p> tls=<0|1> sni=<sni|->`.
    Paths: /bytes/<n>, /echo (returns the request body), /headers (JSON), /status/<code>,
    /sleep/<seconds>, /stream/<n> (n lines 0.4 s apart, length unknown), /redirect?to=<url> (302),
    /reset/<n> (announces 2n bytes, sends n, then resets the connection); a POST elsewhere
    answers the line plus `len=<n> sha256=<hex>`.
    Every TLS handshake (kind "tls", with the SNI) and failed handshake ("tls-error") is logged.
  * UDP sinks on ports 9999, 443 and 123 (0.0.0.0 and [::]) recording every datagram in
    udp-sink.jsonl.

Per-run files live in a world-readable directory /tmp/awf-it-<tag>/ (or $AWF_IT_BASE/...), because
the sandboxed command runs as uid 65534: ca.pem, the logs above, scratch/ (mode 1777) and logs/.

Cleanup: VNet.down() (idempotent), an atexit hook and SIGTERM/SIGHUP handlers remove the
namespaces, /etc/netns/<ns>/ and the run directory; the server process has PDEATHSIG=SIGKILL when
owned by a test process; `cleanup_stale()` removes namespaces left by a SIGKILLed owner.

CLI (used by scripts/demo.sh):
    vnet.py up --state FILE       bring a vnet up (servers keep running) and write FILE (JSON)
    vnet.py down --state FILE     tear it down
    vnet.py env --state FILE      print shell assignments (VNET_HOST_NS=... etc.)
    vnet.py exec --state FILE -- CMD...   run CMD in the host namespace
    vnet.py cleanup-stale         remove namespaces left behind by dead owners

Host services (--enable-host-access tests): `VNet.start_host_service(port)` runs an HTTP origin
(the same handler as the internet's) on 127.0.0.1:<port> of the *host* namespace, where awf
runs, logging its requests to host-service-<port>.jsonl; `host_requests(port, mark)` reads them.

Parent proxies (--upstream-proxy tests): `VNet.start_parent_proxy(port, answer=200)` runs a tiny
CONNECT proxy on 203.0.113.2:<port> (or another address of it) of the *internet* namespace. It logs each request (its
request line, Proxy-Authorization header and client address) to parent-proxy-<port>.jsonl, answers
`answer` (a non-200 answer is sent without connecting anywhere), and otherwise connects to the
target from 203.0.113.2 (so origins see that address as their client) and relays both ways.
`parent_requests(port, mark)` reads its log; stop it with stop_host_service.
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import ipaddress
import itertools
import json
import os
import re
import shutil
import signal
import socket
import socketserver
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterable, Sequence

PY = "/usr/bin/python3"
THIS_FILE = os.path.abspath(__file__)
NS_PREFIX = "awfit-"
RUNDIR_PREFIX = "awf-it-"
SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
DEFAULT_AWF_BIN = str(Path(THIS_FILE).resolve().parents[2] / "build" / "src" / "cli" / "awf")

# ----------------------------------------------------------------------------------------------
# Address plan
# ----------------------------------------------------------------------------------------------
HOST4 = "203.0.113.1"
INET4 = "203.0.113.2"
ALLOWED4 = "203.0.113.10"
OTHER4 = "203.0.113.11"
EVIL4 = "203.0.113.20"
DNS4 = "203.0.113.53"
SECOND4 = "198.51.100.10"
NOSERVER4 = "198.51.100.99"
PRIVATE4 = "10.99.0.10"
METADATA4 = "169.254.169.254"
HOST6 = "2001:db8:1::1"
INET6 = "2001:db8:1::2"
ALLOWED6 = "2001:db8:1::10"
OTHER6 = "2001:db8:1::11"
EVIL6 = "2001:db8:1::20"
DNS6 = "2001:db8:1::53"

INET_VETH_V4 = [INET4, ALLOWED4, OTHER4, EVIL4, DNS4]          # /24 on veth-host
INET_VETH_V6 = [INET6, ALLOWED6, OTHER6, EVIL6, DNS6]          # /64 on veth-host
INET_LO_V4 = [SECOND4, PRIVATE4, METADATA4]                    # /32 on lo
HTTP_PORTS = {"http": 80, "https": 443, "alt": 8080}
UDP_SINK_PORTS = [9999, 443, 123]
UDP_SINK_PORT = 9999

CERT_NAMES = ["allowed.test", "*.allowed.test", "*.sub.allowed.test", "other.test", "*.other.test", "blocked.test",
              "*.blocked.test", "evil.test", "*.evil.test", "private.test", "metadata.test",
              "second.test", "v6only.test", "cname.test"]
CERT_IPS = [ALLOWED4, OTHER4, EVIL4, SECOND4, PRIVATE4, METADATA4, ALLOWED6, OTHER6, EVIL6]

BYTES_PATTERN = b"0123456789abcdef"
MAX_BYTES = 256 * 1024 * 1024


def expected_bytes(n: int) -> bytes:
    """The body served by /bytes/<n>."""
    reps = n // len(BYTES_PATTERN) + 1
    return (BYTES_PATTERN * reps)[:n]


def parse_origin_line(text: str) -> dict:
    """Parse the first `origin=... host=...` line of an origin response body into a dict."""
    for line in text.splitlines():
        if line.startswith("origin="):
            out = {}
            for tok in line.split():
                k, _, v = tok.partition("=")
                out[k] = v
            return out
    return {}


# ----------------------------------------------------------------------------------------------
# Small process helpers
# ----------------------------------------------------------------------------------------------
def clean_env(extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "no_proxy", "all_proxy", "ftp_proxy")}
    env["PATH"] = SAFE_PATH
    env.setdefault("HOME", "/root")
    env["LC_ALL"] = "C.UTF-8"
    if extra:
        env.update(extra)
    return env


def run(cmd: Sequence[str], check: bool = True, timeout: float = 30, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("env", clean_env())
    p = subprocess.run(list(cmd), timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise RuntimeError(f"command failed ({p.returncode}): {' '.join(cmd)}\n"
                           f"stdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def netns_list() -> list[str]:
    p = run(["ip", "netns", "list"], check=False)
    return sorted(line.split()[0] for line in p.stdout.splitlines() if line.strip())


def netns_pids(ns: str) -> list[int]:
    p = run(["ip", "netns", "pids", ns], check=False)
    return [int(x) for x in p.stdout.split() if x.isdigit()]


def _set_pdeathsig():
    """preexec_fn: the child gets SIGKILL when its parent (the test process) dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def kill_pids(pids: Iterable[int], grace: float = 2.0):
    pids = [p for p in pids if p > 1 and p != os.getpid()]
    for p in pids:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(pid_alive(p) and not is_zombie(p) for p in pids):
        time.sleep(0.05)
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


# ----------------------------------------------------------------------------------------------
# Cleanup registry (atexit + signals)
# ----------------------------------------------------------------------------------------------
_ACTIVE: list["VNet"] = []
_HANDLERS_INSTALLED = False
_COUNTER = itertools.count()


def _cleanup_all():
    for v in list(_ACTIVE):
        try:
            v.down()
        except Exception as e:  # pragma: no cover - best effort
            print(f"vnet: cleanup of {v.tag} failed: {e}", file=sys.stderr)


def _signal_cleanup(signum, frame):
    _cleanup_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_handlers():
    global _HANDLERS_INSTALLED
    if _HANDLERS_INSTALLED:
        return
    _HANDLERS_INSTALLED = True
    atexit.register(_cleanup_all)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
            if signal.getsignal(sig) in (signal.SIG_DFL, None):
                signal.signal(sig, _signal_cleanup)


def cleanup_stale(verbose: bool = False) -> list[str]:
    """Remove vnet namespaces/run dirs whose owner pid is dead and which no process uses."""
    removed = []
    groups: dict[str, list[str]] = {}
    for ns in netns_list():
        m = re.fullmatch(NS_PREFIX + r"(\d+(?:-\d+)?)-(host|inet)", ns)
        if m:
            groups.setdefault(m.group(1), []).append(ns)
    for tag, names in groups.items():
        owner = int(tag.split("-")[0])
        if pid_alive(owner) and not is_zombie(owner):
            continue
        if any(netns_pids(ns) for ns in names):
            continue  # still in use (e.g. a demo vnet whose CLI owner has exited)
        for ns in names:
            run(["ip", "netns", "del", ns], check=False)
            shutil.rmtree(f"/etc/netns/{ns}", ignore_errors=True)
            removed.append(ns)
        for base in {tempfile.gettempdir(), os.environ.get("AWF_IT_BASE", "/tmp")}:
            shutil.rmtree(os.path.join(base, RUNDIR_PREFIX + tag), ignore_errors=True)
    if verbose and removed:
        print("removed stale namespaces: " + " ".join(removed))
    return removed


# ----------------------------------------------------------------------------------------------
# Log parsing (awf's logs and the vnet's own)
# ----------------------------------------------------------------------------------------------
_ACCESS_RE = re.compile(
    r'^(?P<ts>\d+(?:\.\d+)?)\s+(?P<client>\S+)\s+(?P<host>\S+)\s+(?P<dest>\S+)\s+'
    r'(?P<version>\S+)\s+(?P<method>\S+)\s+(?P<status>\S+)\s+(?P<result>\S+)\s+'
    r'(?P<url>\S+)\s+"(?P<ua>.*)"\s*$')


def _split_hostport(s: str) -> tuple[str | None, str | None]:
    if not s or s in ("-", "-:-"):
        return None, None
    if s.startswith("["):
        addr, _, rest = s[1:].partition("]")
        return addr, rest.lstrip(":") or None
    if s.count(":") == 1:
        a, p = s.split(":")
        return (None if a == "-" else a), (None if p == "-" else p)
    if s.count(":") > 1:  # bare IPv6 with a trailing :port (Squid prints it like that)
        a, _, p = s.rpartition(":")
        try:
            ipaddress.ip_address(a)
            return a, p
        except ValueError:
            return s, None
    return s, None


def parse_access_line(line: str) -> dict:
    m = _ACCESS_RE.match(line.rstrip("\n"))
    if not m:
        return {"_raw": line, "_error": "unparsed"}
    d = m.groupdict()
    d["_raw"] = line.rstrip("\n")
    try:
        d["status"] = int(d["status"])
    except ValueError:
        pass
    d["squid_status"], _, d["hier"] = d["result"].partition(":")
    d["dest_addr"], d["dest_port"] = _split_hostport(d["dest"])
    url = d["url"]
    if "://" in url:
        d["name"] = (urllib.parse.urlsplit(url).hostname or "").lower()
    else:
        d["name"] = (_split_hostport(url)[0] or "").lower()
    return d


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    out = []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    out.append(json.loads(line))
                except ValueError as e:
                    out.append({"_raw": line, "_error": str(e)})
    except FileNotFoundError:
        pass
    return out


# ----------------------------------------------------------------------------------------------
# awf runs
# ----------------------------------------------------------------------------------------------
@dataclass(repr=False)
class AwfResult:
    argv: list
    rc: int | None
    stdout_bytes: bytes
    stderr: str
    duration: float
    logs_dir: str
    timed_out: bool = False
    access: list = field(default_factory=list)
    audit: list = field(default_factory=list)

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode("utf-8", errors="replace")

    @property
    def stderr_lines(self) -> list[str]:
        return [l for l in self.stderr.splitlines() if l.strip()]

    @property
    def last_stderr_line(self) -> str:
        lines = self.stderr_lines
        return lines[-1] if lines else ""

    @property
    def origin(self) -> dict:
        return parse_origin_line(self.stdout)

    def access_for(self, name: str | None = None, **kw) -> list[dict]:
        out = []
        for d in self.access:
            if "_error" in d:
                continue
            if name is not None and d.get("name") != name.lower() and \
                    (d.get("host") or "").split(":")[0].lower() != name.lower():
                continue
            if all(d.get(k) == v for k, v in kw.items()):
                out.append(d)
        return out

    def audit_for(self, name: str | None = None, **kw) -> list[dict]:
        out = []
        for r in self.audit:
            if name is not None and str(r.get("name") or "").lower().rstrip(".") != name.lower():
                continue
            if all(r.get(k) == v for k, v in kw.items()):
                out.append(r)
        return out

    def describe(self) -> str:
        def tail(s, n=3000):
            return s if len(s) <= n else "..." + s[-n:]
        acc = "\n".join(d.get("_raw", str(d)) for d in self.access)
        aud = "\n".join(json.dumps(r) for r in self.audit)
        return (f"\n--- awf argv: {' '.join(map(str, self.argv))}\n--- rc={self.rc} "
                f"timed_out={self.timed_out} duration={self.duration:.2f}s\n"
                f"--- stdout:\n{tail(self.stdout)}\n--- stderr:\n{tail(self.stderr)}\n"
                f"--- access.log:\n{tail(acc)}\n--- audit.jsonl:\n{tail(aud)}\n")

    __str__ = __repr__ = describe


# ----------------------------------------------------------------------------------------------
# The virtual internet
# ----------------------------------------------------------------------------------------------
class VNet:
    def __init__(self, tag: str | None = None, base_dir: str | None = None,
                 own_servers: bool = True):
        if tag is None:
            n = next(_COUNTER)
            tag = str(os.getpid()) if n == 0 else f"{os.getpid()}-{n}"
        self.tag = tag
        self.host_ns = f"{NS_PREFIX}{tag}-host"
        self.inet_ns = f"{NS_PREFIX}{tag}-inet"
        base = base_dir or os.environ.get("AWF_IT_BASE", "/tmp")
        self.run_dir = os.path.join(base, RUNDIR_PREFIX + tag)
        self.own_servers = own_servers  # PDEATHSIG on the servers: they die with this process
        self.server_pid: int | None = None
        self._server_proc: subprocess.Popen | None = None
        self._created_ns: list[str] = []
        self.is_up = False
        self.keep = os.environ.get("AWF_IT_KEEP") == "1"
        self._logs_counter = itertools.count(1)

    # paths -------------------------------------------------------------------------------
    @property
    def ca_path(self): return os.path.join(self.run_dir, "ca.pem")
    @property
    def dns_log(self): return os.path.join(self.run_dir, "dns-queries.jsonl")
    @property
    def origin_log(self): return os.path.join(self.run_dir, "origin-requests.jsonl")
    @property
    def udp_log(self): return os.path.join(self.run_dir, "udp-sink.jsonl")
    @property
    def scratch_dir(self): return os.path.join(self.run_dir, "scratch")
    @property
    def logs_root(self): return os.path.join(self.run_dir, "logs")
    @property
    def server_log(self): return os.path.join(self.run_dir, "servers.log")
    dns_server = DNS4

    # state -------------------------------------------------------------------------------
    def to_state(self) -> dict:
        return {"tag": self.tag, "host_ns": self.host_ns, "inet_ns": self.inet_ns,
                "run_dir": self.run_dir, "server_pid": self.server_pid, "ca": self.ca_path,
                "dns_server": DNS4, "dns_log": self.dns_log, "origin_log": self.origin_log,
                "udp_log": self.udp_log, "scratch": self.scratch_dir,
                "created_ns": self._created_ns}

    @classmethod
    def from_state(cls, st: dict) -> "VNet":
        v = cls(tag=st["tag"], own_servers=False)
        v.host_ns, v.inet_ns, v.run_dir = st["host_ns"], st["inet_ns"], st["run_dir"]
        v.server_pid = st.get("server_pid")
        v._created_ns = list(st.get("created_ns") or [v.host_ns, v.inet_ns])
        v.is_up = True
        return v

    # bring up ----------------------------------------------------------------------------
    def up(self) -> "VNet":
        if os.geteuid() != 0:
            raise PermissionError("the virtual internet needs root (network namespaces)")
        _install_handlers()
        cleanup_stale()
        _ACTIVE.append(self)
        try:
            self._make_run_dir()
            self._make_certs()
            self._make_namespaces()
            self._start_servers()
            self.is_up = True
        except BaseException:
            self.down()
            raise
        return self

    def _make_run_dir(self):
        if os.path.exists(self.run_dir):
            shutil.rmtree(self.run_dir)
        os.makedirs(self.run_dir)
        os.chmod(self.run_dir, 0o755)
        os.makedirs(self.logs_root)
        os.chmod(self.logs_root, 0o755)
        os.makedirs(self.scratch_dir)
        os.chmod(self.scratch_dir, 0o1777)
        for p in (self.dns_log, self.origin_log, self.udp_log):
            Path(p).touch()
            os.chmod(p, 0o644)

    def _make_certs(self):
        d = self.run_dir
        ca_key, ca_pem = os.path.join(d, "ca.key"), self.ca_path
        srv_key, srv_csr, srv_pem = (os.path.join(d, n) for n in ("server.key", "server.csr", "server.pem"))
        ext = os.path.join(d, "server.ext")
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        run(["openssl", "req", "-x509", *ec, "-keyout", ca_key, "-out", ca_pem, "-days", "3",
             "-subj", f"/CN=awf integration test CA {self.tag}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        run(["openssl", "req", "-new", *ec, "-keyout", srv_key, "-out", srv_csr,
             "-subj", "/CN=allowed.test"])
        sans = ",".join([f"DNS:{n}" for n in CERT_NAMES] + [f"IP:{a}" for a in CERT_IPS])
        Path(ext).write_text(f"subjectAltName={sans}\nbasicConstraints=CA:FALSE\n"
                             "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
        run(["openssl", "x509", "-req", "-in", srv_csr, "-CA", ca_pem, "-CAkey", ca_key,
             "-CAcreateserial", "-out", srv_pem, "-days", "3", "-extfile", ext])
        os.chmod(ca_pem, 0o644)
        os.chmod(srv_pem, 0o644)
        for k in (ca_key, srv_key):
            os.chmod(k, 0o600)

    def _ip(self, *args, check=True):
        return run(["ip", *args], check=check)

    def _make_namespaces(self):
        for ns in (self.host_ns, self.inet_ns):
            if ns in netns_list():
                raise RuntimeError(f"namespace {ns} already exists")
            self._ip("netns", "add", ns)
            self._created_ns.append(ns)
            # Processes started with `ip netns exec` see this resolv.conf: nothing in either
            # namespace ever tries the real host's resolvers.
            os.makedirs(f"/etc/netns/{ns}", exist_ok=True)
            Path(f"/etc/netns/{ns}/resolv.conf").write_text(
                f"# awf integration test vnet {self.tag}\nnameserver {DNS4}\n")
        H, I = self.host_ns, self.inet_ns
        batch_h = [
            "link set lo up",
            f"link add veth-inet type veth peer name veth-host netns {I}",
            f"addr add {HOST4}/24 dev veth-inet",
            f"addr add {HOST6}/64 dev veth-inet nodad",
            "link set veth-inet up",
        ]
        batch_i = ["link set lo up"]
        batch_i += [f"addr add {a}/24 dev veth-host" for a in INET_VETH_V4]
        batch_i += [f"addr add {a}/64 dev veth-host nodad" for a in INET_VETH_V6]
        batch_i += [f"addr add {a}/32 dev lo" for a in INET_LO_V4]
        batch_i += ["link set veth-host up"]
        self._ip_batch(H, batch_h)
        self._ip_batch(I, batch_i)
        self._ip_batch(H, [f"route add default via {INET4} dev veth-inet",
                           f"route add default via {INET6} dev veth-inet"])

    def _ip_batch(self, ns: str, lines: list[str]):
        run(["ip", "-n", ns, "-batch", "-"], input="\n".join(lines) + "\n")

    def _start_servers(self):
        log = open(self.server_log, "ab")
        try:
            self._server_proc = subprocess.Popen(
                ["ip", "netns", "exec", self.inet_ns, PY, THIS_FILE, "_serve",
                 "--run-dir", self.run_dir],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=clean_env(),
                start_new_session=True,
                preexec_fn=_set_pdeathsig if self.own_servers else None)
        finally:
            log.close()
        self.server_pid = self._server_proc.pid
        ready = os.path.join(self.run_dir, "ready")
        deadline = time.monotonic() + 20
        while not os.path.exists(ready):
            if self._server_proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("vnet servers failed to start:\n" +
                                   Path(self.server_log).read_text(errors="replace"))
            time.sleep(0.02)

    # tear down ---------------------------------------------------------------------------
    def down(self):
        if self.server_pid:
            try:
                os.killpg(self.server_pid, signal.SIGTERM)
            except (ProcessLookupError, PermissionError):
                pass
            if self._server_proc is not None:
                try:
                    self._server_proc.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    pass
            try:
                os.killpg(self.server_pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            if self._server_proc is not None:
                try:
                    self._server_proc.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    pass
            else:  # not our child (vnet.py up/down): wait until it is gone
                deadline = time.monotonic() + 3
                while pid_alive(self.server_pid) and not is_zombie(self.server_pid) \
                        and time.monotonic() < deadline:
                    time.sleep(0.02)
            self.server_pid = None
        existing = set(netns_list())
        for ns in self._created_ns or [self.host_ns, self.inet_ns]:
            if ns in existing:
                kill_pids(netns_pids(ns), grace=1.0)  # only processes we started in our ns
                run(["ip", "netns", "del", ns], check=False)
            shutil.rmtree(f"/etc/netns/{ns}", ignore_errors=True)
        self._created_ns = []
        if not self.keep:
            shutil.rmtree(self.run_dir, ignore_errors=True)
        self.is_up = False
        if self in _ACTIVE:
            _ACTIVE.remove(self)

    def __enter__(self):
        return self.up()

    def __exit__(self, *exc):
        self.down()

    # running things ----------------------------------------------------------------------
    def host_cmd(self, cmd: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.host_ns, *cmd]

    def host_run(self, cmd: Sequence[str], timeout: float = 30, check: bool = False,
                 **kw) -> subprocess.CompletedProcess:
        """Run a command in the host namespace (no awf)."""
        return run(self.host_cmd(cmd), check=check, timeout=timeout, **kw)

    def inet_run(self, cmd: Sequence[str], timeout: float = 30, check: bool = False, **kw):
        return run(["ip", "netns", "exec", self.inet_ns, *cmd], check=check, timeout=timeout, **kw)

    def curl_args(self, *extra: str, max_time: float = 15) -> list[str]:
        return ["curl", "-sS", "--max-time", str(max_time), "--cacert", self.ca_path, *extra]

    def new_logs_dir(self, label: str = "run") -> str:
        label = re.sub(r"[^A-Za-z0-9_.-]+", "_", label)[:60]
        d = os.path.join(self.logs_root, f"{next(self._logs_counter):03d}-{label}")
        os.makedirs(d)
        os.chmod(d, 0o755)
        return d

    def awf_argv(self, awf_bin: str, args: Sequence[str], cmd, logs_dir: str,
                 dns: bool = True, prefix: Sequence[str] = ()) -> list[str]:
        """`prefix` goes between `ip netns exec <ns>` and awf (e.g. setpriv to run rootless)."""
        argv = self.host_cmd([*prefix, awf_bin])
        if dns:
            argv += ["--dns-servers", DNS4]
        if logs_dir:
            argv += ["--proxy-logs-dir", logs_dir]
        argv += list(args)
        if cmd is not None:
            argv += ["--"] + ([cmd] if isinstance(cmd, str) else list(cmd))
        return argv

    def awf_popen(self, awf_bin: str, args: Sequence[str], cmd, logs_dir: str | None = None,
                  label: str = "run", dns: bool = True, env: dict | None = None,
                  prefix: Sequence[str] = (), **kw):
        logs_dir = logs_dir or self.new_logs_dir(label)
        argv = self.awf_argv(awf_bin, args, cmd, logs_dir, dns, prefix)
        kw.setdefault("stdin", subprocess.DEVNULL)
        kw.setdefault("stdout", subprocess.PIPE)
        kw.setdefault("stderr", subprocess.PIPE)
        p = subprocess.Popen(argv, env=clean_env(env), cwd=self.run_dir,
                             start_new_session=True, preexec_fn=_set_pdeathsig, **kw)
        p.logs_dir = logs_dir  # type: ignore[attr-defined]
        p.argv = argv  # type: ignore[attr-defined]
        return p

    def awf_run(self, awf_bin: str, args: Sequence[str] = (), cmd=None, timeout: float = 60,
                label: str = "run", logs_dir: str | None = None, dns: bool = True,
                env: dict | None = None, input: bytes | None = None,
                prefix: Sequence[str] = ()) -> AwfResult:
        """Run awf in the host ns with a fresh logs dir; never raises on failure/timeout."""
        logs_dir = logs_dir or self.new_logs_dir(label)
        t0 = time.monotonic()
        p = self.awf_popen(awf_bin, args, cmd, logs_dir=logs_dir, dns=dns, env=env, prefix=prefix,
                           stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL)
        timed_out = False
        try:
            out, err = p.communicate(input=input, timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            out, err = p.communicate()
        dur = time.monotonic() - t0
        return self.collect(p.argv, None if timed_out else p.returncode, out, err, dur, logs_dir,
                            timed_out)

    def collect(self, argv, rc, out: bytes, err: bytes, dur: float, logs_dir: str,
                timed_out: bool = False) -> AwfResult:
        access = []
        try:
            with open(os.path.join(logs_dir, "access.log"), errors="replace") as f:
                access = [parse_access_line(l) for l in f if l.strip()]
        except FileNotFoundError:
            pass
        audit = read_jsonl(os.path.join(logs_dir, "audit.jsonl"))
        return AwfResult(argv=argv, rc=rc, stdout_bytes=out or b"",
                         stderr=(err or b"").decode("utf-8", errors="replace"),
                         duration=dur, logs_dir=logs_dir, timed_out=timed_out,
                         access=access, audit=audit)

    # the vnet's own logs -----------------------------------------------------------------
    @staticmethod
    def _mark(path) -> int:
        try:
            return os.path.getsize(path)
        except FileNotFoundError:
            return 0

    @staticmethod
    def _read_since(path, mark: int) -> list[dict]:
        try:
            with open(path, "rb") as f:
                f.seek(mark)
                data = f.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return []
        out = []
        for line in data.splitlines():
            if line.strip():
                try:
                    out.append(json.loads(line))
                except ValueError:
                    out.append({"_raw": line})
        return out

    def mark(self) -> dict:
        """Remember the current end of every vnet log; pass to *_since()."""
        return {"dns": self._mark(self.dns_log), "origin": self._mark(self.origin_log),
                "udp": self._mark(self.udp_log)}

    def dns_queries(self, since: dict | None = None) -> list[dict]:
        return self._read_since(self.dns_log, (since or {}).get("dns", 0))

    def origin_requests(self, since: dict | None = None) -> list[dict]:
        return self._read_since(self.origin_log, (since or {}).get("origin", 0))

    def udp_datagrams(self, since: dict | None = None) -> list[dict]:
        return self._read_since(self.udp_log, (since or {}).get("udp", 0))

    def dns_names_seen(self, since: dict | None = None) -> list[str]:
        return [q.get("name", "").lower().rstrip(".") for q in self.dns_queries(since)]

    # services on the host namespace's loopback (what host.docker.internal reaches) ---------
    def host_service_log(self, port: int) -> str:
        return os.path.join(self.run_dir, f"host-service-{port}.jsonl")

    def start_service(self, argv: Sequence[str], ready: str, what: str) -> subprocess.Popen:
        """Runs a test server (output into servers.log) and waits until it writes `ready`;
        stop it with stop_host_service."""
        if os.path.exists(ready):
            os.unlink(ready)
        log = open(self.server_log, "ab")
        try:
            proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    env=clean_env(), start_new_session=True,
                                    preexec_fn=_set_pdeathsig)
        finally:
            log.close()
        deadline = time.monotonic() + 10
        while not os.path.exists(ready):
            if proc.poll() is not None or time.monotonic() > deadline:
                self.stop_host_service(proc)
                raise RuntimeError(f"{what} failed to start:\n" +
                                   Path(self.server_log).read_text(errors="replace")[-2000:])
            time.sleep(0.02)
        return proc

    def start_host_service(self, port: int, addr: str = "127.0.0.1") -> subprocess.Popen:
        """An HTTP origin on addr:port of the host namespace; stop it with stop_host_service."""
        return self.start_service(
            self.host_cmd([PY, THIS_FILE, "_serve_host", "--run-dir", self.run_dir,
                           "--addr", addr, "--port", str(port)]),
            os.path.join(self.run_dir, f"host-service-{port}.ready"),
            f"host service on {addr}:{port}")

    @staticmethod
    def stop_host_service(proc: subprocess.Popen):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            pass

    def host_mark(self, port: int) -> int:
        return self._mark(self.host_service_log(port))

    def host_requests(self, port: int, mark: int = 0) -> list[dict]:
        return self._read_since(self.host_service_log(port), mark)

    # parent proxies in the internet namespace (--upstream-proxy) ----------------------------
    parent_proxy_addr = INET4

    def parent_proxy_log(self, port: int) -> str:
        return os.path.join(self.run_dir, f"parent-proxy-{port}.jsonl")

    def start_parent_proxy(self, port: int, answer: int = 200,
                           addr: str | None = None) -> subprocess.Popen:
        """A CONNECT proxy on addr:port (default 203.0.113.2) of the internet ns; stop it with
        stop_host_service. Its log is per port: give each parent its own port."""
        addr = addr or self.parent_proxy_addr
        return self.start_service(
            ["ip", "netns", "exec", self.inet_ns, PY, THIS_FILE, "_serve_parent",
             "--run-dir", self.run_dir, "--addr", addr, "--port", str(port),
             "--answer", str(answer)],
            os.path.join(self.run_dir, f"parent-proxy-{port}.ready"),
            f"parent proxy on port {port}")

    def parent_mark(self, port: int) -> int:
        return self._mark(self.parent_proxy_log(port))

    def parent_requests(self, port: int, mark: int = 0) -> list[dict]:
        return self._read_since(self.parent_proxy_log(port), mark)

    # fake LLM provider in the internet namespace (API-proxy tests; fake_provider.py) --------
    def fake_provider_log(self, port: int) -> str:
        return os.path.join(self.run_dir, f"fake-provider-{port}.jsonl")

    def start_fake_provider(self, port: int = 8443,
                            addrs: Sequence[str] = ("0.0.0.0", "::")) -> subprocess.Popen:
        """fake_provider.py (HTTPS, the vnet's server certificate) on every given address of
        the internet ns; its log (mode 0600: it holds the keys the proxy injects) is per port.
        Stop it with stop_host_service."""
        script = os.path.join(os.path.dirname(THIS_FILE), "fake_provider.py")
        argv = ["ip", "netns", "exec", self.inet_ns, PY, script, "--run-dir", self.run_dir,
                "--port", str(port)]
        for a in addrs:
            argv += ["--addr", a]
        return self.start_service(argv, os.path.join(self.run_dir, f"fake-provider-{port}.ready"),
                                  f"fake provider on port {port}")

    def fake_provider_mark(self, port: int = 8443) -> int:
        return self._mark(self.fake_provider_log(port))

    def fake_provider_requests(self, port: int = 8443, mark: int = 0) -> list[dict]:
        """Records (kind request / tls / tls-error) the fake provider wrote since mark."""
        return self._read_since(self.fake_provider_log(port), mark)


# ==============================================================================================
# Server side (runs inside the internet namespace: `vnet.py _serve --run-dir D`)
# ==============================================================================================
class _JsonLog:
    def __init__(self, path):
        self._f = open(path, "a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, rec: dict):
        rec = {"ts": round(time.time(), 6), **rec}
        line = json.dumps(rec, sort_keys=False)
        with self._lock:
            self._f.write(line + "\n")
            self._f.flush()


# ---------------------------------------------------------------------------- DNS
QTYPE = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28,
         "SRV": 33, "OPT": 41, "HTTPS": 65, "ANY": 255}
QTYPE_NAME = {v: k for k, v in QTYPE.items()}
RCODE_NAME = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
ZONE = "test"
TTL = 60
BIGTXT = [("chunk%02d-" % i + "x" * 90) for i in range(12)]  # > 1 KiB: truncated over UDP


def _dns_name_wire(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            b = label.encode("latin-1")
            out += bytes([len(b)]) + b
    return out + b"\0"


def _rdata(rtype: str, value) -> bytes:
    if rtype == "A":
        return socket.inet_pton(socket.AF_INET, value)
    if rtype == "AAAA":
        return socket.inet_pton(socket.AF_INET6, value)
    if rtype in ("CNAME", "NS", "PTR"):
        return _dns_name_wire(value)
    if rtype == "TXT":
        strs = value if isinstance(value, list) else [value]
        return b"".join(bytes([len(s.encode())]) + s.encode() for s in strs)
    if rtype == "SOA":
        return (_dns_name_wire("ns.test") + _dns_name_wire("hostmaster.test") +
                struct.pack("!IIIII", 1, 3600, 600, 86400, TTL))
    raise ValueError(rtype)


_EXPLICIT = {
    "test": {"SOA": [None], "NS": ["ns.test"], "TXT": ["awf integration test zone"]},
    "ns.test": {"A": [DNS4], "AAAA": [DNS6]},
    "private.test": {"A": [PRIVATE4]},
    "metadata.test": {"A": [METADATA4]},
    "second.test": {"A": [SECOND4]},
    "self.test": {"A": [HOST4], "AAAA": [HOST6]},  # the host namespace's own address
    "v6only.test": {"AAAA": [ALLOWED6]},
    "cname.test": {"CNAME": ["allowed.test"]},
    "bigtxt.allowed.test": {"A": [ALLOWED4], "AAAA": [ALLOWED6], "TXT": [BIGTXT]},
}
_WILDCARDS = [  # (suffix, records) : the name itself and everything under it
    ("allowed.test", {"A": [ALLOWED4], "AAAA": [ALLOWED6], "TXT": ["origin=allowed"]}),
    ("other.test", {"A": [OTHER4], "AAAA": [OTHER6], "TXT": ["origin=other"]}),
    ("blocked.test", {"A": [EVIL4], "AAAA": [EVIL6], "TXT": ["origin=evil"]}),
    ("evil.test", {"A": [EVIL4], "AAAA": [EVIL6], "TXT": ["origin=evil"]}),
]


def zone_records(name: str) -> dict | None:
    """Records for a name in the zone `test` (None: the name does not exist)."""
    name = name.lower().rstrip(".")
    if name in _EXPLICIT:
        return _EXPLICIT[name]
    for suffix, recs in _WILDCARDS:
        if name == suffix or name.endswith("." + suffix):
            return recs
    return None


def dns_answer(query: bytes, max_udp: int | None) -> tuple[bytes | None, dict]:
    """Build the reply to a raw DNS query. Returns (reply or None, log info)."""
    info: dict = {"len": len(query), "hex": query.hex()}  # every byte that arrived
    if len(query) < 12:
        info["error"] = "short"
        return None, info
    qid, flags, qd, an, ns_, ar = struct.unpack("!HHHHHH", query[:12])
    if flags & 0x8000:
        info["error"] = "not a query"
        return None, info
    opcode = (flags >> 11) & 0xF
    rd = flags & 0x0100
    try:
        if qd != 1:
            raise ValueError("qdcount")
        off, labels = 12, []
        while True:
            ln = query[off]
            if ln == 0:
                off += 1
                break
            if ln & 0xC0:
                raise ValueError("compressed qname")
            labels.append(query[off + 1:off + 1 + ln].decode("latin-1"))
            off += 1 + ln
        qtype, qclass = struct.unpack("!HH", query[off:off + 4])
        qend = off + 4
    except (IndexError, ValueError, struct.error) as e:
        info["error"] = f"formerr: {e}"
        return struct.pack("!HHHHHH", qid, 0x8000 | (opcode << 11) | rd | 1, 0, 0, 0, 0), info
    qname = ".".join(labels)
    info.update(name=qname, type=QTYPE_NAME.get(qtype, str(qtype)))
    # EDNS payload size from an OPT record, if any (the first additional RR, name = root)
    edns = None
    if ar and len(query) >= qend + 11 and query[qend] == 0:
        t, size = struct.unpack("!HH", query[qend + 1:qend + 5])
        if t == 41:
            edns = size
    question = query[12:qend]
    lname = qname.lower()
    answers: list[tuple[bytes, str, bytes]] = []
    authority: list[tuple[bytes, str, bytes]] = []
    aa = 0x0400
    soa = (_dns_name_wire(ZONE), "SOA", _rdata("SOA", None))
    if opcode != 0:
        rcode = 4
    elif qclass not in (1, 255):
        rcode = 5
    elif not (lname == ZONE or lname.endswith("." + ZONE)):
        rcode, aa = 5, 0  # not our zone: REFUSED (this server never recurses)
    else:
        recs = zone_records(lname)
        if recs is None:
            rcode = 3
            authority.append(soa)
        else:
            rcode = 0
            owner = b"\xc0\x0c"
            if "CNAME" in recs and qtype != QTYPE["CNAME"]:
                target = recs["CNAME"][0]
                answers.append((owner, "CNAME", _rdata("CNAME", target)))
                owner = _dns_name_wire(target)
                recs = zone_records(target) or {}
            for rtype, values in recs.items():
                if qtype == QTYPE["ANY"] or QTYPE.get(rtype) == qtype:
                    for v in values:
                        answers.append((owner, rtype, _rdata(rtype, v)))
            if not answers:
                authority.append(soa)
    info["rcode"] = RCODE_NAME.get(rcode, str(rcode))
    info["answers"] = len(answers)

    def build(ans, auth, tc=0):
        hdr = struct.pack("!HHHHHH", qid, 0x8000 | (opcode << 11) | aa | tc | rd | rcode, 1,
                          len(ans), len(auth), 1 if edns is not None else 0)
        body = b""
        for owner, rtype, rdata in ans + auth:
            body += owner + struct.pack("!HHIH", QTYPE[rtype], 1, TTL, len(rdata)) + rdata
        if edns is not None:
            body += b"\x00" + struct.pack("!HHIH", 41, 1232, 0, 0)
        return hdr + question + body

    reply = build(answers, authority)
    if max_udp is not None:
        limit = max(512, min(edns or 512, 1232))
        if len(reply) > limit:
            reply = build([], [], tc=0x0200)
            info["truncated"] = True
    return reply, info


def _serve_dns(addr: str, family: int, log: _JsonLog, errors: list):
    def udp_loop(sock):
        while True:
            try:
                data, src = sock.recvfrom(65535)
            except OSError:
                continue
            reply, info = dns_answer(data, max_udp=65535)
            log.write({"proto": "udp", "src": src[0], "dst": addr, **info})
            if reply:
                try:
                    sock.sendto(reply, src)
                except OSError:
                    pass

    def tcp_conn(conn, src):
        conn.settimeout(10)
        try:
            while True:
                hdr = _recv_exact(conn, 2)
                if not hdr:
                    return
                (n,) = struct.unpack("!H", hdr)
                data = _recv_exact(conn, n)
                if data is None:
                    return
                reply, info = dns_answer(data, max_udp=None)
                log.write({"proto": "tcp", "src": src[0], "dst": addr, **info})
                if reply is None:
                    return
                conn.sendall(struct.pack("!H", len(reply)) + reply)
        except OSError:
            pass
        finally:
            conn.close()

    def tcp_loop(sock):
        while True:
            try:
                conn, src = sock.accept()
            except OSError:
                continue
            threading.Thread(target=tcp_conn, args=(conn, src), daemon=True).start()

    u = socket.socket(family, socket.SOCK_DGRAM)
    u.bind((addr, 53))
    t = socket.socket(family, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((addr, 53))
    t.listen(64)
    threading.Thread(target=udp_loop, args=(u,), daemon=True).start()
    threading.Thread(target=tcp_loop, args=(t,), daemon=True).start()


def _recv_exact(conn, n) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


# ---------------------------------------------------------------------------- HTTP origins
class OriginHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "awf-test-origin/1"
    sys_version = ""
    timeout = 30

    def log_message(self, *args):
        pass

    def _read_body(self) -> bytes:
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            out = b""
            while True:
                line = self.rfile.readline(1024)
                if not line:
                    break
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                out += self.rfile.read(size)
                self.rfile.readline(8)
                if len(out) > MAX_BYTES:
                    break
            return out
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(n, MAX_BYTES)) if n > 0 else b""

    def _handle(self):
        local = self.connection.getsockname()
        laddr, lport = local[0], local[1]
        tls = isinstance(self.connection, ssl.SSLSocket)
        sni = getattr(self.connection, "awf_sni", None) if tls else None
        host = self.headers.get("Host", "-")
        method = self.command
        body = self._read_body() if method not in ("GET", "HEAD") or \
            self.headers.get("Content-Length") or self.headers.get("Transfer-Encoding") else b""
        self.server.reqlog.write({  # type: ignore[attr-defined]
            "kind": "request", "origin": laddr, "port": lport, "tls": tls, "sni": sni,
            "host": host, "path": self.path, "method": method, "client": self.client_address[0],
            "ua": self.headers.get("User-Agent"), "body_len": len(body)})
        line = (f"origin={laddr} host={host} path={self.path} method={method} port={lport} "
                f"tls={int(tls)} sni={sni or '-'}")
        path = urllib.parse.urlsplit(self.path).path if "://" in self.path else self.path.split("?")[0]
        status = 200
        m = re.fullmatch(r"/bytes/(\d+)", path)
        if m:
            return self._send_bytes(min(int(m.group(1)), MAX_BYTES), laddr)
        if path == "/echo":
            return self._send(200, body, "application/octet-stream", laddr)
        if path == "/redirect":
            return self._send_redirect(self.path, laddr)
        m = re.fullmatch(r"/reset/(\d+)", path)
        if m:
            return self._send_reset(min(int(m.group(1)), MAX_BYTES), laddr)
        m = re.fullmatch(r"/stream/(\d+)", path)
        if m:
            return self._send_stream(min(int(m.group(1)), 50), laddr)
        if path == "/headers":
            return self._send(200, (json.dumps(dict(self.headers.items())) + "\n").encode(),
                              "application/json", laddr)
        m = re.fullmatch(r"/status/(\d{3})", path)
        if m:
            status = int(m.group(1))
        m = re.fullmatch(r"/sleep/(\d+(?:\.\d+)?)", path)
        if m:
            time.sleep(min(float(m.group(1)), 30))
        if method not in ("GET", "HEAD"):
            line += f" len={len(body)} sha256={hashlib.sha256(body).hexdigest()}"
        return self._send(status, (line + "\n").encode(), "text/plain", laddr)

    def _send(self, status: int, body: bytes, ctype: str, laddr: str):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Origin", laddr)
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(body)

    def _send_stream(self, n: int, laddr: str):
        """n lines 0.4 s apart, delimited by the end of the connection (no length)."""
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Connection", "close")
        self.send_header("X-Origin", laddr)
        self.end_headers()
        self.close_connection = True
        for i in range(n):
            self.wfile.write(f"event {i}\n".encode())
            self.wfile.flush()
            time.sleep(0.4)

    def _send_redirect(self, target: str, laddr: str):
        """302 to the URL in the query's `to=` parameter."""
        query = urllib.parse.urlsplit(target).query if "://" in target else target.partition("?")[2]
        to = (urllib.parse.parse_qs(query).get("to") or ["/"])[0]
        self.send_response(302)
        self.send_header("Location", to)
        self.send_header("Content-Length", "0")
        self.send_header("X-Origin", laddr)
        self.end_headers()

    def _send_reset(self, n: int, laddr: str):
        """Announces 2n bytes, sends n of the /bytes pattern, then resets the connection (RST)."""
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(2 * n))
        self.send_header("X-Origin", laddr)
        self.end_headers()
        self.wfile.write(expected_bytes(n))
        self.wfile.flush()
        time.sleep(0.2)
        # Linger 0: close() sends RST. rfile holds a reference that would defer the close.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.rfile.close()
        self.connection.close()

    def _send_bytes(self, n: int, laddr: str):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.send_header("X-Origin", laddr)
        self.end_headers()
        if self.command == "HEAD":
            return
        chunk = BYTES_PATTERN * 4096  # 64 KiB, a multiple of the pattern length
        left = n
        while left > 0:
            k = min(left, len(chunk))
            self.wfile.write(chunk[:k])
            left -= k

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _handle


class OriginServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, family, reqlog, ssl_ctx=None):
        self.address_family = family
        self.reqlog = reqlog
        self.ssl_ctx = ssl_ctx
        super().__init__(addr, OriginHandler)

    def server_bind(self):
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        socketserver.TCPServer.server_bind(self)  # no getfqdn(): no name lookups at all
        self.server_name, self.server_port = "origin", self.server_address[1]

    def finish_request(self, request, client_address):
        if self.ssl_ctx is None:
            return super().finish_request(request, client_address)
        local = request.getsockname()
        request.settimeout(15)
        try:
            tls = self.ssl_ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.reqlog.write({"kind": "tls-error", "origin": local[0], "port": local[1],
                               "client": client_address[0], "error": str(e)[:200]})
            return
        self.reqlog.write({"kind": "tls", "origin": local[0], "port": local[1],
                           "client": client_address[0], "sni": getattr(tls, "awf_sni", None)})
        try:
            tls.settimeout(30)
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        pass  # clients that go away mid-response are normal in these tests


def _serve_udp_sink(addr: str, family: int, port: int, log: _JsonLog):
    s = socket.socket(family, socket.SOCK_DGRAM)
    if family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, port))

    def loop():
        while True:
            try:
                data, src = s.recvfrom(65535)
            except OSError:
                continue
            log.write({"src": src[0], "port": port, "len": len(data),
                       "data": data[:64].decode("latin-1")})

    threading.Thread(target=loop, daemon=True).start()


def server_tls_context(run_dir: str | os.PathLike) -> ssl.SSLContext:
    """The test servers' TLS: the run's CA-signed certificate, ALPN http/1.1, and the SNI the
    client sent kept on the socket (`awf_sni`) for the request log."""
    d = Path(run_dir)

    def sni_cb(sslsock, name, ctx):
        try:
            sslsock.awf_sni = name
        except Exception:
            pass

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(d / "server.pem"), str(d / "server.key"))
    ctx.sni_callback = sni_cb
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


def serve(run_dir: str):
    """Entry point of the server process (inside the internet namespace)."""
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    d = Path(run_dir)
    os.umask(0o022)
    dnslog = _JsonLog(d / "dns-queries.jsonl")
    reqlog = _JsonLog(d / "origin-requests.jsonl")
    udplog = _JsonLog(d / "udp-sink.jsonl")
    errors: list = []
    _serve_dns(DNS4, socket.AF_INET, dnslog, errors)
    _serve_dns(DNS6, socket.AF_INET6, dnslog, errors)

    ctx = server_tls_context(d)
    servers = []
    for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        servers.append(OriginServer((addr, 80), fam, reqlog))
        servers.append(OriginServer((addr, 443), fam, reqlog, ssl_ctx=ctx))
        servers.append(OriginServer((addr, 8080), fam, reqlog))
        for port in UDP_SINK_PORTS:
            _serve_udp_sink(addr, fam, port, udplog)
    for s in servers:
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.5},
                         daemon=True).start()
    (d / "ready").write_text(f"{os.getpid()}\n")
    print(f"vnet servers ready (pid {os.getpid()})", flush=True)
    while True:
        time.sleep(3600)


def serve_host(run_dir: str, addr: str, port: int):
    """Entry point of a host service (inside the host namespace: `vnet.py _serve_host`)."""
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    d = Path(run_dir)
    log_path = d / f"host-service-{port}.jsonl"
    log = _JsonLog(log_path)
    os.chmod(log_path, 0o644)
    server = OriginServer((addr, port), socket.AF_INET, log)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.5},
                     daemon=True).start()
    (d / f"host-service-{port}.ready").write_text(f"{os.getpid()}\n")
    while True:
        time.sleep(3600)


def _relay_half(src: socket.socket, dst: socket.socket):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _parent_connection(conn: socket.socket, peer, addr: str, answer: int, log: _JsonLog):
    upstream = None
    try:
        conn.settimeout(10)
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 16384:
            data = conn.recv(4096)
            if not data:
                return
            head += data
        head, _, rest = head.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        log.write({"kind": "request", "line": lines[0], "client": peer[0],
                   "auth": headers.get("proxy-authorization"), "host": headers.get("host")})
        parts = lines[0].split(" ")
        if answer != 200:
            reason = {407: "Proxy Authentication Required", 403: "Forbidden"}.get(answer, "No")
            extra = "Proxy-Authenticate: Basic realm=\"parent\"\r\n" if answer == 407 else ""
            conn.sendall(f"HTTP/1.1 {answer} {reason}\r\n{extra}Content-Length: 0\r\n"
                         "Connection: close\r\n\r\n".encode())
            return
        if len(parts) != 3 or parts[0] != "CONNECT":
            conn.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        host, _, port = parts[1].rpartition(":")
        host = host.strip("[]")
        family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        try:
            infos = socket.getaddrinfo(host, int(port), family, socket.SOCK_STREAM)
            upstream = socket.socket(family, socket.SOCK_STREAM)
            upstream.settimeout(10)
            upstream.bind((addr, 0))  # origins see the parent's own address
            upstream.connect(infos[0][4])
            upstream.settimeout(None)
        except (OSError, ValueError) as e:
            log.write({"kind": "upstream-error", "line": lines[0], "error": str(e)})
            conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            return
        conn.settimeout(None)
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        if rest:
            upstream.sendall(rest)
        t = threading.Thread(target=_relay_half, args=(upstream, conn), daemon=True)
        t.start()
        _relay_half(conn, upstream)
        t.join()
    except OSError:
        pass
    finally:
        for s in (conn, upstream):
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass


def serve_parent(run_dir: str, addr: str, port: int, answer: int):
    """Entry point of a parent proxy (inside the internet namespace: `vnet.py _serve_parent`)."""
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    d = Path(run_dir)
    log_path = d / f"parent-proxy-{port}.jsonl"
    log = _JsonLog(log_path)
    os.chmod(log_path, 0o644)
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(128)
    (d / f"parent-proxy-{port}.ready").write_text(f"{os.getpid()}\n")
    while True:
        conn, peer = srv.accept()
        threading.Thread(target=_parent_connection, args=(conn, peer, addr, answer, log),
                         daemon=True).start()


# ==============================================================================================
# CLI
# ==============================================================================================
def _load_state(path) -> dict:
    with open(path) as f:
        return json.load(f)


def main(argv: list[str] | None = None) -> int:
    import argparse
    ap = argparse.ArgumentParser(prog="vnet.py", description="awf's virtual internet")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p_up = sub.add_parser("up", help="bring a vnet up and write its state file")
    p_up.add_argument("--state", required=True)
    p_down = sub.add_parser("down", help="tear down the vnet of a state file")
    p_down.add_argument("--state", required=True)
    p_env = sub.add_parser("env", help="print shell variable assignments")
    p_env.add_argument("--state", required=True)
    p_exec = sub.add_parser("exec", help="run a command in the host namespace")
    p_exec.add_argument("--state", required=True)
    p_exec.add_argument("command", nargs=argparse.REMAINDER)
    sub.add_parser("cleanup-stale", help="remove vnets whose owner died")
    p_serve = sub.add_parser("_serve")
    p_serve.add_argument("--run-dir", required=True)
    p_serve_host = sub.add_parser("_serve_host")
    p_serve_host.add_argument("--run-dir", required=True)
    p_serve_host.add_argument("--addr", default="127.0.0.1")
    p_serve_host.add_argument("--port", type=int, required=True)
    p_serve_parent = sub.add_parser("_serve_parent")
    p_serve_parent.add_argument("--run-dir", required=True)
    p_serve_parent.add_argument("--addr", default=INET4)
    p_serve_parent.add_argument("--port", type=int, required=True)
    p_serve_parent.add_argument("--answer", type=int, default=200)
    a = ap.parse_args(argv)

    if a.cmd == "_serve_parent":
        serve_parent(a.run_dir, a.addr, a.port, a.answer)
        return 0
    if a.cmd == "_serve_host":
        serve_host(a.run_dir, a.addr, a.port)
        return 0
    if a.cmd == "_serve":
        serve(a.run_dir)
        return 0
    if a.cmd == "up":
        v = VNet(own_servers=False)
        v.up()
        # from here on the vnet outlives this process: `down` removes it
        _ACTIVE.remove(v)
        tmp = a.state + ".tmp"
        with open(tmp, "w") as f:
            json.dump(v.to_state(), f, indent=1)
        os.replace(tmp, a.state)
        print(f"vnet {v.tag} up: host ns {v.host_ns}, internet ns {v.inet_ns}, run dir {v.run_dir}")
        return 0
    if a.cmd == "down":
        try:
            st = _load_state(a.state)
        except FileNotFoundError:
            print(f"no state file {a.state}", file=sys.stderr)
            return 0
        VNet.from_state(st).down()
        return 0
    if a.cmd == "env":
        import shlex
        st = _load_state(a.state)
        for k in ("host_ns", "inet_ns", "run_dir", "ca", "dns_server", "dns_log", "origin_log",
                  "udp_log", "scratch"):
            print(f"VNET_{k.upper()}={shlex.quote(str(st[k]))}")
        return 0
    if a.cmd == "exec":
        st = _load_state(a.state)
        cmd = a.command[1:] if a.command[:1] == ["--"] else a.command
        if not cmd:
            ap.error("exec needs a command")
        os.execvpe("ip", ["ip", "netns", "exec", st["host_ns"], *cmd], clean_env())
    if a.cmd == "cleanup-stale":
        cleanup_stale(verbose=True)
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
