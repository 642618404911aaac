"""More gateway behaviour, black-box: fragmented ClientHellos, upstream DNS failure, keep-alive,
header hygiene, Host/URI mismatch, sandbox identity, logs on SIGTERM, tunnels open at exit.

Clients that need exact control over the bytes on the wire are small Python scripts written to
the world-readable scratch dir and run inside the sandbox (as uid 65534)."""

from __future__ import annotations

import json
import os
import re
import select
import shlex
import signal
import subprocess
import time

import pytest

import vnet as V
from conftest import ALLOWED, dest_str, reached

PROXY = "127.0.0.1:3128"
EXIT_LINE = "Process exiting with code: {}"
SUDO_NOTICE = "running the command as uid/gid 65534"


def write_script(vnet, name: str, source: str) -> str:
    path = os.path.join(vnet.scratch_dir, name)
    with open(path, "w") as f:
        f.write(source)
    os.chmod(path, 0o644)
    return path


def access_lines(r, name, method=None, status=None) -> list[dict]:
    out = []
    for d in r.access_for(name):
        if method is not None and d.get("method") != method:
            continue
        if status is not None and d.get("status") != status:
            continue
        out.append(d)
    return out


def client_port(line: dict) -> str:
    return line["client"].rpartition(":")[2]


def dig_status(out: str) -> str | None:
    m = re.search(r"status: (\w+)", out)
    return m.group(1) if m else None


def proc_status_fields(out: str) -> dict:
    """Cap*, NoNewPrivs, Uid, Gid lines of /proc/self/status printed by the command."""
    fields = {}
    for line in out.splitlines():
        k, sep, v = line.partition(":")
        if sep and (k.startswith("Cap") or k in ("NoNewPrivs", "Uid", "Gid", "Groups", "Seccomp")):
            fields[k] = v.strip()
    return fields


def assert_no_privileges(fields: dict, r):
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert cap in fields, f"{cap} missing from /proc/self/status" + r.describe()
        assert int(fields[cap], 16) == 0, f"{cap}={fields[cap]}" + r.describe()
    assert fields.get("NoNewPrivs") == "1", r.describe()


# ============================================================================ 1. fragmented hello
TLS_FRAG_CLIENT = r'''
import socket, ssl, sys, time

# mode: transparent|proxy; split: bytes|records|records-bytes; target: the address dialled
# (transparent); sni: the ClientHello's server name; host: the CONNECT host and Host header.
mode, split, target, sni, host, ca, path = sys.argv[1:8]
ctx = ssl.create_default_context(cafile=ca)
ctx.check_hostname = False  # the certificate names every test host; SNI may differ from host
inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
tls = ctx.wrap_bio(inc, out, server_hostname=sni)
try:
    tls.do_handshake()
except ssl.SSLWantReadError:
    pass
hello = out.read()
# OpenSSL writes the ClientHello as one handshake message in one record.
assert hello[0] == 0x16 and len(hello) == 5 + int.from_bytes(hello[3:5], "big"), hello[:5]
version, msg = hello[1:3], hello[5:]
assert msg[0] == 1 and int.from_bytes(msg[1:4], "big") == len(msg) - 4, msg[:4]

if mode == "transparent":
    sock = socket.create_connection((target, 443), timeout=15)
else:
    sock = socket.create_connection(("127.0.0.1", 3128), timeout=15)
    sock.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        if not chunk:
            sys.exit("proxy closed before answering the CONNECT: %r" % head)
        head += chunk
    print("connect-status:", head.split(b"\r\n")[0].decode(), flush=True)
    if head.split()[1] != b"200":
        sys.exit(3)
sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

if split.startswith("records"):  # the handshake message re-framed as 3 TLS records
    cuts = [0, len(msg) // 3, 2 * len(msg) // 3, len(msg)]
    wire = [b"\x16" + version + (b - a).to_bytes(2, "big") + msg[a:b] for a, b in zip(cuts, cuts[1:])]
else:
    wire = [hello]
sent = 0
for record in wire:
    if split in ("bytes", "records-bytes"):
        for i in range(len(record)):    # one TCP segment per byte
            sock.send(record[i:i + 1])
            time.sleep(0.001)
    else:
        sock.sendall(record)
        time.sleep(0.05)
    sent += len(record)
print("hello-bytes:", len(hello), "sent:", sent, "segments-or-records:", len(wire), flush=True)


def flush():
    data = out.read()
    if data:
        sock.sendall(data)


while True:
    try:
        tls.do_handshake()
        flush()
        break
    except ssl.SSLWantReadError:
        flush()
        data = sock.recv(65536)
        if not data:
            sys.exit("connection closed during the handshake")
        inc.write(data)
print("handshake:", tls.version(), flush=True)
tls.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
flush()
body = b""
while True:
    try:
        chunk = tls.read(65536)
        if not chunk:
            break
        body += chunk
    except ssl.SSLWantReadError:
        data = sock.recv(65536)
        if not data:
            break
        inc.write(data)
    except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
        break
print(body.decode("utf-8", "replace"))
'''


