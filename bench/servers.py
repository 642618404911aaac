"""The servers the bench starts (nginx as the origin, Squid, tinyproxy, HAProxy) and the awf
binaries it launches, and how each target is reached and measured (ports, pids, CPU, RSS).

Targets: "direct" (the load generator talks to nginx), "haproxy" (a reverse proxy / TCP relay
in front of nginx: the best-in-class anchor for requests per second and bulk copies), "squid"
and "tinyproxy" (forward proxies), "awf" and, with AWF_BEFORE, "awf-before" (the load generator
runs inside awf's sandbox and its only way out is awf's gateway).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import knobs as K
from network import BenchNet

SQUID_PORT = 3129
TINYPROXY_PORT = 8888
AWF_PORT = 3128  # awf's explicit proxy inside its sandbox
# HAProxy: an HTTP reverse proxy, and TCP relays to the origin's ports 80 and 443 (what a
# CONNECT tunnel is once it is up).
HAPROXY_HTTP, HAPROXY_TCP80, HAPROXY_TCP443 = 8081, 8082, 8443
FORWARD_PORTS = {"squid": SQUID_PORT, "tinyproxy": TINYPROXY_PORT, "awf": AWF_PORT,
                 "awf-before": AWF_PORT}


def is_awf(target: str) -> bool:
    return target in K.AWF_TARGETS


def proxy_url(target: str) -> str:
    return f"http://127.0.0.1:{FORWARD_PORTS[target]}"


def start_all(net: BenchNet):
    snapshot_awf(net)
    start_nginx(net)
    for t in ("squid", "tinyproxy", "haproxy"):
        if t in K.TARGETS:
            START[t](net)


def snapshot_awf(net: BenchNet):
    """Copy the awf binaries into the run dir: a rebuild of build/ during the run changes
    nothing. K.AWF_BIN / K.AWF_BEFORE then name the copies."""
    for var, dst in (("AWF_BIN", "awf"), ("AWF_BEFORE", "awf-before")):
        src = getattr(K, var)
        if src:
            setattr(K, var, copy_runnable(src, net.dir / dst))


def copy_runnable(src: str, dst: Path) -> str:
    for _ in range(30):
        try:
            shutil.copy2(src, dst)
            os.chmod(dst, 0o755)
            if K.run([dst, "--version"], check=False, timeout=10).returncode == 0:
                return str(dst)
        except (OSError, subprocess.SubprocessError):
            pass
        K.log(f"{src} is not runnable yet (being rebuilt?), retrying")
        time.sleep(5)
    raise RuntimeError(f"{src} does not run")


def start_nginx(net: BenchNet):
    d = net.dir
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
  types {{ text/event-stream sse; }}
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_session_cache off; ssl_session_tickets off;
  server {{
    listen {K.ORIGIN4}:80 backlog=8192;
    listen {K.ORIGIN4}:443 ssl backlog=8192;
    server_name {K.NAME};
    ssl_certificate {d}/server.pem; ssl_certificate_key {d}/server.key;
    root {d}/www;
    location / {{ }}
  }}
}}
""")
    net.spawn("nginx", net.inet_ns, ["nginx", "-e", d / "nginx" / "error.log", "-p", d / "nginx",
                                     "-c", conf], 80, K.ORIGIN4)


