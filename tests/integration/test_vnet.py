"""Self-checks of the virtual internet itself (no awf involved).

These prove that every positive path works without awf, so that an awf test that sees
"nothing arrived" is meaningful: the DNS server logs what it gets, the origins answer on every
address and tell which one was reached, the UDP sink records datagrams, and cleanup works.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import stat
import subprocess
import time

import pytest

import vnet as V
from conftest import dns_seen, reached


def curl(vnet, *args, max_time=10):
    return vnet.host_run(vnet.curl_args(*args, max_time=max_time), timeout=max_time + 5)


def dig(vnet, *args):
    return vnet.host_run(["dig", "+time=2", "+tries=1", *args], timeout=15)


def test_namespaces_and_routes(vnet):
    names = V.netns_list()
    assert vnet.host_ns in names and vnet.inet_ns in names
    links = vnet.host_run(["ip", "-o", "link"]).stdout
    assert "lo:" in links and "veth-inet" in links
    assert len([l for l in links.splitlines() if l.strip()]) == 2, links
    r4 = vnet.host_run(["ip", "-4", "route"]).stdout
    r6 = vnet.host_run(["ip", "-6", "route"]).stdout
    assert f"default via {V.INET4}" in r4
    assert f"default via {V.INET6}" in r6
    # The internet namespace has no way out: no default route, no forwarding.
    i4 = vnet.inet_run(["ip", "-4", "route"]).stdout
    i6 = vnet.inet_run(["ip", "-6", "route"]).stdout
    assert "default" not in i4 and "default" not in i6
    assert vnet.inet_run(["cat", "/proc/sys/net/ipv4/ip_forward"]).stdout.strip() == "0"
    assert vnet.inet_run(["cat", "/proc/sys/net/ipv6/conf/all/forwarding"]).stdout.strip() == "0"
    # Processes in the host ns resolve through the test DNS server only.
    assert vnet.host_run(["cat", "/etc/resolv.conf"]).stdout.split("nameserver")[-1].strip() == V.DNS4


def test_https_by_name_through_test_dns(vnet):
    m = vnet.mark()
    p = curl(vnet, "https://allowed.test/hello")
    assert p.returncode == 0, p.stderr
    o = V.parse_origin_line(p.stdout)
    assert o["origin"] == V.ALLOWED4 or o["origin"] == V.ALLOWED6, p.stdout
    assert (o["host"], o["path"], o["method"], o["tls"], o["sni"]) == \
        ("allowed.test", "/hello", "GET", "1", "allowed.test")
    q = dns_seen(vnet, m, "allowed.test")
    assert q and all(x["src"] in (V.HOST4, V.HOST6) for x in q), vnet.dns_queries(m)
    assert reached(vnet, m, host="allowed.test", sni="allowed.test")


@pytest.mark.parametrize("name,addr", [
    ("allowed.test", V.ALLOWED4), ("api.allowed.test", V.ALLOWED4),
    ("deep.sub.allowed.test", V.ALLOWED4), ("other.test", V.OTHER4),
    ("blocked.test", V.EVIL4), ("x.blocked.test", V.EVIL4), ("evil.test", V.EVIL4),
    ("private.test", V.PRIVATE4), ("metadata.test", V.METADATA4), ("second.test", V.SECOND4),
])
def test_every_name_reaches_its_host(vnet, name, addr):
    for scheme in ("http", "https"):
        p = curl(vnet, "-4", f"{scheme}://{name}/p")
        assert p.returncode == 0, p.stderr
        o = V.parse_origin_line(p.stdout)
        assert o["origin"] == addr and o["host"] == name, p.stdout


def test_ipv6_origins(vnet):
    p = curl(vnet, "-6", "https://allowed.test/")
    assert V.parse_origin_line(p.stdout)["origin"] == V.ALLOWED6, p.stdout + p.stderr
    p = curl(vnet, "http://[2001:db8:1::11]:8080/x")
    assert V.parse_origin_line(p.stdout)["origin"] == V.OTHER6, p.stdout + p.stderr


def test_resolve_override_reaches_the_chosen_host(vnet):
    """Without awf, --resolve really picks the address (the awf test expects the opposite)."""
    p = curl(vnet, "--resolve", f"allowed.test:443:{V.EVIL4}", "https://allowed.test/")
    assert V.parse_origin_line(p.stdout)["origin"] == V.EVIL4, p.stdout + p.stderr


def test_raw_ip_and_nonstandard_port(vnet):
    p = curl(vnet, f"https://{V.ALLOWED4}/")  # the cert has IP SANs
    assert V.parse_origin_line(p.stdout)["origin"] == V.ALLOWED4, p.stderr
    p = curl(vnet, "http://allowed.test:8080/")
    o = V.parse_origin_line(p.stdout)
    assert o["origin"] in (V.ALLOWED4, V.ALLOWED6) and o["port"] == "8080", p.stdout + p.stderr
    t0 = time.monotonic()
    p = curl(vnet, f"http://{V.ALLOWED4}:9/")
    assert p.returncode == 7 and time.monotonic() - t0 < 2


def test_dns_records(vnet):
    def short(*a):
        p = dig(vnet, f"@{V.DNS4}", "+short", *a)
        assert p.returncode == 0, p.stdout + p.stderr
        return p.stdout.split()

    assert short("allowed.test") == [V.ALLOWED4]
    assert short("some.deep.sub.allowed.test", "AAAA") == [V.ALLOWED6]
    assert short("other.test") == [V.OTHER4]
    assert short("evil.test") == [V.EVIL4]
    assert short("x.y.blocked.test") == [V.EVIL4]
    assert short("private.test") == [V.PRIVATE4]
    assert short("metadata.test") == [V.METADATA4]
    assert short("allowed.test", "TXT") == ['"origin=allowed"']
    assert short("cname.test") == ["allowed.test.", V.ALLOWED4]
    assert short("+tcp", "api.allowed.test") == [V.ALLOWED4]
    p = dig(vnet, f"@{V.DNS6}", "+short", "allowed.test")
    assert p.stdout.split() == [V.ALLOWED4]
    assert "status: NXDOMAIN" in dig(vnet, f"@{V.DNS4}", "nosuch.test").stdout
    assert "status: REFUSED" in dig(vnet, f"@{V.DNS4}", "outside.invalid").stdout
    assert "status: NOERROR" in dig(vnet, f"@{V.DNS4}", "private.test", "AAAA").stdout


def test_dns_truncation_falls_back_to_tcp(vnet):
    m = vnet.mark()
    p = dig(vnet, f"@{V.DNS4}", "bigtxt.allowed.test", "TXT")
    assert "Truncated" in p.stdout and "chunk11-" in p.stdout, p.stdout
    protos = [q["proto"] for q in dns_seen(vnet, m, "bigtxt.allowed.test")]
    assert protos == ["udp", "tcp"]


def test_dns_log_records_each_query(vnet, nonce):
    m = vnet.mark()
    name = f"q{nonce}.allowed.test"
    dig(vnet, f"@{V.DNS4}", name, "AAAA")
    dig(vnet, f"@{V.DNS4}", "+tcp", f"nx{nonce}.test")
    log = vnet.dns_queries(m)
    assert {"name": name, "type": "AAAA", "proto": "udp", "src": V.HOST4, "rcode": "NOERROR"}.items() \
        <= next(q for q in log if q["name"] == name).items()
    nx = next(q for q in log if q["name"] == f"nx{nonce}.test")
    assert nx["proto"] == "tcp" and nx["rcode"] == "NXDOMAIN"


def test_address_without_server_does_not_answer(vnet):
    p = vnet.host_run(["dig", "+time=1", "+tries=1", f"@{V.NOSERVER4}", "allowed.test"])
    assert p.returncode == 9, p.stdout  # "no servers could be reached"


def test_bulk_and_post_echo(vnet):
    n = 3_000_017
    p = vnet.host_run(vnet.curl_args("-o", "-", f"https://allowed.test/bytes/{n}"), text=False)
    assert p.returncode == 0 and p.stdout == V.expected_bytes(n)
    body = os.urandom(100_000)
    p = vnet.host_run(vnet.curl_args("--data-binary", "@-", "-H", "Content-Type: application/x",
                                     "https://allowed.test/echo"), input=body, text=False)
    assert p.stdout == body
    p = vnet.host_run(vnet.curl_args("--data-binary", "@-", "http://other.test/up"),
                      input=body, text=False)
    o = V.parse_origin_line(p.stdout.decode())
    assert o["method"] == "POST" and o["len"] == str(len(body))
    assert o["sha256"] == hashlib.sha256(body).hexdigest()
    p = curl(vnet, "https://allowed.test/headers", "-H", "X-Probe: 1")
    assert json.loads(p.stdout)["X-Probe"] == "1"
    p = curl(vnet, "-o", "/dev/null", "-w", "%{http_code}", "http://allowed.test/status/418")
    assert p.stdout == "418"


def test_tls_handshakes_are_logged(vnet):
    m = vnet.mark()
    p = vnet.host_run(["openssl", "s_client", "-connect", f"{V.OTHER4}:443", "-noservername",
                       "-CAfile", vnet.ca_path], input="", timeout=15)
    assert "BEGIN CERTIFICATE" in p.stdout and "Verify return code: 0" in p.stdout, p.stdout + p.stderr
    recs = [r for r in vnet.origin_requests(m) if r.get("kind") == "tls"]
    assert recs and recs[-1]["origin"] == V.OTHER4 and recs[-1]["sni"] is None
    p = vnet.host_run(["openssl", "s_client", "-connect", f"{V.OTHER4}:443", "-servername",
                       "evil.test", "-CAfile", vnet.ca_path], input="", timeout=15)
    assert reached(vnet, m, origin=V.OTHER4, sni="evil.test")


def test_udp_sink_records_datagrams(vnet, nonce):
    m = vnet.mark()
    script = (f"echo v4-{nonce} >/dev/udp/{V.EVIL4}/9999; echo v6-{nonce} >/dev/udp/{V.EVIL6}/443; "
              f"echo ntp-{nonce} >/dev/udp/{V.OTHER4}/123")
    vnet.host_run(["bash", "-c", script], check=True)
    deadline = time.monotonic() + 5
    while len(vnet.udp_datagrams(m)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    got = {(d["port"], d["data"].strip()) for d in vnet.udp_datagrams(m)}
    assert got == {(9999, f"v4-{nonce}"), (443, f"v6-{nonce}"), (123, f"ntp-{nonce}")}


def test_sandbox_user_can_read_the_ca(vnet):
    """awf (started by root) runs the command as uid 65534: the CA must be readable by it."""
    for p in (vnet.run_dir, vnet.ca_path):
        assert os.stat(p).st_mode & stat.S_IROTH
    assert os.stat(vnet.scratch_dir).st_mode & 0o1777 == 0o1777
    p = vnet.host_run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                       *vnet.curl_args("https://allowed.test/")], timeout=20)
    assert p.returncode == 0, p.stderr


# ---------------------------------------------------------------------------- lifecycle
def _wait_gone(pred, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def test_up_down_context_manager():
    with V.VNet() as v:
        names = (v.host_ns, v.inet_ns)
        run_dir, pid = v.run_dir, v.server_pid
        assert set(names) <= set(V.netns_list())
        assert v.host_run(["curl", "-sS", "-m", "5", "http://allowed.test/"]).returncode == 0
    assert not set(names) & set(V.netns_list())
    assert not os.path.exists(run_dir)
    assert not any(os.path.exists(f"/etc/netns/{n}") for n in names)
    assert _wait_gone(lambda: not V.pid_alive(pid) or V.is_zombie(pid))


def test_cli_up_env_exec_down(tmp_path):
    state = tmp_path / "state.json"
    cli = [V.PY, V.THIS_FILE]
    try:
        V.run([*cli, "up", "--state", str(state)], timeout=60)
        st = json.loads(state.read_text())
        assert {st["host_ns"], st["inet_ns"]} <= set(V.netns_list())
        env = V.run([*cli, "env", "--state", str(state)]).stdout
        assert f"VNET_HOST_NS={st['host_ns']}" in env
        p = V.run([*cli, "exec", "--state", str(state), "--", "dig", "+short", "allowed.test"])
        assert p.stdout.split() == [V.ALLOWED4]
    finally:
        V.run([*cli, "down", "--state", str(state)], timeout=60, check=False)
    assert not {st["host_ns"], st["inet_ns"]} & set(V.netns_list())
    assert not os.path.exists(st["run_dir"])
    assert _wait_gone(lambda: not V.pid_alive(st["server_pid"]) or V.is_zombie(st["server_pid"]))


_OWNER = f"""
import signal, sys, time
# A shell that starts the suite in the background leaves SIGINT ignored, and Python keeps an
# inherited SIG_IGN: the owner would sleep through the SIGINT this test sends.
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.path.insert(0, {os.path.dirname(V.THIS_FILE)!r})
import vnet
v = vnet.VNet().up()
print(v.host_ns, v.inet_ns, v.run_dir, v.server_pid, flush=True)
time.sleep(60)
"""


def _start_owner():
    p = subprocess.Popen([V.PY, "-c", _OWNER], stdout=subprocess.PIPE, text=True,
                         env=V.clean_env(), preexec_fn=V._set_pdeathsig)
    line = p.stdout.readline().split()
    assert len(line) == 4, "owner did not bring its vnet up"
    return p, line[0], line[1], line[2], int(line[3])


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_owner_killed_by_signal_cleans_up(sig):
    p, h, i, run_dir, spid = _start_owner()
    p.send_signal(sig)
    p.wait(timeout=20)
    assert not {h, i} & set(V.netns_list())
    assert not os.path.exists(run_dir)
    assert _wait_gone(lambda: not V.pid_alive(spid) or V.is_zombie(spid))


def test_owner_sigkilled_leaves_stale_vnet_that_cleanup_removes():
    p, h, i, run_dir, spid = _start_owner()
    p.kill()
    p.wait(timeout=10)
    # The servers die with their owner (PDEATHSIG); the namespaces stay until cleanup_stale.
    assert _wait_gone(lambda: not V.pid_alive(spid) or V.is_zombie(spid))
    removed = V.cleanup_stale()
    assert {h, i} <= set(removed)
    assert not {h, i} & set(V.netns_list())
    assert not os.path.exists(run_dir)