@pytest.mark.parametrize("mode", ["transparent", "proxy"])
@pytest.mark.parametrize("split", ["bytes", "records", "records-bytes"])
def test_fragmented_client_hello(awf, vnet, nonce, mode, split):
    script = write_script(vnet, f"tlsfrag-{nonce}.py", TLS_FRAG_CLIENT)
    path = f"/frag-{split}-{nonce}"
    m = vnet.mark()
    r = awf(["-d", "allowed.test"],
            ["/usr/bin/python3", script, mode, split, V.ALLOWED4, "allowed.test", "allowed.test",
             vnet.ca_path, path], timeout=60)
    assert r.rc == 0, r.describe()
    want_records = 3 if split.startswith("records") else 1
    assert f"segments-or-records: {want_records}" in r.stdout, r.describe()
    if mode == "proxy":
        assert "connect-status: HTTP/1.1 200" in r.stdout, r.describe()
    o = r.origin
    assert o.get("origin") == V.ALLOWED4 and o.get("sni") == "allowed.test", r.describe()
    assert o.get("path") == path and o.get("tls") == "1" and o.get("host") == "allowed.test", r.describe()
    assert [x for x in reached(vnet, m, sni="allowed.test") if x.get("path") == path], vnet.origin_requests(m)
    lines = access_lines(r, "allowed.test", "CONNECT", 200)
    assert len(lines) == 1, r.describe()
    line = lines[0]
    assert line["squid_status"] == "TCP_TUNNEL" and line["hier"] == "HIER_DIRECT", line["_raw"]
    assert line["url"] == "allowed.test:443" and line["host"] == "allowed.test:443", line["_raw"]
    assert line["dest_addr"] in ALLOWED and line["dest_port"] == "443", line["_raw"]
    kind, transport = ("tls", "transparent") if mode == "transparent" else ("connect", "explicit")
    recs = r.audit_for("allowed.test", kind=kind, action="allow")
    assert recs and recs[0].get("transport") == transport and recs[0].get("status") == 200, r.describe()
    assert any(a in dest_str(recs[0]) for a in ALLOWED), recs


@pytest.mark.parametrize("mode", ["transparent", "proxy"])
@pytest.mark.parametrize("split", ["records", "records-bytes"])
def test_fragmented_client_hello_still_inspected(awf, vnet, nonce, mode, split):
    """Splitting the ClientHello does not smuggle a different SNI past the check."""
    script = write_script(vnet, f"tlsfrag-{nonce}.py", TLS_FRAG_CLIENT)
    path = f"/frag-evil-{nonce}"
    m = vnet.mark()
    r = awf(["-d", "allowed.test"],
            ["/usr/bin/python3", script, mode, split, V.ALLOWED4, "evil.test", "allowed.test",
             vnet.ca_path, path], timeout=60)
    assert r.rc != 0 and "origin=" not in r.stdout, r.describe()
    assert "segments-or-records: 3" in r.stdout, r.describe()  # the hello was sent in full
    assert not reached(vnet, m, sni="evil.test") and not reached(vnet, m, origin=V.EVIL4)
    assert not [x for x in vnet.origin_requests(m) if x.get("path") == path]
    if mode == "transparent":
        recs = r.audit_for("evil.test", kind="tls", action="deny")
        assert recs and recs[0].get("dest") == "-:-", r.describe()
        assert access_lines(r, "evil.test", "CONNECT", 403), r.describe()
    else:
        recs = r.audit_for("allowed.test", kind="connect", action="deny")
        assert recs and "evil.test" in recs[0].get("reason", ""), r.describe()
        assert recs[0].get("dest") == "-:-", recs
        lines = access_lines(r, "allowed.test", "CONNECT", 403)
        assert lines and lines[0]["squid_status"] == "TCP_DENIED", r.describe()


