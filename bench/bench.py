#!/usr/bin/python3
"""awf's benchmark harness: awf against direct access, Squid and tinyproxy, side by side.

Run it through bench/run.sh (installs, builds, then calls this file). Stdlib only; needs root.

The bench network (no packet ever leaves the machine):

    host ns  awfb-<pid>-host   veth 203.0.113.1/24, default route via the internet side
             Squid on 127.0.0.1:3129, tinyproxy on 127.0.0.1:8888, awf (which builds its own
             sandbox namespace: the load generator runs inside it and reaches awf's gateway on
             127.0.0.1:3128), and the "direct" load generators
    inet ns  awfb-<pid>-inet   veth 203.0.113.2/24 + 203.0.113.10 (nginx: 80, 443/TLS)
             + 203.0.113.53 (DNS: bench.test -> 203.0.113.10); no route anywhere else

Every workload runs against every target (direct, squid, tinyproxy, awf), interleaved per
repetition, and the medians are compared. Knobs (environment): REPS, QUICK, DURATION, BULK_MIB,
CONNS, TUNNEL_CONCURRENCY, HOLD_TUNNELS, MEM_REPS, STARTUP_RUNS, WORKLOADS, TARGETS, AWF_BIN,
BENCH_TOOLS_DIR, BENCH_KEEP. See README.md.

    bench.py                  run the benchmarks (bench/run.sh builds everything first)
    bench.py net SECONDS      only bring the bench network up, for SECONDS (max 3600)
    bench.py cleanup-stale    remove namespaces/run dirs of harnesses that died
"""

from __future__ import annotations

import atexit
import ctypes
import datetime as dt
import json
import os
import platform
import re
import select
import shlex
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

# ------------------------------------------------------------------------------------------
# Configuration
# ------------------------------------------------------------------------------------------
ROOT = Path(__file__).resolve().parents[1]
# Process and namespace helpers are the integration harness's (tests/integration/vnet.py).
sys.path.insert(0, str(ROOT / "tests" / "integration"))
from vnet import is_zombie, kill_pids, netns_list, netns_pids, pid_alive  # noqa: E402
BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
AWF_BIN = os.environ.get("AWF_BIN", str(ROOT / "build" / "src" / "cli" / "awf"))
TOOLS_DIR = Path(os.environ.get("BENCH_TOOLS_DIR", str(ROOT / "build-bench" / "bench")))
SAFE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

NS_PREFIX = "awfb-"
RUN_PREFIX = "awf-bench-"
HOST4 = "203.0.113.1"
INET4 = "203.0.113.2"
ORIGIN4 = "203.0.113.10"
DNS4 = "203.0.113.53"
NAME = "bench.test"
SQUID_PORT = 3129
TINYPROXY_PORT = 8888
AWF_PORT = 3128  # awf's explicit proxy inside its sandbox

QUICK = os.environ.get("QUICK", "0") not in ("", "0")
REPS = int(os.environ.get("REPS", "1" if QUICK else "5"))
DURATION = int(os.environ.get("DURATION", "2" if QUICK else "5"))          # wrk, tunnel_rate (s)
BULK_MIB = int(os.environ.get("BULK_MIB", "16" if QUICK else "100"))
CONNS = [int(c) for c in os.environ.get("CONNS", "32,256").split(",") if c.strip()]
TUNNEL_CONCURRENCY = int(os.environ.get("TUNNEL_CONCURRENCY", "64"))
HOLD_TUNNELS = int(os.environ.get("HOLD_TUNNELS", "200" if QUICK else "1000"))
MEM_REPS = int(os.environ.get("MEM_REPS", str(min(REPS, 3))))
STARTUP_RUNS = int(os.environ.get("STARTUP_RUNS", "10" if QUICK else "40"))
ALL_WORKLOADS = ["http", "connect", "bulk", "intercept", "tunnels", "memory", "startup", "policy",
                 "profile"]
WORKLOADS = [w for w in os.environ.get("WORKLOADS", ",".join(ALL_WORKLOADS)).split(",") if w]
ALL_TARGETS = ["direct", "squid", "tinyproxy", "awf"]
TARGETS = [t for t in os.environ.get("TARGETS", ",".join(ALL_TARGETS)).split(",") if t]
KEEP = os.environ.get("BENCH_KEEP") == "1"
# A smoke test or a subset must not replace the last full run's results (nor a subset in QUICK
# mode the last full smoke test's).
_FULL_SET = set(ALL_WORKLOADS) <= set(WORKLOADS) and set(ALL_TARGETS) <= set(TARGETS)
RESULT_STEM = ("quick" if _FULL_SET else "quick-partial") if QUICK else \
    ("latest" if _FULL_SET else "partial")
PROFILE_FILE = "profile.txt" if RESULT_STEM == "latest" else f"profile-{RESULT_STEM}.txt"
MIB = 1024 * 1024
EXIT_GRACE = 15  # seconds awf may take to exit once its command has ended


def log(msg: str):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def clean_env(extra: dict | None = None) -> dict:
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "no_proxy", "all_proxy")}
    env["PATH"] = SAFE_PATH
    env["LC_ALL"] = "C.UTF-8"
    if extra:
        env.update(extra)
    return env


