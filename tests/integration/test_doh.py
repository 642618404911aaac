"""--dns-over-https: awf's own upstream resolution over RFC 8484. A DoH responder of the tests'
own (doh_server.py, in the internet namespace, answering the test zone itself) must see every
query; the vnet's plain DNS server (which logs every query) must see none for those names."""

from __future__ import annotations

import re
import shlex

import pytest

import doh_server as D
import vnet as V
from conftest import dns_seen

DOH_IP_URL = f"https://{V.OTHER4}:{D.DEFAULT_PORT}/dns-query"
DOH_NAME_URL = f"https://other.test:{D.DEFAULT_PORT}/dns-query"
FAILING_PORT = D.DEFAULT_PORT + 1
CLOSING_PORT = D.DEFAULT_PORT + 2
HANGING_PORT = D.DEFAULT_PORT + 3


@pytest.fixture(scope="module")
def doh(vnet):
    proc = D.start_doh_server(vnet)
    yield
    vnet.stop_host_service(proc)


@pytest.fixture
def trusted(vnet):
    """awf's environment: OpenSSL's default trust store is the vnet's CA."""
    return {"SSL_CERT_FILE": vnet.ca_path}


def status(out: str) -> str | None:
    m = re.search(r"status: (\w+)", out)
    return m.group(1) if m else None


def doh_names(vnet, mark) -> list[str]:
    return [str(r.get("name") or "").lower() for r in D.doh_records(vnet, mark)
            if r.get("kind") == "query"]


def script(*commands: list[str]) -> list[str]:
    return ["bash", "-c", "; ".join(shlex.join(c) + "; echo @@@" for c in commands)]


def test_allowed_names_resolve_over_https_only(awf, vnet, doh, trusted, nonce):
    dug, looked_up, fetched = (f"{p}{nonce}.allowed.test" for p in ("dig", "getent", "curl"))
    m, dm = vnet.mark(), D.doh_mark(vnet)
    r = awf(["--allow-domains", "allowed.test", "--dns-over-https", DOH_IP_URL],
            script(awf.dig(dug), ["getent", "hosts", looked_up],
                   awf.curl(f"https://{fetched}/doh")), env=trusted)
    outs = r.stdout.split("@@@\n")
    assert r.rc == 0, r.describe()
    assert status(outs[0]) == "NOERROR" and V.ALLOWED4 in outs[0], r.describe()
    assert V.ALLOWED4 in outs[1] or V.ALLOWED6 in outs[1], r.describe()
    assert f"host={fetched}" in outs[2], r.describe()
    seen = doh_names(vnet, dm)
    # The sandbox's queries (dig, getent) and awf's own lookup for the proxied connection.
    for name in (dug, looked_up, fetched):
        assert name in seen, (name, D.doh_records(vnet, dm))
        assert not dns_seen(vnet, m, name), (name, vnet.dns_queries(m))
    queries = [q for q in D.doh_records(vnet, dm) if q.get("kind") == "query"]
    assert all(q["method"] == "POST" and q["content_type"] == "application/dns-message"
               and q.get("id") == 0 for q in queries), queries
    # One kept-alive connection for the whole run.
    assert len({q["conn"] for q in queries}) == 1, D.doh_records(vnet, dm)
    recs = r.audit_for(dug, kind="dns", action="allow")
    assert recs and recs[0].get("rcode") == "NOERROR", r.describe()


def test_concurrent_queries_share_the_connection(awf, vnet, doh, trusted, nonce):
    names = [f"c{i}{nonce}.allowed.test" for i in range(20)]
    dm = D.doh_mark(vnet)
    digs = " & ".join(shlex.join(awf.dig("+short", n)) for n in names)
    r = awf(["--allow-domains", "allowed.test", "--dns-over-https", DOH_IP_URL],
            ["bash", "-c", digs + " & wait"], env=trusted)
    assert r.stdout.split().count(V.ALLOWED4) == len(names), r.describe()
    queries = [q for q in D.doh_records(vnet, dm) if q.get("kind") == "query"]
    assert sorted(q["name"] for q in queries) == sorted(names), queries
    assert len({q["conn"] for q in queries}) == 1, queries


def test_server_named_by_host_is_resolved_once_with_plain_dns(awf, vnet, doh, trusted, nonce):
    name = f"n{nonce}.allowed.test"
    m, dm = vnet.mark(), D.doh_mark(vnet)
    r = awf(["--allow-domains", "allowed.test", "--dns-over-https", DOH_NAME_URL],
            script(awf.dig(name), awf.dig(name, "AAAA")), env=trusted)
    outs = r.stdout.split("@@@\n")
    assert status(outs[0]) == "NOERROR" and V.ALLOWED4 in outs[0], r.describe()
    assert status(outs[1]) == "NOERROR" and V.ALLOWED6 in outs[1], r.describe()
    assert doh_names(vnet, dm).count(name) == 2, D.doh_records(vnet, dm)
    assert not dns_seen(vnet, m, name), vnet.dns_queries(m)
    plain = [q.get("name") for q in vnet.dns_queries(m)]
    assert plain and set(plain) == {"other.test"}, plain  # only the DoH server's own name
    tls = [t for t in D.doh_records(vnet, dm) if t.get("kind") == "tls"]
    assert tls and tls[0].get("sni") == "other.test", tls