# ============================================================================ 2. upstream DNS down
def test_upstream_dns_failure_servfail_and_502(awf, vnet, nonce):
    """--dns-servers names an address where nothing answers: SERVFAIL within seconds, and the
    proxy answers 502 for an allowed name it cannot resolve."""
    name = f"s{nonce}.allowed.test"
    curl_http = shlex.join(awf.curl("-o", "/dev/null", "-w", "code=%{http_code}\\n",
                                    f"http://{name}/dnsfail", max_time=20))
    curl_https = shlex.join(awf.curl("-o", "/dev/null", "-w", "connect=%{http_connect}\\n",
                                     f"https://{name}/dnsfail", max_time=20))
    dig = shlex.join(["dig", "+tries=1", "+time=10", name])
    # All three in parallel (each waits for the upstream timeout), outputs kept apart.
    script = (
        'd=$(mktemp -d); '
        f'(s=$(date +%s%N); {dig} > $d/dig; echo "dig_ms=$(( ($(date +%s%N) - s) / 1000000 ))" >> $d/dig) & '
        f'(s=$(date +%s%N); {curl_http} > $d/http 2>&1; echo "http_ms=$(( ($(date +%s%N) - s) / 1000000 ))" >> $d/http) & '
        f'{curl_https} > $d/https 2>&1 & '
        'wait; cat $d/dig $d/http $d/https; rm -rf "$d"')
    m = vnet.mark()
    r = awf(["--dns-servers", V.NOSERVER4, "-d", "allowed.test"], ["bash", "-c", script],
            dns=False, timeout=60)
    out = r.stdout
    assert dig_status(out) == "SERVFAIL", r.describe()
    dig_ms = int(re.search(r"dig_ms=(\d+)", out).group(1))
    assert dig_ms < 8000, f"SERVFAIL took {dig_ms} ms" + r.describe()
    assert "code=502" in out, r.describe()
    assert "connect=502" in out, r.describe()
    assert int(re.search(r"http_ms=(\d+)", out).group(1)) < 8000, r.describe()
    # Logged: the DNS answer, and both proxy requests with their 502.
    dns = [x for x in r.audit_for(name, kind="dns") if x.get("qtype") in ("A", None)]
    assert dns and all(x.get("rcode") == "SERVFAIL" for x in dns), r.describe()
    assert any("upstream" in str(x.get("reason")) for x in dns), r.describe()
    get = access_lines(r, name, "GET", 502)
    assert get and get[0]["dest_addr"] is None and get[0]["url"] == f"http://{name}/dnsfail", r.describe()
    assert access_lines(r, name, "CONNECT", 502), r.describe()
    for kind in ("http", "connect"):
        recs = [x for x in r.audit_for(name, kind=kind) if x.get("status") == 502]
        assert recs and "resolve" in str(recs[0].get("reason")), r.describe()
        assert recs[0].get("dest") == "-:-", recs
    # Nothing reached the test DNS server or any origin.
    assert not [q for q in vnet.dns_queries(m) if nonce in (q.get("name") or "")]
    assert not [x for x in vnet.origin_requests(m) if x.get("path") == "/dnsfail"]


# ============================================================================ 3. keep-alive
def test_keepalive_allowed_then_blocked_same_connection(awf, vnet, nonce):
    m = vnet.mark()
    r = awf(["-d", "allowed.test"],
            awf.curl("-w", "\\ncode=%{http_code} conns=%{num_connects}\\n",
                     f"http://allowed.test/ka1-{nonce}", f"http://blocked.test/ka2-{nonce}"))
    codes = re.findall(r"code=(\d+) conns=(\d+)", r.stdout)
    assert [c for c, _ in codes] == ["200", "403"], r.describe()
    assert codes[1][1] == "0", "curl did not reuse the proxy connection" + r.describe()
    ok = access_lines(r, "allowed.test", "GET", 200)
    denied = access_lines(r, "blocked.test", "GET", 403)
    assert len(ok) == 1 and len(denied) == 1, r.describe()
    assert ok[0]["url"] == f"http://allowed.test/ka1-{nonce}", ok[0]["_raw"]
    assert denied[0]["url"] == f"http://blocked.test/ka2-{nonce}", denied[0]["_raw"]
    assert denied[0]["squid_status"] == "TCP_DENIED" and denied[0]["dest_addr"] is None, denied[0]["_raw"]
    assert client_port(ok[0]) == client_port(denied[0]), "not one client connection" + r.describe()
    assert r.audit_for("allowed.test", kind="http", action="allow", status=200), r.describe()
    assert r.audit_for("blocked.test", kind="http", action="deny", status=403), r.describe()
    assert [x for x in reached(vnet, m) if x.get("path") == f"/ka1-{nonce}"]
    assert not [x for x in reached(vnet, m) if x.get("path") == f"/ka2-{nonce}"]
    assert not reached(vnet, m, origin=V.EVIL4)


