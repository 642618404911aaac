"""HTTP and HTTPS through awf: explicit proxy and transparent, allowed and denied.

Every test asserts what the client saw, what the origins saw (vnet logs) and what awf logged.
"""

from __future__ import annotations

import hashlib

import shlex

import pytest

import vnet as V
from conftest import ALLOWED, dest_str, reached

NO_PROXY = ("--noproxy", "*")  # curl ignores HTTP(S)_PROXY: the transparent path


def connect_line(r, name, status):
    lines = [d for d in r.access_for(name, method="CONNECT") if d["status"] == status]
    assert lines, f"no CONNECT {name} {status} line in access.log" + r.describe()
    return lines[0]


def get_line(r, name, status, method="GET"):
    lines = [d for d in r.access_for(name, method=method) if d["status"] == status]
    assert lines, f"no {method} {name} {status} line in access.log" + r.describe()
    return lines[0]


def audit_one(r, name, decision, kinds=None):
    recs = [x for x in r.audit_for(name, action=decision)
            if kinds is None or x.get("kind") in kinds]
    assert recs, f"no audit record name={name} decision={decision} kind in {kinds}" + r.describe()
    return recs[0]


# ---------------------------------------------------------------------------- allowed
def test_https_allowed_via_proxy(awf, vnet):
    m = vnet.mark()
    r = awf(["--allow-domains", "allowed.test"], awf.curl("https://allowed.test/p1"))
    assert r.rc == 0, r.describe()
    o = r.origin
    assert o.get("origin") in ALLOWED and o["host"] == "allowed.test" and o["path"] == "/p1", r.describe()
    assert o["sni"] == "allowed.test", r.describe()
    line = connect_line(r, "allowed.test", 200)
    assert line["squid_status"] == "TCP_TUNNEL" and line["dest_addr"] in ALLOWED, line["_raw"]
    assert line["host"] == "allowed.test:443" and line["ua"].startswith("curl/"), line["_raw"]
    rec = audit_one(r, "allowed.test", "allow", {"connect"})
    assert rec.get("transport") == "explicit" and any(a in dest_str(rec) for a in ALLOWED), rec
    assert reached(vnet, m, host="allowed.test", sni="allowed.test")


def test_http_allowed_via_proxy(awf, vnet):
    r = awf(["--allow-domains", "allowed.test"], awf.curl("http://allowed.test/plain?q=1"))
    assert r.rc == 0, r.describe()
    o = r.origin
    assert o.get("origin") in ALLOWED and o["host"] == "allowed.test" and o["tls"] == "0", r.describe()
    assert o["path"] == "/plain?q=1", r  # origin-form, not the absolute URI
    line = get_line(r, "allowed.test", 200)
    assert line["squid_status"] == "TCP_MISS" and line["dest_addr"] in ALLOWED, line["_raw"]
    assert line["url"] == "http://allowed.test/plain?q=1", line["_raw"]
    rec = audit_one(r, "allowed.test", "allow", {"http"})
    assert rec.get("method") == "GET" and rec.get("status") == 200, rec


def test_https_allowed_transparent(awf, vnet):
    m = vnet.mark()
    r = awf(["--allow-domains", "allowed.test"], awf.curl(*NO_PROXY, "https://allowed.test/t"))
    assert r.rc == 0, r.describe()
    assert r.origin.get("origin") in ALLOWED and r.origin["sni"] == "allowed.test", r.describe()
    line = connect_line(r, "allowed.test", 200)  # transparent TLS is logged as a CONNECT line
    assert line["host"].startswith("allowed.test") and line["dest_addr"] in ALLOWED, line["_raw"]
    rec = audit_one(r, "allowed.test", "allow", {"tls"})
    assert rec.get("transport") == "transparent", rec
    # curl resolved the name through awf's DNS, which asked the test server.
    assert r.audit_for("allowed.test", kind="dns", action="allow"), r.describe()
    assert reached(vnet, m, sni="allowed.test", host="allowed.test")