def test_denied_name_reaches_neither_server(awf, vnet, doh, trusted, nonce):
    name = f"n{nonce}.blocked.test"
    m, dm = vnet.mark(), D.doh_mark(vnet)
    r = awf(["--allow-domains", "allowed.test", "--dns-over-https", DOH_IP_URL],
            script(awf.dig(name), awf.curl(f"https://{name}/")), env=trusted)
    assert status(r.stdout) == "NXDOMAIN", r.describe()
    assert name not in doh_names(vnet, dm), D.doh_records(vnet, dm)
    assert not dns_seen(vnet, m, name), vnet.dns_queries(m)
    assert r.audit_for(name, kind="dns", action="deny"), r.describe()


def test_untrusted_certificate_fails_closed(awf, vnet, doh, nonce):
    # No SSL_CERT_FILE: the system trust store does not know the vnet's CA.
    name = f"n{nonce}.allowed.test"
    m, dm = vnet.mark(), D.doh_mark(vnet)
    r = awf(["--allow-domains", "allowed.test", "--dns-over-https", DOH_IP_URL],
            script(awf.dig(name), awf.curl(f"https://{name}/", max_time=20)),
            env={"SSL_CERT_FILE": "/nonexistent"})
    assert status(r.stdout) == "SERVFAIL", r.describe()
    assert "certificate verification failed" in r.stderr, r.describe()
    recs = r.audit_for(name, kind="dns")
    assert recs and "certificate verification failed" in recs[0].get("reason", ""), r.describe()
    assert "n" + nonce not in " ".join(doh_names(vnet, dm)), D.doh_records(vnet, dm)
    assert [t for t in D.doh_records(vnet, dm) if t.get("kind") == "tls-error"], \
        D.doh_records(vnet, dm)
    assert not dns_seen(vnet, m, name), vnet.dns_queries(m)
    # The proxied fetch could not resolve either: refused, not sent anywhere else.
    assert not vnet.origin_requests(m) or all(
        name not in str(o.get("host") or "") for o in vnet.origin_requests(m)), r.describe()


def test_http_error_from_server_is_servfail(awf, vnet, trusted, nonce):
    proc = D.start_doh_server(vnet, port=FAILING_PORT, status=503)
    try:
        name = f"n{nonce}.allowed.test"
        m = vnet.mark()
        r = awf(["--allow-domains", "allowed.test", "--dns-over-https",
                 f"https://{V.OTHER4}:{FAILING_PORT}/dns-query"],
                script(awf.dig(name)), env=trusted)
        assert status(r.stdout) == "SERVFAIL", r.describe()
        recs = r.audit_for(name, kind="dns")
        assert recs and "HTTP 503" in recs[0].get("reason", ""), r.describe()
        assert not dns_seen(vnet, m, name), vnet.dns_queries(m)
    finally:
        vnet.stop_host_service(proc)


def test_reconnects_when_the_server_drops_the_connection(awf, vnet, trusted, nonce):
    proc = D.start_doh_server(vnet, port=CLOSING_PORT, mode="close")
    try:
        names = [f"n{i}{nonce}.allowed.test" for i in range(3)]
        dm = D.doh_mark(vnet, CLOSING_PORT)
        r = awf(["--allow-domains", "allowed.test", "--dns-over-https",
                 f"https://{V.OTHER4}:{CLOSING_PORT}/dns-query"],
                script(*[awf.dig(n) for n in names]), env=trusted)
        outs = r.stdout.split("@@@\n")
        for i in range(3):
            assert status(outs[i]) == "NOERROR" and V.ALLOWED4 in outs[i], r.describe()
        queries = [q for q in D.doh_records(vnet, dm, CLOSING_PORT) if q.get("kind") == "query"]
        assert [q["name"] for q in queries] == names, queries
        assert len({q["conn"] for q in queries}) == 3, queries  # a fresh connection each time
    finally:
        vnet.stop_host_service(proc)


def test_unanswered_query_times_out_with_servfail(awf, vnet, trusted, nonce):
    proc = D.start_doh_server(vnet, port=HANGING_PORT, mode="hang")
    try:
        name = f"n{nonce}.allowed.test"
        m = vnet.mark()
        r = awf(["--allow-domains", "allowed.test", "--dns-over-https",
                 f"https://{V.OTHER4}:{HANGING_PORT}/dns-query"],
                script(["dig", "+time=8", "+tries=1", name]), env=trusted)
        assert status(r.stdout) == "SERVFAIL", r.describe()
        recs = r.audit_for(name, kind="dns")
        assert recs and "no answer within 4 s" in recs[0].get("reason", ""), r.describe()
        assert not dns_seen(vnet, m, name), vnet.dns_queries(m)
    finally:
        vnet.stop_host_service(proc)


@pytest.mark.parametrize("url,needle", [
    (f"http://{V.OTHER4}:{D.DEFAULT_PORT}/dns-query", "https"),
    ("https://exa mple/dns-query", "whitespace"),
    ("dns.example/dns-query", "not a URL"),
    ("https://user@doh.test/dns-query", "user"),
])
def test_bad_url_is_a_clear_error_at_start(awf, vnet, url, needle):
    m = vnet.mark()
    r = awf(["--allow-domains", "allowed.test", "--dns-over-https", url], ["true"])
    assert r.rc not in (0, None), r.describe()
    assert "--dns-over-https" in r.stderr and needle in r.stderr, r.describe()
    assert not vnet.dns_queries(m), vnet.dns_queries(m)


def test_server_name_with_internal_address_refused(awf, vnet):
    r = awf(["--allow-domains", "allowed.test", "--dns-over-https",
             f"https://private.test:{D.DEFAULT_PORT}/dns-query"], ["true"])
    assert r.rc not in (0, None), r.describe()
    assert "--dns-over-https" in r.stderr and "internal address 10.99.0.10" in r.stderr, \
        r.describe()