def test_keepalive_two_allowed_same_connection(awf, vnet, nonce):
    m = vnet.mark()
    urls = [f"http://allowed.test/ka-a-{nonce}", f"http://other.test/ka-b-{nonce}",
            f"http://allowed.test/ka-c-{nonce}"]
    r = awf(["-d", "allowed.test,other.test"],
            awf.curl("-w", "\\ncode=%{http_code} conns=%{num_connects}\\n", *urls))
    assert r.rc == 0, r.describe()
    codes = re.findall(r"code=(\d+) conns=(\d+)", r.stdout)
    assert [c for c, _ in codes] == ["200"] * 3, r.describe()
    assert [n for _, n in codes][1:] == ["0", "0"], "curl did not reuse the proxy connection" + r.describe()
    hosts = [V.parse_origin_line(l).get("origin") for l in r.stdout.splitlines() if l.startswith("origin=")]
    assert hosts == [V.ALLOWED4, V.OTHER4, V.ALLOWED4], r.describe()
    lines = [d for d in r.access if d.get("method") == "GET"]
    assert [d["url"] for d in lines] == urls, r.describe()
    assert all(d["status"] == 200 and d["squid_status"] == "TCP_MISS" for d in lines), r.describe()
    assert len({client_port(d) for d in lines}) == 1, "not one client connection" + r.describe()
    assert [d["dest_addr"] for d in lines] == [V.ALLOWED4, V.OTHER4, V.ALLOWED4], r.describe()
    assert len([x for x in r.audit if x.get("kind") == "http" and x.get("status") == 200]) == 3, r.describe()
    assert len([x for x in reached(vnet, m) if nonce in str(x.get("path"))]) == 3


# ============================================================================ 4. header hygiene
RAW_HTTP_CLIENT = r'''
import socket, sys
host, port, request = sys.argv[1], int(sys.argv[2]), sys.argv[3]
s = socket.create_connection((host, port), timeout=15)
s.sendall(request.encode().replace(b"\n", b"\r\n"))
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
sys.stdout.write(data.decode("utf-8", "replace"))
'''

HYGIENE_HEADERS = ("Proxy-Authorization: Basic c2VjcmV0OnNlY3JldA==\n"
                   "Proxy-Connection: keep-alive\n"
                   "Connection: X-Drop-Me, close\n"
                   "X-Drop-Me: 1\n"
                   "Keep-Alive: 5\n"
                   "TE: trailers\n"
                   "X-Keep: 1\n")


@pytest.mark.parametrize("transparent", [False, True], ids=["proxy", "transparent"])
def test_hop_by_hop_and_proxy_headers_not_forwarded(awf, vnet, nonce, transparent):
    script = write_script(vnet, f"rawhttp-{nonce}.py", RAW_HTTP_CLIENT)
    path = f"/headers?n={nonce}"
    if transparent:
        request = f"GET {path} HTTP/1.1\nHost: allowed.test\n{HYGIENE_HEADERS}\n"
        argv = ["/usr/bin/python3", script, V.ALLOWED4, "80", request]
    else:
        request = f"GET http://allowed.test{path} HTTP/1.1\nHost: allowed.test\n{HYGIENE_HEADERS}\n"
        argv = ["/usr/bin/python3", script, "127.0.0.1", "3128", request]
    r = awf(["-d", "allowed.test"], argv)
    assert r.rc == 0 and r.stdout.startswith("HTTP/1.1 200"), r.describe()
    body = r.stdout.split("\r\n\r\n", 1)[1]
    seen = {k.lower(): v for k, v in json.loads(body).items()}
    assert seen.get("x-keep") == "1" and seen.get("host") == "allowed.test", seen
    for dropped in ("proxy-authorization", "proxy-connection", "x-drop-me", "keep-alive", "te",
                    "via", "x-forwarded-for", "forwarded"):
        assert dropped not in seen, f"{dropped} reached the origin: {seen}"
    # The only Connection header the origin may see is one awf wrote itself.
    assert "x-drop-me" not in seen.get("connection", "").lower(), seen
    lines = access_lines(r, "allowed.test", "GET", 200)
    assert len(lines) == 1 and lines[0]["url"] == f"http://allowed.test{path}", r.describe()
    assert "secret" not in open(os.path.join(r.logs_dir, "access.log")).read()
    rec = r.audit_for("allowed.test", kind="http", action="allow")
    assert rec and rec[0].get("transport") == ("transparent" if transparent else "explicit"), r.describe()