def test_http_allowed_transparent(awf, vnet):
    r = awf(["--allow-domains", "allowed.test"], awf.curl(*NO_PROXY, "http://allowed.test/tp"))
    assert r.rc == 0, r.describe()
    assert r.origin.get("origin") in ALLOWED and r.origin["host"] == "allowed.test", r.describe()
    line = get_line(r, "allowed.test", 200)
    assert line["dest_addr"] in ALLOWED, line["_raw"]
    rec = audit_one(r, "allowed.test", "allow", {"http"})
    assert rec.get("transport") == "transparent", rec


@pytest.mark.parametrize("transparent", [False, True], ids=["proxy", "transparent"])
def test_subdomains_allowed(awf, vnet, transparent):
    extra = NO_PROXY if transparent else ()
    script = " && ".join(
        shlex.join(awf.curl(*extra, f"https://{n}/sub")) for n in ("api.allowed.test", "deep.sub.allowed.test"))
    r = awf(["-d", "allowed.test"], ["bash", "-c", script])
    assert r.rc == 0, r.describe()
    hosts = [V.parse_origin_line(l).get("host") for l in r.stdout.splitlines()]
    assert hosts == ["api.allowed.test", "deep.sub.allowed.test"], r.describe()
    for n in ("api.allowed.test", "deep.sub.allowed.test"):
        connect_line(r, n, 200)


def test_wildcard_entry(awf, vnet):
    m = vnet.mark()
    r = awf(["-d", "*.allowed.test"],
            ["bash", "-c", shlex.join(awf.curl("https://api.allowed.test/")) + "; echo; " +
             shlex.join(awf.curl("-w", "connect=%{http_connect}", "https://other.test/"))])
    assert r.origin.get("host") == "api.allowed.test", r.describe()
    assert "connect=403" in r.stdout, r.describe()
    connect_line(r, "other.test", 403)
    assert not reached(vnet, m, host="other.test")


def test_case_insensitive_entry_and_url(awf):
    r = awf(["-d", "Allowed.TEST"], awf.curl("https://API.Allowed.Test/"))
    assert r.rc == 0 and r.origin.get("origin") in ALLOWED, r.describe()


def test_bulk_download_and_upload(awf):
    n = 8_000_000
    want = hashlib.sha256(V.expected_bytes(n)).hexdigest()
    up = hashlib.sha256(b"\0" * 2_000_000).hexdigest()
    script = "; ".join([
        shlex.join(awf.curl(f"https://allowed.test/bytes/{n}")) + " | sha256sum",
        shlex.join(awf.curl(*NO_PROXY, f"http://allowed.test/bytes/{n}")) + " | sha256sum",
        "head -c 2000000 /dev/zero | " + shlex.join(awf.curl("--data-binary", "@-", "https://allowed.test/up")),
    ])
    r = awf(["-d", "allowed.test"], ["bash", "-c", script], timeout=90)
    assert r.rc == 0, r.describe()
    sums = [l.split()[0] for l in r.stdout.splitlines() if l.endswith("  -")]
    assert sums == [want, want], r.describe()
    o = r.origin
    assert o.get("len") == "2000000" and o.get("sha256") == up, r.describe()


# ---------------------------------------------------------------------------- denied
def test_blocked_domain_https_via_proxy(awf, vnet):
    m = vnet.mark()
    r = awf(["--allow-domains", "allowed.test"],
            awf.curl("-w", "connect=%{http_connect}", "https://blocked.test/"))
    assert r.rc != 0 and "connect=403" in r.stdout, r.describe()
    line = connect_line(r, "blocked.test", 403)
    assert line["squid_status"] == "TCP_DENIED" and line["dest_addr"] is None, line["_raw"]
    rec = audit_one(r, "blocked.test", "deny")
    assert rec.get("dest") == "-:-", rec
    assert "Firewall blocked domains:" in r.stderr and \
        "blocked.test" in r.stderr.split("Firewall blocked domains:", 1)[1], r.describe()
    assert not reached(vnet, m, origin=V.EVIL4) and not reached(vnet, m, host="blocked.test")