def start_squid(net: BenchNet):
    d = net.dir / "squid"
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
dns_nameservers {K.DNS4}
hosts_file none
pinger_enable off
icp_port 0
htcp_port 0
max_filedescriptors 65536
shutdown_lifetime 1 seconds
acl bench dstdomain {K.NAME}
acl Safe_ports port 80 443
acl CONNECT method CONNECT
acl benchclients src 127.0.0.1/32
http_access deny !Safe_ports
http_access allow benchclients bench
http_access deny all
""")
    shutil.chown(conf, "proxy", "proxy")
    net.spawn("squid", net.host_ns, ["squid", "-N", "-f", conf], SQUID_PORT)


def start_tinyproxy(net: BenchNet):
    d = net.dir / "tinyproxy"
    shutil.chown(d, "nobody", "nogroup")
    (d / "filter").write_text(f"^{re.escape(K.NAME)}$\n")
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
    net.spawn("tinyproxy", net.host_ns, ["tinyproxy", "-d", "-c", conf], TINYPROXY_PORT)


def start_haproxy(net: BenchNet):
    """HAProxy as users run it in front of a web server: default threads (one per core),
    keep-alive to the origin shared between clients (`http-reuse always`), and a log line per
    request or connection (`option httplog`/`tcplog`), written to its stdout, which is
    haproxy.out in the run dir (nothing reads it; trimmed between runs)."""
    d = net.dir / "haproxy"
    conf = d / "haproxy.cfg"
    conf.write_text(f"""
global
  log stdout format raw local0 info
  maxconn 8000
  pidfile {d}/haproxy.pid
defaults
  log global
  timeout connect 5s
  timeout client 600s
  timeout server 600s
frontend http_in
  mode http
  option httplog
  bind 127.0.0.1:{HAPROXY_HTTP}
  default_backend origin_http
backend origin_http
  mode http
  http-reuse always
  server nginx {K.ORIGIN4}:80
frontend tcp80_in
  mode tcp
  option tcplog
  bind 127.0.0.1:{HAPROXY_TCP80}
  default_backend origin_tcp80
backend origin_tcp80
  mode tcp
  server nginx {K.ORIGIN4}:80
frontend tcp443_in
  mode tcp
  option tcplog
  bind 127.0.0.1:{HAPROXY_TCP443}
  default_backend origin_tcp443
backend origin_tcp443
  mode tcp
  server nginx {K.ORIGIN4}:443
""")
    # -db: foreground, one process (threads), no master.
    net.spawn("haproxy", net.host_ns, ["haproxy", "-db", "-f", conf], HAPROXY_HTTP)


START = {"squid": start_squid, "tinyproxy": start_tinyproxy, "haproxy": start_haproxy}


def restart(net: BenchNet, target: str):
    net.stop(target)
    START[target](net)


def awf_binary(target: str) -> str:
    return K.AWF_BEFORE if target == "awf-before" else K.AWF_BIN


def argv(net: BenchNet, target: str, cmd: list, logs: str | None = None, awf_args=()) -> list[str]:
    """The argv that runs `cmd` for `target`: in the host ns, or in awf's sandbox there
    (`awf_args`: further awf options, e.g. --ssl-bump)."""
    cmd = [str(c) for c in cmd]
    if not is_awf(target):
        return net.host_cmd(cmd)
    return net.awf_argv(awf_binary(target), ["--allow-domains", K.NAME, *map(str, awf_args)], cmd,
                        logs or net.new_logs_dir(target))


def proxy_pids(net: BenchNet, target: str, launched: subprocess.Popen | None = None) -> list[int]:
    if is_awf(target):
        # `ip netns exec` execs awf: the launched pid is awf itself, the process outside the
        # sandbox. Its children (the sandbox init and the command) are not counted.
        exe = os.readlink(f"/proc/{launched.pid}/exe")
        if exe != os.path.realpath(awf_binary(target)):
            raise RuntimeError(f"pid {launched.pid} is {exe}, not {awf_binary(target)}")
        return [launched.pid]
    leader = net.procs[target].pid
    # squid -N, tinyproxy -d and haproxy -db run as one process (with threads); any child would
    # be in the process group the harness started.
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


def cpu_seconds(net: BenchNet, target: str, launched=None) -> float | None:
    """utime + stime of the proxy's processes (all threads, live and exited); None when the
    proxy is gone."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    try:
        pids = proxy_pids(net, target, launched)
    except OSError as e:
        K.log(f"  cannot read the CPU time of {target}: {e}")
        return None
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / tick


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