def _set_pdeathsig():
    """preexec_fn: SIGKILL the child when the harness dies, whatever the reason."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)
    except Exception:
        pass


def run(cmd, check=True, timeout=60, **kw) -> subprocess.CompletedProcess:
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("env", clean_env())
    p = subprocess.run(list(map(str, cmd)), timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise RuntimeError(f"failed ({p.returncode}): {shlex.join(map(str, cmd))}\n{p.stdout}\n{p.stderr}")
    return p


def remove_netns(ns: str):
    if ns in netns_list():
        kill_pids(netns_pids(ns), grace=1.0)  # only processes the harness started in its own ns
        run(["ip", "netns", "del", ns], check=False)
    shutil.rmtree(f"/etc/netns/{ns}", ignore_errors=True)


def cleanup_stale(verbose=True):
    """Remove bench namespaces and run dirs whose owning harness process is gone."""
    for ns in netns_list():
        m = re.fullmatch(NS_PREFIX + r"(\d+)-(host|inet)", ns)
        if m and not (pid_alive(int(m.group(1))) and not is_zombie(int(m.group(1)))):
            if verbose:
                log(f"removing stale namespace {ns}")
            remove_netns(ns)
    for d in Path("/tmp").glob(RUN_PREFIX + "*"):
        m = re.fullmatch(RUN_PREFIX + r"(\d+)", d.name)
        if m and not pid_alive(int(m.group(1))):
            shutil.rmtree(d, ignore_errors=True)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


# ------------------------------------------------------------------------------------------
# DNS responder (runs inside the internet namespace: `bench.py _dns`)
# ------------------------------------------------------------------------------------------
def dns_reply(q: bytes) -> bytes | None:
    if len(q) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", q[:6])
    if flags & 0x8000 or qd != 1:
        return None
    off, labels = 12, []
    try:
        while q[off]:
            n = q[off]
            labels.append(q[off + 1:off + 1 + n].decode("latin-1").lower())
            off += 1 + n
        off += 1
        qtype, _ = struct.unpack("!HH", q[off:off + 4])
    except (IndexError, struct.error):
        return None
    question = q[12:off + 4]
    name = ".".join(labels)
    rd = flags & 0x0100
    answers, auth = b"", b""
    soa = (b"\xc0\x0c" + struct.pack("!HHIH", 6, 1, 3600, 0))  # placeholder, rebuilt below
    if name == NAME or name.endswith("." + NAME):
        rcode = 0
        if qtype == 1:
            answers = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 3600, 4) + socket.inet_aton(ORIGIN4)
        else:  # NODATA with an SOA so that resolvers cache the negative answer
            mname = b"\x02ns\x05bench\x04test\x00"
            rname = b"\x04root\x05bench\x04test\x00"
            rdata = mname + rname + struct.pack("!IIIII", 1, 3600, 600, 86400, 3600)
            soa = b"\xc0\x0c" + struct.pack("!HHIH", 6, 1, 3600, len(rdata)) + rdata
            auth = soa
    else:
        rcode = 5  # REFUSED: this server knows one name and never recurses
    hdr = struct.pack("!HHHHHH", qid, 0x8400 | rd | rcode, 1, 1 if answers else 0,
                      1 if auth else 0, 0)
    return hdr + question + answers + auth


def serve_dns():
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind((DNS4, 53))
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t.bind((DNS4, 53))
    t.listen(64)

    def tcp_conn(c):
        c.settimeout(5)
        try:
            while True:
                hdr = c.recv(2, socket.MSG_WAITALL)
                if len(hdr) < 2:
                    return
                q = c.recv(struct.unpack("!H", hdr)[0], socket.MSG_WAITALL)
                r = dns_reply(q)
                if r is None:
                    return
                c.sendall(struct.pack("!H", len(r)) + r)
        except OSError:
            pass
        finally:
            c.close()

    def tcp_loop():
        while True:
            c, _ = t.accept()
            threading.Thread(target=tcp_conn, args=(c,), daemon=True).start()

    threading.Thread(target=tcp_loop, daemon=True).start()
    print("dns ready", flush=True)
    while True:
        q, src = u.recvfrom(4096)
        r = dns_reply(q)
        if r:
            u.sendto(r, src)


# ------------------------------------------------------------------------------------------
# The bench network and its servers
# ------------------------------------------------------------------------------------------
class BenchNet:
    def __init__(self):
        self.tag = str(os.getpid())
        self.host_ns = f"{NS_PREFIX}{self.tag}-host"
        self.inet_ns = f"{NS_PREFIX}{self.tag}-inet"
        self.dir = Path(f"/tmp/{RUN_PREFIX}{self.tag}")
        self.procs: dict[str, subprocess.Popen] = {}
        self.created_ns: list[str] = []
        self.awf_counter = 0
        self.down_done = False
        self.exit_hangs: list[str] = []  # awf runs that did not end after their command did

    # paths
    @property
    def ca(self): return str(self.dir / "ca.pem")

    # ---- up --------------------------------------------------------------------------
    def up(self):
        if self.dir.exists():
            shutil.rmtree(self.dir)
        self.dir.mkdir(mode=0o755)
        os.chmod(self.dir, 0o755)
        self._snapshot_awf()
        for sub in ("www", "logs", "squid", "tinyproxy", "nginx"):
            (self.dir / sub).mkdir(mode=0o755)
        self._certs()
        self._content()
        self._namespaces()
        self._start_dns()
        self._start_nginx()
        self.start_squid()
        self.start_tinyproxy()

    def _snapshot_awf(self):
        """Copy awf into the run dir: a rebuild of build/ during the run changes nothing."""
        global AWF_BIN
        dst = self.dir / "awf"
        for attempt in range(30):
            try:
                shutil.copy2(AWF_BIN, dst)
                os.chmod(dst, 0o755)
                if run([dst, "--version"], check=False, timeout=10).returncode == 0:
                    AWF_BIN = str(dst)
                    return
            except (OSError, subprocess.SubprocessError):
                pass
            log(f"{AWF_BIN} is not runnable yet (being rebuilt?), retrying")
            time.sleep(5)
        raise RuntimeError(f"{AWF_BIN} does not run")

    def _certs(self):
        d = self.dir
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        run(["openssl", "req", "-x509", *ec, "-keyout", d / "ca.key", "-out", d / "ca.pem",
             "-days", "2", "-subj", f"/CN=awf bench CA {self.tag}",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
        run(["openssl", "req", "-new", *ec, "-keyout", d / "server.key", "-out", d / "server.csr",
             "-subj", f"/CN={NAME}"])
        (d / "server.ext").write_text(
            f"subjectAltName=DNS:{NAME},DNS:*.{NAME}\nbasicConstraints=CA:FALSE\n"
            "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
        run(["openssl", "x509", "-req", "-in", d / "server.csr", "-CA", d / "ca.pem",
             "-CAkey", d / "ca.key", "-CAcreateserial", "-out", d / "server.pem", "-days", "2",
             "-extfile", d / "server.ext"])
        for f in ("ca.pem", "server.pem"):
            os.chmod(d / f, 0o644)
        for f in ("ca.key", "server.key"):
            os.chmod(d / f, 0o600)

    def _content(self):
        www = self.dir / "www"
        (www / "1k").write_bytes((b"0123456789abcdef" * 64)[:1024])
        chunk = os.urandom(MIB)
        with open(www / "bulk", "wb") as f:
            for _ in range(BULK_MIB):
                f.write(chunk)
        for f in www.iterdir():
            os.chmod(f, 0o644)

    def _namespaces(self):
        for ns in (self.host_ns, self.inet_ns):
            if ns in netns_list():
                raise RuntimeError(f"namespace {ns} exists already")
            run(["ip", "netns", "add", ns])
            self.created_ns.append(ns)
            # What `ip netns exec` shows as /etc/resolv.conf: only the bench DNS server.
            os.makedirs(f"/etc/netns/{ns}", exist_ok=True)
            Path(f"/etc/netns/{ns}/resolv.conf").write_text(f"nameserver {DNS4}\n")
        H, I = self.host_ns, self.inet_ns
        self._batch(H, ["link set lo up",
                        f"link add veth-inet type veth peer name veth-host netns {I}",
                        f"addr add {HOST4}/24 dev veth-inet", "link set veth-inet up"])
        self._batch(I, ["link set lo up", f"addr add {INET4}/24 dev veth-host",
                        f"addr add {ORIGIN4}/24 dev veth-host", f"addr add {DNS4}/24 dev veth-host",
                        "link set veth-host up"])
        self._batch(H, [f"route add default via {INET4} dev veth-inet"])
        for ns in (H, I):  # per-namespace knobs for hundreds of thousands of short connections
            run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w",
                 "net.ipv4.ip_local_port_range=1024 65000", "net.ipv4.tcp_tw_reuse=1",
                 "net.core.somaxconn=8192", "net.ipv4.tcp_max_syn_backlog=8192"])

    def _batch(self, ns, lines):
        run(["ip", "-n", ns, "-batch", "-"], input="\n".join(lines) + "\n")

    def _spawn(self, key: str, ns: str, cmd: list, ready_port: int | None = None,
               ready_addr: str = "127.0.0.1"):
        out = open(self.dir / f"{key}.out", "ab")
        p = subprocess.Popen(["ip", "netns", "exec", ns, *map(str, cmd)], stdin=subprocess.DEVNULL,
                             stdout=out, stderr=out, env=clean_env(), start_new_session=True,
                             preexec_fn=_set_pdeathsig)
        out.close()
        self.procs[key] = p
        if ready_port:
            deadline = time.monotonic() + 20
            while True:
                r = run(["ip", "netns", "exec", ns, "bash", "-c",
                         f"exec 3<>/dev/tcp/{ready_addr}/{ready_port}"], check=False, timeout=5)
                if r.returncode == 0:
                    break
                if p.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{key} did not start:\n" +
                                       (self.dir / f"{key}.out").read_text(errors="replace")[-3000:])
                time.sleep(0.1)
        return p

    def _start_dns(self):
        self._spawn("dns", self.inet_ns, ["/usr/bin/python3", __file__, "_dns"], 53, DNS4)

    def _start_nginx(self):
        d = self.dir
        conf = d / "nginx" / "nginx.conf"
        conf.write_text(f"""
worker_processes auto;
daemon off;
pid {d}/nginx/nginx.pid;
error_log {d}/nginx/error.log warn;
worker_rlimit_nofile 65536;
events {{ worker_connections 16384; multi_accept on; }}
http {{
  access_log off;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_timeout 300s; keepalive_requests 100000000;
  client_body_temp_path {d}/nginx/body; proxy_temp_path {d}/nginx/proxy;
  fastcgi_temp_path {d}/nginx/fastcgi; uwsgi_temp_path {d}/nginx/uwsgi; scgi_temp_path {d}/nginx/scgi;
  default_type application/octet-stream;
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_cache off; ssl_session_tickets off;
  server {{
    listen {ORIGIN4}:80 backlog=8192;
    listen {ORIGIN4}:443 ssl backlog=8192;
    server_name {NAME};
    ssl_certificate {d}/server.pem; ssl_certificate_key {d}/server.key;
    root {d}/www;
    location / {{ }}
  }}
}}
""")
        self._spawn("nginx", self.inet_ns, ["nginx", "-e", d / "nginx" / "error.log", "-p", d / "nginx",
                                            "-c", conf], 80, ORIGIN4)

    def start_squid(self):
        d = self.dir / "squid"
        shutil.chown(d, "proxy", "proxy")
        conf = d / "squid.conf"
        conf.write_text(f"""
http_port 127.0.0.1:{SQUID_PORT}
visible_hostname awf-bench
pid_filename {d}/squid.pid
cache_log {d}/cache.log
access_log stdio:{d}/access.log squid
cache_store_log none
logfile_rotate 0
coredump_dir {d}
cache_effective_user proxy
cache deny all
dns_nameservers {DNS4}
hosts_file none
pinger_enable off
icp_port 0
htcp_port 0
max_filedescriptors 65536
shutdown_lifetime 1 seconds
acl bench dstdomain {NAME}
acl Safe_ports port 80 443
acl CONNECT method CONNECT
acl benchclients src 127.0.0.1/32
http_access deny !Safe_ports
http_access allow benchclients bench
http_access deny all
""")
        shutil.chown(conf, "proxy", "proxy")
        self._spawn("squid", self.host_ns, ["squid", "-N", "-f", conf], SQUID_PORT)

    def start_tinyproxy(self):
        d = self.dir / "tinyproxy"
        shutil.chown(d, "nobody", "nogroup")
        (d / "filter").write_text(f"^{re.escape(NAME)}$\n")
        conf = d / "tinyproxy.conf"
        conf.write_text(f"""