def test_blocked_domain_http_403_names_it(awf, vnet):
    m = vnet.mark()
    r = awf(["--allow-domains", "allowed.test"],
            awf.curl("-w", "\\ncode=%{http_code}", "http://blocked.test/x"))
    assert "code=403" in r.stdout, r.describe()
    body = r.stdout.split("code=")[0]
    assert "blocked.test" in body and "--allow-domains" in body, r.describe()
    line = get_line(r, "blocked.test", 403)
    assert line["squid_status"] == "TCP_DENIED", line["_raw"]
    audit_one(r, "blocked.test", "deny", {"http"})
    assert not reached(vnet, m, host="blocked.test")


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_blocked_domain_transparent(awf, vnet, scheme):
    m = vnet.mark()
    r = awf(["-d", "allowed.test"],
            awf.curl(*NO_PROXY, "-w", "\\ncode=%{http_code}", f"{scheme}://blocked.test/"))
    # DNS for blocked.test is refused, so curl may not even get an address: either way the
    # origin must never be reached and awf must have logged a denial for the name.
    assert "origin=" not in r.stdout, r.describe()
    assert r.audit_for("blocked.test", action="deny"), r.describe()
    assert not reached(vnet, m, origin=V.EVIL4)
    assert "blocked.test" not in vnet.dns_names_seen(m)


def test_block_beats_allow(awf, vnet):
    m = vnet.mark()
    script = (shlex.join(awf.curl("https://allowed.test/")) + "; echo; " +
              shlex.join(awf.curl("-w", "connect=%{http_connect}", "https://api.allowed.test/")) +
              "; echo; " + shlex.join(awf.curl("-w", "connect=%{http_connect}", "https://blocked.test/")))
    r = awf(["--allow-domains", "allowed.test,blocked.test", "--block-domains",
             "api.allowed.test,blocked.test"], ["bash", "-c", script])
    assert r.origin.get("host") == "allowed.test", r.describe()
    assert r.stdout.count("connect=403") == 2, r.describe()
    connect_line(r, "allowed.test", 200)
    connect_line(r, "api.allowed.test", 403)
    connect_line(r, "blocked.test", 403)
    audit_one(r, "api.allowed.test", "deny")
    assert not reached(vnet, m, host="api.allowed.test") and not reached(vnet, m, origin=V.EVIL4)


def test_block_domains_file_and_allow_domains_file(awf, vnet, nonce):
    allow = f"{vnet.scratch_dir}/allow-{nonce}.txt"
    block = f"{vnet.scratch_dir}/block-{nonce}.txt"
    with open(allow, "w") as f:
        f.write("# allowed for this test\nallowed.test\n\nother.test\n")
    with open(block, "w") as f:
        f.write("# blocked\napi.allowed.test\n")
    script = "; echo; ".join(shlex.join(awf.curl("-w", "connect=%{http_connect}", f"https://{n}/"))
                             for n in ("allowed.test", "other.test", "api.allowed.test", "evil.test"))
    r = awf(["--allow-domains-file", allow, "--block-domains-file", block], ["bash", "-c", script])
    hosts = [V.parse_origin_line(l).get("host") for l in r.stdout.splitlines() if "origin=" in l]
    assert hosts == ["allowed.test", "other.test"], r.describe()
    connect_line(r, "api.allowed.test", 403)
    connect_line(r, "evil.test", 403)


@pytest.mark.parametrize("entry,ok,denied", [
    ("http://allowed.test", "http", "https"),
    ("https://allowed.test", "https", "http"),
], ids=["http-only", "https-only"])
def test_protocol_prefix_entries(awf, vnet, entry, ok, denied):
    m = vnet.mark()
    r_ok = awf(["-d", entry], awf.curl(f"{ok}://allowed.test/ok"))
    assert r_ok.rc == 0 and r_ok.origin.get("path") == "/ok", r_ok.describe()
    r_no = awf(["-d", entry], awf.curl("-w", "\\ncode=%{http_code} connect=%{http_connect}",
                                       f"{denied}://allowed.test/denied"))
    assert "code=403" in r_no.stdout or "connect=403" in r_no.stdout, r_no.describe()
    assert "origin=" not in r_no.stdout, r_no.describe()
    if denied == "https":
        connect_line(r_no, "allowed.test", 403)
    else:
        get_line(r_no, "allowed.test", 403)
    audit_one(r_no, "allowed.test", "deny")
    assert not [x for x in reached(vnet, m) if x.get("path") == "/denied"]