# ============================================================================ 5. Host vs URI
def test_absolute_uri_host_mismatch_denied(awf, vnet, nonce):
    """The existing spoof test only checks the evil host is not reached; here: 403, no request
    at any origin, and the denial on the record."""
    m = vnet.mark()
    path = f"/mismatch-{nonce}"
    r = awf(["-d", "allowed.test,evil.test"],
            awf.curl("-x", f"http://{PROXY}", "-H", "Host: evil.test", "-w", "\\ncode=%{http_code}",
                     f"http://allowed.test{path}"))
    assert "code=403" in r.stdout and "origin=" not in r.stdout, r.describe()
    assert not [x for x in vnet.origin_requests(m) if x.get("kind") == "request"], vnet.origin_requests(m)
    lines = [d for d in r.access if d.get("status") == 403]
    assert len(lines) == 1, r.describe()
    assert lines[0]["squid_status"] == "TCP_DENIED" and lines[0]["dest_addr"] is None, lines[0]["_raw"]
    assert lines[0]["method"] == "GET" and path in lines[0]["url"], lines[0]["_raw"]
    recs = [x for x in r.audit if x.get("action") == "deny" and x.get("kind") == "http"]
    assert recs and recs[0].get("status") == 403, r.describe()
    assert "evil.test" in recs[0].get("reason", "") and "allowed.test" in recs[0].get("reason", ""), recs


def test_host_mismatch_denial_names_the_host(awf):
    """The audit `name` is "the requested name" (docs/logs.md), and the blocked-domains summary
    lists names: a Host/URI mismatch must not be recorded under the raw request URI."""
    r = awf(["-d", "allowed.test"],
            awf.curl("-f", "-x", f"http://{PROXY}", "-H", "Host: evil.test", "http://allowed.test/mm"))
    assert r.rc not in (0, None), r.describe()
    recs = [x for x in r.audit if x.get("action") == "deny" and x.get("kind") == "http"]
    assert recs, r.describe()
    assert recs[0].get("name") in ("allowed.test", "evil.test"), \
        f"audit name is {recs[0].get('name')!r}" + r.describe()
    summary = r.stderr.split("Firewall blocked domains:", 1)[-1]
    assert "://" not in summary, r.describe()


# ============================================================================ 7. identity
@pytest.mark.parametrize("uid,gid", [(65534, 65534), (12345, 23456)])
def test_sudo_uid_gid_identity(awf, uid, gid):
    script = "echo ids=$(id -u):$(id -g):$(id -G); grep -E '^(Cap|NoNewPrivs)' /proc/self/status"
    r = awf(["-d", "allowed.test"], ["bash", "-c", script],
            env={"SUDO_UID": str(uid), "SUDO_GID": str(gid)})
    assert r.rc == 0, r.describe()
    assert f"ids={uid}:{gid}:{gid}" in r.stdout, r.describe()
    assert SUDO_NOTICE not in r.stderr, r.describe()
    assert_no_privileges(proc_status_fields(r.stdout), r)
    # Control: without a usable SUDO_UID, root's default is 65534 with the notice.
    r = awf(["-d", "allowed.test"], ["bash", "-c", "echo ids=$(id -u):$(id -g)"],
            env={"SUDO_UID": "", "SUDO_GID": ""})
    assert r.rc == 0 and "ids=65534:65534" in r.stdout and SUDO_NOTICE in r.stderr, r.describe()


def test_user_root_has_no_capabilities(awf):
    r = awf(["-d", "allowed.test", "--user", "root"],
            ["bash", "-c", "echo ids=$(id -u):$(id -g); cat /proc/self/status"])
    assert r.rc == 0 and "ids=0:0" in r.stdout, r.describe()
    fields = proc_status_fields(r.stdout)
    assert_no_privileges(fields, r)