User nobody
Group nogroup
Port {TINYPROXY_PORT}
Listen 127.0.0.1
Timeout 600
MaxClients 4096
Allow 127.0.0.1
ConnectPort 443
ConnectPort 80
Filter "{d}/filter"
FilterType ere
FilterDefaultDeny Yes
LogFile "{d}/tinyproxy.log"
LogLevel Warning
PidFile "{d}/tinyproxy.pid"
""")
        self._spawn("tinyproxy", self.host_ns, ["tinyproxy", "-d", "-c", conf], TINYPROXY_PORT)

    def stop(self, key: str):
        p = self.procs.pop(key, None)
        if p is None:
            return
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=5)

    def trim_logs(self):
        """Access logs grow by millions of lines per run: empty them between runs."""
        for f in (self.dir / "squid" / "access.log", self.dir / "tinyproxy" / "tinyproxy.log"):
            try:
                os.truncate(f, 0)
            except OSError:
                pass

    # ---- down ------------------------------------------------------------------------
    def down(self):
        if self.down_done:
            return
        self.down_done = True
        for key in list(self.procs):
            try:
                self.stop(key)
            except Exception as e:
                log(f"stopping {key}: {e}")
        for ns in self.created_ns or [self.host_ns, self.inet_ns]:
            remove_netns(ns)
        if not KEEP:
            shutil.rmtree(self.dir, ignore_errors=True)

    # ---- running load generators -----------------------------------------------------
    def argv(self, target: str, cmd: list, logs: str | None = None, awf_args=()) -> list[str]:
        """The argv that runs `cmd` for `target`: in the host ns, or in awf's sandbox there
        (`awf_args`: further awf options, e.g. --ssl-bump)."""
        cmd = list(map(str, cmd))
        if target != "awf":
            return ["ip", "netns", "exec", self.host_ns, *cmd]
        return ["ip", "netns", "exec", self.host_ns, AWF_BIN, "--dns-servers", DNS4,
                "--allow-domains", NAME, *map(str, awf_args),
                "--proxy-logs-dir", logs or self.new_awf_logs(), "--", *cmd]

    def new_awf_logs(self) -> str:
        self.awf_counter += 1
        d = self.dir / "logs" / f"awf-{self.awf_counter:04d}"
        d.mkdir(mode=0o755)
        return str(d)

    def exec(self, target: str, cmd: list, timeout: float, **kw) -> tuple[int | None, str, str]:
        """Run a load generator for `target`; (rc or None on timeout, stdout, stderr)."""
        rc, out, err, _ = self.measure(target, cmd, timeout, cpu=False, **kw)
        return rc, out, err

    def measure(self, target: str, cmd: list, timeout: float, cpu: bool = True,
                on_start=None, on_end=None, logs_check=None, awf_args=()):
        """Run a load generator for `target` and, with `cpu`, the CPU time the proxy spent
        while it ran: (rc or None on timeout, stdout, stderr, proxy CPU seconds or None).

        The command runs under wrap.sh, which prints a marker before and after it and then
        waits (at most 5 s) for a release file: the harness reads the proxy's utime+stime at
        both markers, so awf's own start and exit are not counted, only the load."""
        logs = self.new_awf_logs() if target == "awf" else None
        release = self.dir / f"release-{time.monotonic_ns()}"
        cmd = [self.wrapper(), release, *cmd]
        errf = open(self.dir / "last-stderr", "w+")
        p = subprocess.Popen(self.argv(target, cmd, logs, awf_args), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=errf, env=clean_env(),
                             start_new_session=True, preexec_fn=_set_pdeathsig)
        out_lines, cpu0, cpu_s, rc, cmd_rc = [], None, None, None, None
        deadline = time.monotonic() + timeout
        fd, pending = p.stdout.fileno(), b""
        try:
            eof = False
            while not eof:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise subprocess.TimeoutExpired(cmd, timeout)
                # Raw reads (no Python-side buffering): a marker is seen the moment it is written.
                ready, _, _ = select.select([fd], [], [], min(left, 1.0))
                if not ready:
                    continue
                data = os.read(fd, 65536)
                eof = not data
                pending += data
                *lines, pending = pending.split(b"\n")
                if eof and pending:
                    lines.append(pending)
                for raw in lines:
                    line = raw.decode("utf-8", "replace") + "\n"
                    if line.startswith("@@BENCH-START"):
                        cpu0 = self.cpu_seconds(target, p) if cpu and target != "direct" else None
                        if on_start:
                            on_start(p)
                    elif line.startswith("@@BENCH-END"):
                        cpu1 = self.cpu_seconds(target, p) if cpu0 is not None else None
                        if cpu0 is not None and cpu1 is not None:
                            cpu_s = cpu1 - cpu0
                        if on_end:
                            on_end(p)
                        release.touch()
                        cmd_rc = int(line.split()[1]) if len(line.split()) > 1 else 0
                        # The load is over: awf (or the plain wrapper) must now end promptly.
                        deadline = min(deadline, time.monotonic() + EXIT_GRACE)
                    else:
                        out_lines.append(line)
            rc = p.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            if cmd_rc is not None and target == "awf":
                # The measurement is complete, but awf did not exit after its command ended.
                # Keep the measurement, kill awf, and put the hang on the record.
                state = "?"
                try:
                    with open(f"/proc/{p.pid}/stat") as f:
                        state = f.read().rsplit(")", 1)[1].split()[0]
                except OSError:
                    pass
                self.exit_hangs.append(f"{shlex.join(map(str, cmd[2:]))[:120]} (awf state {state}, "
                                       f"CPU {self.cpu_seconds('awf', p) or 0:.1f} s)")
                log(f"  warning: awf did not exit within {EXIT_GRACE} s after its command ended "
                    f"(process state {state}); killed")
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()
            rc = cmd_rc if target == "awf" else None
        finally:
            p.stdout.close()
            release.unlink(missing_ok=True)
        errf.seek(0)
        err = errf.read()
        errf.close()
        if logs and logs_check:
            logs_check(logs)
        if logs and not KEEP:
            shutil.rmtree(logs, ignore_errors=True)
        self.trim_logs()
        return rc, "".join(out_lines), err, cpu_s

    def wrapper(self) -> str:
        f = self.dir / "wrap.sh"
        if not f.exists():
            f.write_text("""#!/bin/sh
# wrap.sh RELEASE CMD...: markers around CMD, then wait (bounded) for the harness's release file
rel=$1; shift
echo "@@BENCH-START"
"$@"
rc=$?
echo "@@BENCH-END $rc"
i=0
while [ ! -e "$rel" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done
exit $rc
""")
            os.chmod(f, 0o755)
        return str(f)

    # ---- the proxies' processes -------------------------------------------------------
    def proxy_pids(self, target: str, launched: subprocess.Popen | None = None) -> list[int]:
        if target == "awf":
            # `ip netns exec` execs awf: the launched pid is awf itself, the process outside the
            # sandbox. Its children (the sandbox init and the command) are not counted.
            exe = os.path.basename(os.readlink(f"/proc/{launched.pid}/exe"))
            if exe != "awf":
                raise RuntimeError(f"pid {launched.pid} is {exe}, not awf")
            return [launched.pid]
        leader = self.procs[target].pid
        # squid -N and tinyproxy -d run as one process (tinyproxy with a thread per client);
        # any child would be in the process group the harness started.
        pids = []
        for d in Path("/proc").iterdir():
            if d.name.isdigit():
                try:
                    if os.getpgid(int(d.name)) == leader and \
                            os.path.basename(os.readlink(f"/proc/{d.name}/exe")) != "ip":
                        pids.append(int(d.name))
                except OSError:
                    pass
        return pids

    def cpu_seconds(self, target: str, launched=None) -> float | None:
        """utime + stime of the proxy's processes (all threads, live and exited); None when
        the proxy is gone."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        try:
            pids = self.proxy_pids(target, launched)
        except OSError as e:
            log(f"  cannot read the CPU time of {target}: {e}")
            return None
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except OSError:
                pass
        return total / tick

    @staticmethod
    def rss_kib(pids) -> int:
        total = 0
        for pid in pids:
            try:
                with open(f"/proc/{pid}/status") as f:
                    for line in f:
                        if line.startswith("VmRSS:"):
                            total += int(line.split()[1])
            except OSError:
                pass
        return total


# ------------------------------------------------------------------------------------------
# Workloads
# ------------------------------------------------------------------------------------------
def proxy_url(target: str) -> str | None:
    return {"squid": f"http://127.0.0.1:{SQUID_PORT}", "tinyproxy": f"http://127.0.0.1:{TINYPROXY_PORT}",
            "awf": f"http://127.0.0.1:{AWF_PORT}"}.get(target)


def proxy_port(target: str) -> int:
    return {"squid": SQUID_PORT, "tinyproxy": TINYPROXY_PORT, "awf": AWF_PORT}[target]


class Bench:
    def __init__(self, net: BenchNet):
        self.net = net
        self.samples: dict = {}     # metric -> target -> [values]
        self.errors: dict = {}      # metric -> target -> [messages]
        self.available = list(TARGETS)
        self.extra: dict = {}

    def add(self, metric: str, target: str, value):
        self.samples.setdefault(metric, {}).setdefault(target, []).append(value)

    def err(self, metric: str, target: str, msg: str):
        msg = msg.strip().replace("\n", " | ")[-400:]
        self.errors.setdefault(metric, {}).setdefault(target, []).append(msg)
        log(f"  {metric} {target}: ERROR {msg}")

    def targets(self, with_direct=True):
        return [t for t in self.available if with_direct or t != "direct"]

    # ---- preflight -------------------------------------------------------------------
    def preflight(self):
        """One request of each kind per target; a target that fails is left out (and said)."""
        ca = self.net.ca
        for t in list(self.available):
            checks = []
            fmt_ = ["-w", "%{http_code} %{size_download}\\n", "--max-time", "10"]
            if t == "direct":
                checks.append(["curl", "-sS", "-o", "/dev/null", *fmt_, f"http://{NAME}/1k"])
                checks.append(["curl", "-sS", "-o", "/dev/null", *fmt_, "--cacert", ca, f"https://{NAME}/1k"])
            else:
                px = proxy_url(t)
                for extra, url in (([], f"http://{NAME}/1k"), (["--proxytunnel"], f"http://{NAME}/1k"),
                                   (["--cacert", ca], f"https://{NAME}/1k")):
                    checks.append(["curl", "-sS", "-o", "/dev/null", *fmt_, "-x", px, *extra, url])
            script = " && ".join(shlex.join(c) for c in checks)
            access: list[str] = []

            def read_access(logs_dir):
                try:
                    access.extend(Path(logs_dir, "access.log").read_text().splitlines())
                except OSError:
                    pass
            rc, out, err = self.net.exec(t, ["sh", "-c", script], timeout=60, logs_check=read_access)
            ok = rc == 0 and out.split() == ["200", "1024"] * len(checks)
            if ok and t == "awf":
                # The requests really went through awf's gateway: one access.log record each.
                log(f"preflight awf: {len(access)} access.log records "
                    f"({', '.join(a.split()[5] + ' ' + a.split()[8] for a in access if len(a.split()) > 8)})")
                if len(access) != len(checks):
                    ok, err = False, f"awf's access.log has {len(access)} records, expected {len(checks)}"
            if not ok:
                log(f"preflight {t}: FAILED (rc={rc}) out={out!r} err={err.strip()[-800:]!r}; "
                    f"{t} is left out")
                self.available.remove(t)
                self.extra.setdefault("preflight_failures", {})[t] = (err or out)[-800:]
            else:
                log(f"preflight {t}: ok")

    # ---- 1. plain HTTP forward proxying (wrk) --------------------------------------------
    def wrk_script(self, target: str) -> str:
        kind = "direct" if target == "direct" else "proxy"
        path = "/1k" if kind == "direct" else f"http://{NAME}/1k"
        f = self.net.dir / f"wrk-{kind}.lua"
        if not f.exists():
            f.write_text(f"""
-- {'origin-form' if kind == 'direct' else 'absolute-URI (explicit proxy)'} requests for {NAME}
wrk.path = "{path}"
wrk.headers["Host"] = "{NAME}"
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCHJSON {{\\"requests\\":%d,\\"duration_us\\":%d,\\"bytes\\":%d,\\"mean_us\\":%.1f," ..
    "\\"p50_us\\":%d,\\"p90_us\\":%d,\\"p99_us\\":%d,\\"max_us\\":%d,\\"err_connect\\":%d," ..
    "\\"err_read\\":%d,\\"err_write\\":%d,\\"err_status\\":%d,\\"err_timeout\\":%d}}\\n",
    summary.requests, summary.duration, summary.bytes, latency.mean,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
""")
            os.chmod(f, 0o644)
        return str(f)

    def wrk_once(self, target: str, conns: int, duration: int) -> dict:
        url = f"http://{NAME}/" if target == "direct" else f"http://127.0.0.1:{proxy_port(target)}/"
        cmd = ["wrk", "-t2", f"-c{conns}", f"-d{duration}s", "--timeout", "5s",
               "-s", self.wrk_script(target), url]
        rc, out, err, cpu = self.net.measure(target, cmd, timeout=duration + 30)
        m = re.search(r"BENCHJSON (\{.*\})", out)
        if rc != 0 or not m:
            raise RuntimeError(f"wrk rc={rc}: {out[-500:]} {err[-500:]}")
        r = json.loads(m.group(1))
        r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
        r["errors"] = r["err_connect"] + r["err_read"] + r["err_write"] + r["err_status"] + r["err_timeout"]
        r["cpu_s"] = cpu
        return r

    def w_http(self):
        for conns in CONNS:
            key = f"http{conns}"
            for rep in range(REPS):
                for t in self.targets():
                    try:
                        r = self.wrk_once(t, conns, DURATION)
                    except Exception as e:
                        self.err(f"{key}_rps", t, str(e))
                        continue
                    if r["err_status"] or r["requests"] == 0:
                        self.err(f"{key}_rps", t, f"{r['err_status']} non-2xx answers of {r['requests']}")
                        continue
                    self.add(f"{key}_rps", t, r["rps"])
                    self.add(f"{key}_p50_ms", t, r["p50_us"] / 1000)
                    self.add(f"{key}_p99_ms", t, r["p99_us"] / 1000)
                    self.add(f"{key}_mean_ms", t, r["mean_us"] / 1000)
                    self.add(f"{key}_socket_errors", t, r["errors"])
                    cpu = ""
                    if r["cpu_s"] is not None:
                        self.add(f"{key}_cpu_us", t, r["cpu_s"] * 1e6 / r["requests"])
                        cpu = f"  proxy CPU {r['cpu_s'] * 1e6 / r['requests']:.1f} µs/req"
                    log(f"  http c={conns} rep {rep + 1}/{REPS} {t:9s} {r['rps']:9.0f} req/s  "
                        f"p50 {r['p50_us'] / 1000:.2f} ms  p99 {r['p99_us'] / 1000:.2f} ms  "
                        f"socket errors {r['errors']}{cpu}")

    # ---- 2./3. bulk transfers (curl) -----------------------------------------------------
    def curl_bulk(self, target: str, kind: str) -> tuple[float, float | None]:
        url_http, url_https = f"http://{NAME}/bulk", f"https://{NAME}/bulk"
        base = ["curl", "-sS", "-o", "/dev/null", "--max-time", "120",
                "-w", "%{http_code} %{size_download} %{speed_download}\\n"]
        if target == "direct":
            cmd = base + (["--cacert", self.net.ca, url_https] if kind == "connect_tls" else [url_http])
        else:
            cmd = base + ["-x", proxy_url(target)] + {
                "connect_plain": ["--proxytunnel", url_http],
                "connect_tls": ["--cacert", self.net.ca, url_https],
                "http_bulk": [url_http]}[kind]
        rc, out, err, cpu = self.net.measure(target, cmd, timeout=150)
        parts = out.split()
        if rc != 0 or len(parts) < 3 or parts[0] != "200" or int(parts[1]) != BULK_MIB * MIB:
            raise RuntimeError(f"curl rc={rc} out={out.strip()!r} err={err.strip()[-300:]!r}")
        return float(parts[2]) / 1e6, cpu  # MB/s, proxy CPU seconds

    def w_bulk(self, kinds):
        for rep in range(REPS):
            for kind in kinds:
                for t in self.targets():
                    try:
                        mbs, cpu = self.curl_bulk(t, kind)
                    except Exception as e:
                        self.err(f"{kind}_mbs", t, str(e))
                        continue
                    self.add(f"{kind}_mbs", t, mbs)
                    extra = ""
                    if cpu is not None:
                        per_gb = cpu * 1000 / (BULK_MIB * MIB / 1e9)
                        self.add(f"{kind}_cpu_ms_per_gb", t, per_gb)
                        extra = f"  proxy CPU {per_gb:.0f} ms/GB"
                    log(f"  {kind} rep {rep + 1}/{REPS} {t:9s} {mbs:8.0f} MB/s{extra}")

    # ---- 3b. TLS interception (awf --ssl-bump) against splicing and direct ---------------
    def squid_can_bump(self) -> bool:
        """Squid's ssl-bump needs a build with the certificate generator (--enable-ssl-crtd)."""
        try:
            return "enable-ssl-crtd" in run(["squid", "-v"], check=False, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            return False

    def intercept_once(self, way: str) -> tuple[float, float | None]:
        """One BULK_MIB MiB HTTPS download of https://bench.test/bulk, one of three ways:
        direct (curl to the origin, --cacert bench CA), awf-spliced (CONNECT through awf, TLS
        relayed untouched, --cacert bench CA) or awf-intercepted (CONNECT through awf
        --ssl-bump: curl gets no --cacert and must trust the run's CA through the sandbox's
        defaults). Returns (MiB/s, awf CPU seconds or None)."""
        url = f"https://{NAME}/bulk"
        cmd = ["curl", "-sS", "-o", "/dev/null", "--max-time", "120",
               "-w", "%{http_code} %{size_download} %{speed_download}\\n"]
        awf_args: list = []
        if way == "direct":
            target, cmd = "direct", cmd + ["--cacert", self.net.ca, url]
        elif way == "awf-spliced":
            target, cmd = "awf", cmd + ["-x", proxy_url("awf"), "--cacert", self.net.ca, url]
        elif way == "awf-intercepted":
            target, cmd = "awf", cmd + ["-x", proxy_url("awf"), url]
            awf_args = ["--ssl-bump", "--allow-urls", f"https://{NAME}/*",
                        "--ssl-bump-ca-file", self.net.ca]
        else:
            raise ValueError(way)
        audit: list[dict] = []

        def read_audit(logs_dir):
            try:
                for line in Path(logs_dir, "audit.jsonl").read_text().splitlines():
                    try:
                        audit.append(json.loads(line))
                    except ValueError:
                        pass
            except OSError:
                pass
        rc, out, err, cpu = self.net.measure(target, cmd, timeout=150, awf_args=awf_args,
                                             logs_check=read_audit if target == "awf" else None)
        parts = out.split()
        if rc != 0 or len(parts) < 3 or parts[0] != "200" or int(parts[1]) != BULK_MIB * MIB:
            raise RuntimeError(f"curl rc={rc} out={out.strip()!r} err={err.strip()[-300:]!r}")
        # The path really was the one named: an intercepted GET is in awf's audit log as a
        # kind "intercept" record (with the URL and status); a spliced tunnel has none.
        bumped = [a for a in audit if a.get("kind") == "intercept" and a.get("url") == url
                  and a.get("status") == 200 and a.get("action") == "allow"]
        if way == "awf-intercepted" and not bumped:
            raise RuntimeError(f"no kind 'intercept' record for {url} in awf's audit.jsonl: "
                               f"{[a.get('kind') for a in audit]}")
        if way == "awf-spliced" and (any(a.get("kind") == "intercept" for a in audit) or
                                     not any(a.get("kind") == "connect" for a in audit)):
            raise RuntimeError(f"the spliced run's audit.jsonl is not one CONNECT tunnel: "
                               f"{[a.get('kind') for a in audit]}")
        return float(parts[2]) / MIB, cpu

    def w_intercept(self):
        ways = (["direct"] if "direct" in self.available else []) + \
            (["awf-spliced", "awf-intercepted"] if "awf" in self.available else [])
        if "awf" not in self.available:
            self.err("intercept_mibs", "awf", "awf is not among the available targets")
        # Squid as a 4th way needs ssl-bump (a build with ssl-crtd); Debian 12's has none, so
        # the column ("squid-bump") is left out, whatever TARGETS says.
        if self.squid_can_bump():
            msg = "squid: this build has ssl-crtd, but the harness has no Squid ssl-bump run yet"
        else:
            msg = "squid: no ssl-bump support in this build"
        log(f"  {msg}")
        self.extra.setdefault("notes", []).append(f"intercept: {msg}")
        for rep in range(REPS):
            for way in ways:
                try:
                    mibs, cpu = self.intercept_once(way)
                except Exception as e:
                    self.err("intercept_mibs", way, str(e))
                    continue
                self.add("intercept_mibs", way, mibs)
                extra = ""
                if cpu is not None:
                    per_gib = cpu / (BULK_MIB / 1024)
                    self.add("intercept_cpu_s_per_gib", way, per_gib)
                    extra = f"  awf CPU {per_gib:.2f} s/GiB"
                log(f"  intercept rep {rep + 1}/{REPS} {way:15s} {mibs:8.0f} MiB/s{extra}")
        med = {w: median(self.samples.get("intercept_mibs", {}).get(w, [])) for w in ways}
        if med.get("awf-intercepted") and med.get("awf-spliced"):
            log(f"  intercept medians: " + ", ".join(f"{w} {v:.0f} MiB/s" for w, v in med.items()
                                                      if v is not None) +
                f"; intercepted/spliced {med['awf-intercepted'] / med['awf-spliced']:.2f}×" +
                (f", intercepted/direct {med['awf-intercepted'] / med['direct']:.2f}×"
                 if med.get("direct") else ""))

    # ---- 4. new tunnels per second (tunnel_rate) -----------------------------------------
    def tunnel_cmd(self, target: str, *extra) -> list:
        where = ["--direct", f"{ORIGIN4}:443"] if target == "direct" else \
            ["--proxy", f"127.0.0.1:{proxy_port(target)}"]
        return [TOOLS_DIR / "tunnel_rate", *where, "--host", NAME, "--cafile", self.net.ca, *extra]

    def w_tunnels(self):
        for rep in range(REPS):
            for t in self.targets():
                cmd = self.tunnel_cmd(t, "--concurrency", TUNNEL_CONCURRENCY, "--duration", DURATION,
                                      "--path", "/1k")
                rc, out, err, cpu = self.net.measure(t, cmd, timeout=DURATION + 60)
                m = re.search(r"(\{\"mode\":\"rate\".*\})", out)
                if not m:
                    self.err("tunnels_per_s", t, f"rc={rc} {out[-300:]} {err[-300:]}")
                    continue
                r = json.loads(m.group(1))
                if r["ok"] == 0:
                    self.err("tunnels_per_s", t, f"no tunnel completed: {r['first_error']}")
                    continue
                self.add("tunnels_per_s", t, r["rate"])
                self.add("tunnels_p50_ms", t, r["p50_ms"])
                self.add("tunnels_p99_ms", t, r["p99_ms"])
                self.add("tunnels_errors", t, r["errors"])
                extra = ""
                if cpu is not None:
                    self.add("tunnels_cpu_us", t, cpu * 1e6 / r["ok"])
                    extra = f"  proxy CPU {cpu * 1e6 / r['ok']:.0f} µs/tunnel"
                if r["errors"]:
                    self.err("tunnels_errors", t, f"{r['errors']} failed tunnels: {r['first_error']}")
                log(f"  tunnels rep {rep + 1}/{REPS} {t:9s} {r['rate']:8.0f} tunnels/s  "
                    f"p99 {r['p99_ms']:.1f} ms  errors {r['errors']}{extra}")

    # ---- 5. memory (RSS idle and with N idle TLS tunnels) ---------------------------------
    def hold(self, target: str, n: int) -> tuple[int, int]:
        """Start a holder with n tunnels; return (proxy RSS KiB, tunnels held)."""
        release = self.net.dir / f"release-{time.monotonic_ns()}"
        t = target
        cmd = self.tunnel_cmd(t, "--hold", n, "--warm", 1, "--release-file", release,
                              "--hold-max", 60, "--concurrency", 32)
        logs = self.net.new_awf_logs() if t == "awf" else None
        p = subprocess.Popen(self.net.argv(t, cmd, logs), stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=clean_env(), start_new_session=True, preexec_fn=_set_pdeathsig)
        try:
            line, deadline = "", time.monotonic() + 60
            while time.monotonic() < deadline:
                rl, _, _ = select.select([p.stdout], [], [], 0.5)
                if rl:
                    line = p.stdout.readline()
                    if line.startswith("{") or not line:
                        break
                elif p.poll() is not None:
                    break
            if not line.startswith("{"):
                raise RuntimeError(f"holder gave no result: rc={p.poll()} {p.stderr.read()[-500:] if p.poll() is not None else ''}")
            r = json.loads(line)
            time.sleep(0.5)  # let the proxy settle (buffers released, timers run)
            rss = self.net.rss_kib(self.net.proxy_pids(t, p))
            if r["errors"]:
                raise RuntimeError(f"holder: {r['errors']} tunnels failed ({r['first_error']}), "
                                   f"{r['held']} held; proxy RSS {rss} KiB")
            return rss, r["held"]
        finally:
            release.touch()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            release.unlink(missing_ok=True)
            if logs and not KEEP:
                shutil.rmtree(logs, ignore_errors=True)

    def w_memory(self):
        for rep in range(MEM_REPS):
            for t in self.targets(with_direct=False):
                if t in ("squid", "tinyproxy"):  # a fresh instance: RSS not inflated by earlier load
                    self.net.stop(t)
                    getattr(self.net, f"start_{t}")()
                for n, key in ((0, "rss_idle_mib"), (HOLD_TUNNELS, "rss_tunnels_mib")):
                    try:
                        rss, held = self.hold(t, n)
                    except Exception as e:
                        self.err(key, t, str(e))
                        continue
                    self.add(key, t, rss / 1024)
                    log(f"  memory rep {rep + 1}/{MEM_REPS} {t:9s} {held:5d} idle tunnels: "
                        f"RSS {rss / 1024:.1f} MiB")

    # ---- 6. startup overhead (hyperfine) --------------------------------------------------
    def w_startup(self):
        logs = self.net.new_awf_logs()
        out = self.net.dir / "hyperfine.json"
        # gh-aw's structured config file (AWF v0.28) with 1,000 allowed domains.
        config = self.net.dir / "awf-config-1000.json"
        config.write_text(json.dumps({
            "$schema": "https://github.com/github/gh-aw-firewall/releases/download/v0.28.20/"
                       "awf-config.schema.json",
            "network": {"allowDomains": [f"d{i}.example.test" for i in range(1000)],
                        "isolation": True},
            "container": {"imageTag": "0.28.20"},
            "logging": {"proxyLogsDir": str(logs)}}))
        cmds = ["true", "unshare -n -m -p -f true",
                f"{AWF_BIN} --proxy-logs-dir {logs} --allow-domains x -- true",
                f"{AWF_BIN} --config {config} --log-level warn -- true"]
        r = run(["ip", "netns", "exec", self.net.host_ns, "hyperfine", "-N", "--style", "basic",
                 "--warmup", "5", "--runs", STARTUP_RUNS, "--export-json", out, *cmds],
                check=False, timeout=600)
        if r.returncode != 0:
            self.err("startup_ms", "awf", f"hyperfine failed: {r.stderr[-600:]}")
            return
        res = json.loads(out.read_text())["results"]
        for key, item in zip(("true", "unshare", "awf", "awf_config1000"), res):
            self.add("startup_ms", key, item["median"] * 1000)
            self.extra.setdefault("startup_runs_ms", {})[key] = [x * 1000 for x in item["times"]]
            log(f"  startup {key:8s} median {item['median'] * 1000:.2f} ms")

    # ---- 7. policy engine (Google Benchmark) ----------------------------------------------
    def w_policy(self):
        out = self.net.dir / "policy.json"
        reps = max(3, REPS) if not QUICK else 1
        r = run([TOOLS_DIR / "policy_bench", "--benchmark_format=json", f"--benchmark_out={out}",
                 f"--benchmark_repetitions={reps}", "--benchmark_report_aggregates_only=true",
                 f"--benchmark_min_time={0.05 if QUICK else 0.3}"], check=False, timeout=900)
        if r.returncode != 0 or not out.exists():
            self.err("policy", "awf", f"policy_bench failed: {r.stderr[-600:]}")
            return
        data = json.loads(out.read_text())
        self.extra["policy_context"] = data.get("context", {})
        scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}   # -> ms
        for b in data["benchmarks"]:
            # With repetitions, the median aggregate; with one run, the run itself.
            if reps > 1 and b.get("aggregate_name") != "median":
                continue
            if reps == 1 and b.get("run_type", "iteration") != "iteration":
                continue
            if b.get("error_occurred"):
                self.err("policy", "awf", f"{b['name']}: {b.get('error_message')}")
                continue
            name = b.get("run_name", b["name"])
            m = re.fullmatch(r"BM_(\w+)/(\d+)", name)
            if not m:
                continue
            kind, n = m.group(1), int(m.group(2))
            ms = b["cpu_time"] * scale[b["time_unit"]]  # CPU time: robust against a busy machine
            if kind == "Build":
                self.add(f"policy_build_{n}_ms", "awf", ms)
            else:
                self.add(f"policy_{'hit' if kind == 'LookupHit' else 'miss'}_{n}_ns", "awf", ms * 1e6)
        for k in sorted(x for x in self.samples if x.startswith("policy_")):
            log(f"  {k}: {self.samples[k]['awf'][0]:.3f}")

    # ---- optional: where awf's time goes (perf, cpu-clock sampling) ------------------------
    def w_profile(self):
        """Where awf's time goes: cpu-clock samples of awf (perf record, call chains bucketed by
        system call), and exact system-call counts per unit of work for awf and for Squid
        (perf trace -s), in three scenarios. Writes bench/results/profile.txt."""
        if "awf" not in self.available or not shutil.which("perf"):
            self.err("profile", "awf", "needs perf (linux-perf) and a working awf")
            return
        secs = max(DURATION, 3)

        def scenario(name, t):
            if name == "http32":
                return ["wrk", "-t2", "-c32", f"-d{secs}s", "--timeout", "5s", "-s", self.wrk_script(t),
                        f"http://127.0.0.1:{proxy_port(t)}/"]
            if name == "tunnels":
                return self.tunnel_cmd(t, "--concurrency", TUNNEL_CONCURRENCY, "--duration", secs,
                                       "--path", "/1k")
            return ["sh", "-c", " ; ".join(
                shlex.join(["curl", "-sS", "-o", "/dev/null", "-x", proxy_url(t), "--proxytunnel",
                            f"http://{NAME}/bulk"]) for _ in range(5))]

        def units(name, out):
            """(number of units of work, unit name) done by a scenario's load generator."""
            if name == "http32":
                m = re.search(r'BENCHJSON .*"requests":(\d+)', out)
                return (int(m.group(1)) if m else 0), "request"
            if name == "tunnels":
                m = re.search(r'"ok":(\d+)', out)
                return (int(m.group(1)) if m else 0), "tunnel"
            return 5 * BULK_MIB, "MiB"

        def perf_hooks(argv_for_pid, target):
            state = {}

            def start(p):
                pid = p.pid if target == "awf" else self.net.proxy_pids(target)[0]
                state["perf"] = subprocess.Popen(argv_for_pid(pid), stdout=subprocess.DEVNULL,
                                                 stderr=subprocess.DEVNULL, start_new_session=True)

            def end(p):
                perf = state.get("perf")
                if perf:
                    perf.send_signal(signal.SIGINT)
                    try:
                        perf.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        perf.kill()
                        perf.wait()
            return start, end

        RESULTS_DIR.mkdir(exist_ok=True)
        report = [f"# awf profile, {dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}, "
                  f"load average {os.getloadavg()[0]:.2f} (bench/bench.py, workload 'profile')", ""]
        for name in ("http32", "tunnels", "connect_plain"):
            # 1. samples (awf only)
            data = self.net.dir / f"perf-{name}.data"
            start, end = perf_hooks(lambda pid: ["perf", "record", "-g", "-e", "cpu-clock", "-F", "499",
                                                 "-p", str(pid), "-o", str(data)], "awf")
            cmd = scenario(name, "awf")
            rc, out, err, cpu = self.net.measure("awf", cmd, timeout=120, on_start=start, on_end=end)
            n, unit = units(name, out)
            if not data.exists():
                self.err("profile", "awf", f"{name}: no perf data (rc={rc}) {err[-300:]}")
                continue
            script = run(["perf", "script", "-i", data, "-F", "ip,sym,dso"], check=False, timeout=300).stdout
            cats, dsos, total = summarize_perf_script(script)
            total = max(total, 1)
            report += [f"== {name}: {shlex.join(map(str, cmd))[:140]}",
                       f"awf: {cpu or 0:.2f} s CPU for {n} {unit}s "
                       f"({(cpu or 0) * 1e6 / max(n, 1):.1f} µs per {unit}); {total} samples (cpu-clock, 499 Hz)",
                       "-- samples by leaf DSO:",
                       *[f"  {100 * c / total:5.1f}%  {k}" for k, c in dsos.most_common(5)],
                       "-- samples by system call (kernel samples under a syscall) or else leaf function:",
                       *[f"  {100 * c / total:5.1f}%  {k}" for k, c in cats.most_common(22)]]
            log(f"  profile {name}: {total} samples; top: " +
                ", ".join(f"{k} {100 * c / total:.0f}%" for k, c in cats.most_common(3)))
            # 2. exact system-call counts per unit of work (awf and Squid)
            for t in [x for x in ("awf", "squid") if x in self.available]:
                trace = self.net.dir / f"trace-{name}-{t}.txt"
                start, end = perf_hooks(lambda pid: ["perf", "trace", "-s", "-p", str(pid), "-o", str(trace)], t)
                rc, out, err, cpu = self.net.measure(t, scenario(name, t), timeout=180,
                                                     on_start=start, on_end=end)
                n, unit = units(name, out)
                counts = parse_perf_trace_summary(trace.read_text(errors="replace") if trace.exists() else "")
                if not counts or not n:
                    self.err("profile", t, f"{name}: no syscall summary (rc={rc})")
                    continue
                tot = sum(counts.values())
                report += [f"-- {t}: system calls per {unit} (perf trace -s; {n} {unit}s, "
                           f"tracing slows the proxy down): {tot / n:.1f} in all",
                           "   " + ", ".join(f"{k} {c / n:.2f}" for k, c in counts.most_common(12))]
                log(f"  profile {name} {t}: {tot / n:.1f} syscalls per {unit}")
            report.append("")
        (RESULTS_DIR / PROFILE_FILE).write_text("\n".join(report) + "\n")
        log(f"wrote {RESULTS_DIR / PROFILE_FILE}")

    # ---- everything --------------------------------------------------------------------
    def run_all(self):
        t0 = time.monotonic()
        self.preflight()
        steps = [("http", "plain HTTP forward proxying, 1 KiB (wrk)", self.w_http),
                 ("connect", "CONNECT tunnel bulk, plain and TLS (curl)",
                  lambda: self.w_bulk(["connect_plain", "connect_tls"])),
                 ("bulk", "plain HTTP bulk (curl)", lambda: self.w_bulk(["http_bulk"])),
                 ("intercept", "HTTPS bulk: direct, awf spliced, awf intercepted (--ssl-bump) (curl)",
                  self.w_intercept),
                 ("tunnels", "new tunnels/s: TCP + CONNECT + TLS + GET (tunnel_rate)", self.w_tunnels),
                 ("memory", f"proxy RSS idle and with {HOLD_TUNNELS} idle TLS tunnels", self.w_memory),
                 ("startup", "startup overhead (hyperfine)", self.w_startup),
                 ("policy", "policy engine (Google Benchmark)", self.w_policy),
                 ("profile", "awf profile (perf, cpu-clock)", self.w_profile)]
        for key, title, fn in steps:
            if key not in WORKLOADS:
                continue
            if key not in ("startup", "policy") and not self.available:
                continue
            s = time.monotonic()
            load = os.getloadavg()[0]
            log(f"== {title} (load average {load:.2f})")
            if load > (os.cpu_count() or 1) * 0.5:
                log("   warning: the machine is busy with other work; expect noisy figures")
            fn()
            self.extra.setdefault("workload_seconds", {})[key] = round(time.monotonic() - s, 1)
            self.extra.setdefault("loadavg_1m_at_start", {})[key] = round(load, 2)
        self.extra["total_seconds"] = round(time.monotonic() - t0, 1)
        if self.net.exit_hangs:
            self.extra["awf_exit_hangs"] = self.net.exit_hangs
            for h in self.net.exit_hangs:
                self.errors.setdefault("awf_exit", {}).setdefault("awf", []).append(
                    f"{len(self.net.exit_hangs)} awf run(s) did not exit within {EXIT_GRACE} s after "
                    f"the command ended (measurement kept, awf killed), e.g. {h}")
                break


def summarize_perf_script(text: str):
    """Buckets `perf script -F ip,sym,dso` call chains: a sample inside a system call is
    counted under that call (the kernel's frames are reliable); any other sample under its leaf
    function. Returns (Counter by bucket, Counter by leaf DSO, number of samples)."""
    from collections import Counter
    cats, dsos, total = Counter(), Counter(), 0
    for block in re.split(r"\n\s*\n", text):
        frames = []
        for line in block.strip().splitlines():
            m = re.match(r"\s*[0-9a-f]+\s+(.*)\s+\((.*)\)\s*$", line)
            if m:
                frames.append((m.group(1).strip(), os.path.basename(m.group(2))))
        if not frames:
            continue
        total += 1
        dsos[frames[0][1]] += 1
        names = [f.split("+0x")[0] for f, _ in frames]
        sysname = None
        for pattern in (r"(?:__x64_sys_|__do_sys_|__se_sys_)(\w+)", r"_*sys_(\w+)"):
            sysname = next((m.group(1) for f in names if (m := re.fullmatch(pattern, f))), None)
            if sysname:
                break
        if sysname:
            cats["syscall " + sysname] += 1
        elif any(f in ("exit_to_user_mode_loop", "syscall_exit_to_user_mode") for f in names):
            cats["kernel: scheduling on return from a syscall"] += 1
        elif frames[0][1] == "[kernel.kallsyms]":
            where = "softirq" if any("softirq" in f for f in names) else "other"
            cats[f"kernel ({where}): {names[0]}"] += 1
        else:
            sym = re.sub(r"<.*>", "<>", frames[0][0].split("+0x")[0])
            cats[f"{frames[0][1]}: {sym[:100]}"] += 1
    return cats, dsos, total


def parse_perf_trace_summary(text: str):
    """Sums the per-thread tables of `perf trace -s` into a Counter: syscall -> calls."""
    from collections import Counter
    counts = Counter()
    for line in text.splitlines():
        m = re.match(r"\s+([a-z_0-9]+)\s+(\d+)\s+\d+\s+[\d.]+\s", line)
        if m and m.group(1) != "syscall":
            counts[m.group(1)] += int(m.group(2))
    return counts


# ------------------------------------------------------------------------------------------
# Report
# ------------------------------------------------------------------------------------------
def fmt(v, unit):
    if v is None:
        return "-"
    if unit in ("req/s", "MB/s", "MiB/s", "tunnels/s"):
        return f"{v:,.0f}"
    if unit == "×":
        return f"{v:.2f}×"
    if unit == "s":
        return f"{v:.2f}"
    if unit in ("ns",):
        return f"{v:.0f}"
    if unit == "µs":
        return f"{v:.1f}" if v < 100 else f"{v:.0f}"
    if unit in ("ms", "MiB"):
        return f"{v:.2f}" if v < 10 else (f"{v:.1f}" if v < 100 else f"{v:.0f}")
    return f"{v:.3g}"


def build_rows(b: Bench) -> list[dict]:
    med = {m: {t: median(v) for t, v in per.items()} for m, per in b.samples.items()}

    def g(metric, target):
        return med.get(metric, {}).get(target)

    def ratio(a, c):
        return a / c if a is not None and c else None

    rows = []

    def row(metric, label, unit, targets_spec=None, cols=None):
        cols = cols or {t: g(metric, t) for t in ALL_TARGETS}
        awf = cols.get("awf")
        r = {"metric": metric, "label": label, "unit": unit, "values": cols,
             "awf_vs_squid": ratio(awf, cols.get("squid")), "awf_vs_direct": ratio(awf, cols.get("direct")),
             "samples": b.samples.get(metric, {}), "errors": b.errors.get(metric, {}),
             "target": None, "status": None}
        if targets_spec:
            text, checks = targets_spec
            r["target"] = text
            results = [fn() for _, fn in checks]
            if any(x is None for x in results):
                r["status"] = "n/a"
            else:
                failed = [name for (name, _), ok in zip(checks, results) if not ok]
                r["status"] = "PASS" if not failed else "MISS"
                r["missed"] = failed
        rows.append(r)
        return r

    def cmp(a, op, c):
        if a is None or c is None:
            return None
        return {">=": a >= c, "<=": a <= c, "<": a < c}[op]

    for conns in CONNS:
        k = f"http{conns}"
        rps = lambda t, k=k: g(f"{k}_rps", t)  # noqa: E731
        row(f"{k}_rps", f"HTTP 1 KiB, {conns} conns", "req/s",
            ("≥3× squid, ≥0.5× direct",
             [("≥3× squid", lambda: cmp(rps("awf"), ">=", 3 * rps("squid") if rps("squid") else None)),
              ("≥0.5× direct", lambda: cmp(rps("awf"), ">=", 0.5 * rps("direct") if rps("direct") else None))]))
        row(f"{k}_p50_ms", f"  latency p50, {conns} conns", "ms")
        row(f"{k}_p99_ms", f"  latency p99, {conns} conns", "ms",
            ("p99 < squid p50", [("p99 < squid p50", lambda k=k: cmp(g(f"{k}_p99_ms", "awf"), "<",
                                                                     g(f"{k}_p50_ms", "squid")))]))
        row(f"{k}_cpu_us", f"  proxy CPU per request, {conns} conns", "µs")
    cp = lambda t: g("connect_plain_mbs", t)  # noqa: E731
    row("connect_plain_mbs", f"CONNECT bulk {BULK_MIB} MiB, plain HTTP inside", "MB/s",
        ("≥0.9× direct, ≥1.5× squid",
         [("≥0.9× direct", lambda: cmp(cp("awf"), ">=", 0.9 * cp("direct") if cp("direct") else None)),
          ("≥1.5× squid", lambda: cmp(cp("awf"), ">=", 1.5 * cp("squid") if cp("squid") else None))]))
    row("connect_plain_cpu_ms_per_gb", "  proxy CPU per GB, CONNECT plain", "ms")
    row("connect_tls_mbs", f"CONNECT bulk {BULK_MIB} MiB, TLS", "MB/s")
    row("connect_tls_cpu_ms_per_gb", "  proxy CPU per GB, CONNECT TLS", "ms")
    hb = lambda t: g("http_bulk_mbs", t)  # noqa: E731
    row("http_bulk_mbs", f"plain HTTP bulk {BULK_MIB} MiB", "MB/s",
        ("≥0.7× direct (≥4× squid)",
         [("≥0.7× direct", lambda: cmp(hb("awf"), ">=", 0.7 * hb("direct") if hb("direct") else None)),
          ("≥4× squid", lambda: cmp(hb("awf"), ">=", 4 * hb("squid") if hb("squid") else None))]))
    row("http_bulk_cpu_ms_per_gb", "  proxy CPU per GB, plain HTTP", "ms")
    im = lambda w: g("intercept_mibs", w)  # noqa: E731
    r = row("intercept_spliced_mibs", f"HTTPS bulk {BULK_MIB} MiB, awf spliced (CONNECT)", "MiB/s",
            cols={"direct": im("direct"), "awf": im("awf-spliced")})
    r["samples"] = b.samples.get("intercept_mibs", {})
    r = row("intercept_bumped_mibs", f"HTTPS bulk {BULK_MIB} MiB, awf intercepted (--ssl-bump)",
            "MiB/s", cols={"direct": im("direct"), "squid": im("squid-bump"),
                           "awf": im("awf-intercepted")})
    r["samples"] = b.samples.get("intercept_mibs", {})
    r["errors"] = b.errors.get("intercept_mibs", {})
    row("intercept_ratio", "  intercepted / spliced (awf col)", "×",
        cols={"awf": ratio(im("awf-intercepted"), im("awf-spliced"))})
    ic = lambda w: g("intercept_cpu_s_per_gib", w)  # noqa: E731
    row("intercept_spliced_cpu", "  awf CPU per GiB, spliced", "s", cols={"awf": ic("awf-spliced")})
    r = row("intercept_bumped_cpu", "  awf CPU per GiB, intercepted", "s",
            cols={"squid": ic("squid-bump"), "awf": ic("awf-intercepted")})
    r["samples"] = b.samples.get("intercept_cpu_s_per_gib", {})
    tr = lambda t: g("tunnels_per_s", t)  # noqa: E731
    row("tunnels_per_s", f"new TLS tunnels, {TUNNEL_CONCURRENCY} parallel", "tunnels/s",
        ("≥3× squid", [("≥3× squid", lambda: cmp(tr("awf"), ">=", 3 * tr("squid") if tr("squid") else None))]))
    row("tunnels_p50_ms", "  tunnel setup+GET p50", "ms")
    row("tunnels_p99_ms", "  tunnel setup+GET p99", "ms")
    row("tunnels_cpu_us", "  proxy CPU per tunnel", "µs")
    row("rss_idle_mib", "proxy RSS idle (after 1 request)", "MiB",
        ("≤10 MiB", [("≤10 MiB", lambda: cmp(g("rss_idle_mib", "awf"), "<=", 10))]))
    row("rss_tunnels_mib", f"proxy RSS, {HOLD_TUNNELS} idle TLS tunnels", "MiB",
        ("≤40 MiB" if HOLD_TUNNELS >= 1000 else f"≤40 MiB (at 1000; {HOLD_TUNNELS} here)",
         [("≤40 MiB", lambda: cmp(g("rss_tunnels_mib", "awf"), "<=", 40))]))
    st = med.get("startup_ms", {})
    r = row("startup_ms", "startup, median (direct col = `true`)", "ms",
            ("≤ `true` + 10 ms", [("≤ true+10ms", lambda: cmp(st.get("awf"), "<=",
                                                               st["true"] + 10 if st.get("true") is not None else None))]),
            cols={"direct": st.get("true"), "awf": st.get("awf")})
    r["awf_minus_true_ms"] = (st["awf"] - st["true"]) if st.get("awf") is not None and st.get("true") is not None else None
    r["unshare_ms"] = st.get("unshare")
    row("startup_unshare_ms", "  `unshare -n -m -p -f true` (direct col)", "ms", cols={"direct": st.get("unshare")})
    row("startup_config1000_ms", "  awf with a gh-aw config of 1,000 domains", "ms",
        cols={"awf": st.get("awf_config1000")})
    for n in (10, 1000, 100000):
        tgt = ("≤100 ms", [("≤100 ms", lambda n=n: cmp(g(f"policy_build_{n}_ms", "awf"), "<=", 100))]) \
            if n == 100000 else None
        row(f"policy_build_{n}_ms", f"policy build, {n:,} rules", "ms", tgt)
    for n in (10, 1000, 100000):
        for kind in ("hit", "miss"):
            tgt = ("≤200 ns", [("≤200 ns", lambda n=n, kind=kind: cmp(g(f"policy_{kind}_{n}_ns", "awf"), "<=", 200))]) \
                if n == 100000 else None
            row(f"policy_{kind}_{n}_ns", f"policy lookup {kind}, {n:,} rules", "ns", tgt)
    return [r for r in rows if any(v is not None for v in r["values"].values()) or r["errors"]]


def render(rows: list[dict], b: Bench, header: str) -> str:
    cols = ["workload", "unit", "direct", "squid", "tinyproxy", "awf", "awf/squid", "awf/direct",
            "target", "result"]
    table = []
    for r in rows:
        v = r["values"]
        cells = [r["label"], r["unit"]]
        for t in ALL_TARGETS:
            cell = fmt(v.get(t), r["unit"])
            if r["errors"].get(t) and v.get(t) is None:
                cell = "ERR"
            cells.append(cell)
        cells.append(f"{r['awf_vs_squid']:.2f}×" if r["awf_vs_squid"] is not None else "")
        if r["metric"] == "startup_ms" and r.get("awf_minus_true_ms") is not None:
            cells.append(f"+{r['awf_minus_true_ms']:.2f} ms")
        else:
            cells.append(f"{r['awf_vs_direct']:.2f}×" if r["awf_vs_direct"] is not None else "")
        cells.append(r["target"] or "")
        st = r["status"] or ""
        if st == "MISS":
            st = "MISS (" + ", ".join(r.get("missed", [])) + ")"
        cells.append(st)
        table.append(cells)
    widths = [max(len(c[i]) for c in [cols] + table) for i in range(len(cols))]
    right = {2, 3, 4, 5, 6, 7}

    def line(cells):
        return "| " + " | ".join(c.rjust(w) if i in right else c.ljust(w)
                                 for i, (c, w) in enumerate(zip(cells, widths))) + " |"
    out = [header, "", line(cols),
           "|" + "|".join(("-" * (w + 1) + ":") if i in right else ("-" * (w + 2))
                          for i, w in enumerate(widths)) + "|"]
    out += [line(c) for c in table]
    errs = [(r["metric"], t, m) for r in rows for t, ms in r["errors"].items() for m in ms[:1]]
    for metric, t, msgs in ((k, t, v) for k, per in b.errors.items() for t, v in per.items()):
        if not any(e[0] == metric and e[1] == t for e in errs):
            errs.append((metric, t, msgs[0]))
    if errs:
        out += ["", "Errors (first per metric and target):"]
        out += [f"  {m} / {t}: {msg[:300]}" for m, t, msg in errs]
    for t, msg in b.extra.get("preflight_failures", {}).items():
        out.append(f"  preflight {t}: {msg.strip()[:300]}")
    if b.extra.get("notes"):
        out += ["", "Notes:"] + [f"  {n}" for n in b.extra["notes"]]
    return "\n".join(out)


def machine() -> dict:
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = 0
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = int(line.split()[1]) // 1024
    except OSError:
        pass

    def ver(cmd):
        try:
            p = run(cmd, check=False, timeout=10)
            return (p.stdout + p.stderr).strip().splitlines()[0]
        except Exception:
            return "?"
    git = run(["git", "-C", ROOT, "describe", "--always", "--dirty"], check=False, timeout=10)
    return {"cpu": cpu, "cores": os.cpu_count(), "mem_mib": mem, "kernel": platform.release(),
            "awf_source": git.stdout.strip() or "?",
            "loadavg_at_start": os.getloadavg(), "nice": os.nice(0),
            "versions": {"awf": ver([AWF_BIN, "--version"]), "squid": ver(["squid", "-v"]),
                         "tinyproxy": ver(["tinyproxy", "-v"]), "nginx": ver(["nginx", "-v"]),
                         "wrk": ver(["wrk", "-v"]), "curl": ver(["curl", "--version"]),
                         "openssl": ver(["openssl", "version"])}}


def main(argv):
    if argv[1:2] == ["_dns"]:
        serve_dns()
        return 0
    if argv[1:2] == ["cleanup-stale"]:
        cleanup_stale()
        return 0
    if os.geteuid() != 0:
        print("bench.py: run as root (network namespaces)", file=sys.stderr)
        return 2
    for tool in (AWF_BIN, TOOLS_DIR / "tunnel_rate", TOOLS_DIR / "policy_bench"):
        if not os.access(tool, os.X_OK):
            print(f"bench.py: {tool} missing: run bench/run.sh (it builds everything)", file=sys.stderr)
            return 2
    cleanup_stale()
    net = BenchNet()
    atexit.register(net.down)

    def on_signal(signum, frame):
        net.down()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    if argv[1:2] == ["net"]:  # debugging: the bench network alone, for N seconds (max 1 h)
        net.up()
        print(json.dumps({"host_ns": net.host_ns, "inet_ns": net.inet_ns, "dir": str(net.dir)}),
              flush=True)
        try:
            time.sleep(min(float(argv[2]) if len(argv) > 2 else 600, 3600))
        finally:
            net.down()
        return 0


    started = dt.datetime.now(dt.timezone.utc)
    info = machine()
    log(f"mode: {'QUICK' if QUICK else 'full'}, {REPS} repetition(s), wrk/tunnel runs {DURATION} s, "
        f"bulk {BULK_MIB} MiB, connections {CONNS}, targets {TARGETS}, workloads {WORKLOADS}")
    net.up()
    log(f"bench network up: {net.host_ns}, {net.inet_ns}, {net.dir}")
    b = Bench(net)
    try:
        b.run_all()
    finally:
        net.down()
    rows = build_rows(b)
    header = (f"awf benchmark — {started.strftime('%Y-%m-%d %H:%M UTC')} — {info['cpu']}, "
              f"{info['cores']} cores, {info['mem_mib']} MiB, Linux {info['kernel']} — "
              f"awf {info['awf_source']} — "
              f"{'QUICK, ' if QUICK else ''}medians of {REPS} (memory: {MEM_REPS}), "
              f"{b.extra.get('total_seconds', 0):.0f} s, load average at start "
              f"{info['loadavg_at_start'][0]:.2f}" + (f", nice {info['nice']}" if info['nice'] else ""))
    text = render(rows, b, header)
    print(text)
    RESULTS_DIR.mkdir(exist_ok=True)
    stem = RESULT_STEM
    doc = {"started": started.isoformat(), "quick": QUICK,
           "config": {"reps": REPS, "mem_reps": MEM_REPS, "duration_s": DURATION, "bulk_mib": BULK_MIB,
                      "conns": CONNS, "tunnel_concurrency": TUNNEL_CONCURRENCY,
                      "hold_tunnels": HOLD_TUNNELS, "startup_runs": STARTUP_RUNS,
                      "workloads": WORKLOADS, "targets": TARGETS},
           "machine": info, "rows": rows, "samples": b.samples, "errors": b.errors, "extra": b.extra}
    (RESULTS_DIR / f"{stem}.json").write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    (RESULTS_DIR / f"{stem}.txt").write_text(text + "\n")
    log(f"wrote {RESULTS_DIR / (stem + '.json')} and {stem}.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