# ============================================================================ 8. SIGTERM
def read_until(p: subprocess.Popen, token: bytes, timeout: float = 15) -> bytes:
    buf = b""
    deadline = time.monotonic() + timeout
    while token not in buf and p.poll() is None:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        ready, _, _ = select.select([p.stdout], [], [], left)
        if ready:
            chunk = os.read(p.stdout.fileno(), 4096)
            if not chunk:
                break
            buf += chunk
    return buf


def finish(p: subprocess.Popen, timeout: float = 20):
    try:
        out, err = p.communicate(timeout=timeout)
        return p.returncode, out, err
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        out, err = p.communicate()
        return None, out, err


def test_logs_complete_on_sigterm(awf, vnet, nonce):
    path = f"/sigterm-{nonce}"
    cmd = (shlex.join(awf.curl("-o", "/dev/null", "-w", "code=%{http_code}\\n", f"https://allowed.test{path}"))
           + f"; {shlex.join(awf.dig('allowed.test'))} >/dev/null; echo ready; exec sleep 60")
    p = awf.popen(["-d", "allowed.test"], ["bash", "-c", cmd])
    try:
        got = read_until(p, b"ready")
        assert b"ready" in got and b"code=200" in got, got
        t0 = time.monotonic()
        os.kill(p.pid, signal.SIGTERM)  # awf only
        rc, out, err = finish(p)
        r = vnet.collect(p.argv, rc, got + (out or b""), err, time.monotonic() - t0, p.logs_dir)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    assert r.rc == 143 and r.duration < 10, r.describe()
    assert r.last_stderr_line == EXIT_LINE.format(143), r.describe()
    lines = access_lines(r, "allowed.test", "CONNECT", 200)
    assert len(lines) == 1 and lines[0]["squid_status"] == "TCP_TUNNEL", r.describe()
    assert r.audit_for("allowed.test", kind="connect", action="allow", status=200), r.describe()
    assert r.audit_for("allowed.test", kind="dns", action="allow"), r.describe()
    assert all("_error" not in x for x in r.audit), r.describe()


# ============================================================================ 9. open tunnel at exit
@pytest.mark.parametrize("kind", ["connect", "transparent-tls", "proxy-http"])
def test_open_connection_at_exit_logged_and_prompt(awf, vnet, nonce, kind):
    path = f"/sleep/30?open={nonce}"
    if kind == "connect":
        curl = awf.curl(f"https://allowed.test{path}", max_time=60)
    elif kind == "transparent-tls":
        curl = awf.curl("--noproxy", "*", f"https://allowed.test{path}", max_time=60)
    else:
        curl = awf.curl(f"http://allowed.test{path}", max_time=60)
    # The command exits 0 as soon as the origin has the request (polling the vnet's log, which
    # the sandbox can read), leaving the connection open.
    cmd = (f"{shlex.join(curl)} >/dev/null 2>&1 & "
           f"for i in $(seq 200); do grep -q 'open={nonce}' {shlex.quote(vnet.origin_log)} && exit 0; "
           "sleep 0.05; done; exit 9")
    r = awf(["-d", "allowed.test"], ["bash", "-c", cmd], timeout=30)
    assert r.rc == 0, r.describe()
    assert r.duration < 5, r.describe()
    assert r.last_stderr_line == EXIT_LINE.format(0), r.describe()
    if kind == "proxy-http":
        lines = [d for d in r.access_for("allowed.test", method="GET") if nonce in d["url"]]
        recs = r.audit_for("allowed.test", kind="http")
    else:
        lines = access_lines(r, "allowed.test", "CONNECT", 200)
        recs = r.audit_for("allowed.test", kind="connect" if kind == "connect" else "tls")
    assert len(lines) == 1, r.describe()
    assert lines[0]["dest_addr"] in ALLOWED, lines[0]["_raw"]
    assert recs and recs[0].get("action") == "allow" and any(a in dest_str(recs[0]) for a in ALLOWED), r.describe()
    if kind != "proxy-http":
        assert lines[0]["squid_status"] == "TCP_TUNNEL", lines[0]["_raw"]
        assert recs[0].get("bytes_up", 0) > 0 and recs[0].get("bytes_down", 0) > 0, recs
