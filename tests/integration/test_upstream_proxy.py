"""--upstream-proxy: awf reaches origins through a parent proxy (CONNECT for every kind of
request), or auto-detects one from its own https_proxy/http_proxy environment; no_proxy names go
direct. The parent is a small CONNECT proxy in the vnet's internet namespace (203.0.113.2),
started by VNet.start_parent_proxy; it logs every request line and Proxy-Authorization header.
"""

from __future__ import annotations

import base64
import os
import time

import pytest

import vnet as V
from conftest import reached

PARENT = V.INET4
OK_PORT, AUTH_PORT, FORBID_PORT, CLOSED_PORT, PRIVATE_PORT = 3128, 3129, 3130, 3131, 3132
PARENT_URL = f"http://{PARENT}:{OK_PORT}"
NO_PROXY = ("--noproxy", "*")
ALLOW = ["-d", "allowed.test"]


@pytest.fixture(scope="module")
def parents(vnet):
    procs = [vnet.start_parent_proxy(OK_PORT), vnet.start_parent_proxy(AUTH_PORT, answer=407),
             vnet.start_parent_proxy(FORBID_PORT, answer=403),
             vnet.start_parent_proxy(PRIVATE_PORT, addr=V.PRIVATE4)]
    try:
        yield vnet
    finally:
        for proc in procs:
            vnet.stop_host_service(proc)


def parent_lines(vnet, port: int, mark: int) -> list[str]:
    return [r.get("line", "") for r in vnet.parent_requests(port, mark) if r.get("kind") == "request"]


def records(res, name: str = "allowed.test", **kw) -> list[dict]:
    return [r for r in res.audit_for(name, **kw) if r.get("kind") != "dns"]


@pytest.mark.parametrize("transparent", [False, True], ids=["proxy-env", "transparent"])
def test_https_goes_through_the_parent(awf, parents, nonce, transparent):
    vnet = parents
    mark, pmark = vnet.mark(), vnet.parent_mark(OK_PORT)
    extra = NO_PROXY if transparent else ()
    res = awf(["--upstream-proxy", PARENT_URL, *ALLOW],
              awf.curl(*extra, f"https://allowed.test/up-{nonce}"))
    assert res.rc == 0, res
    assert f"path=/up-{nonce}" in res.stdout, res
    assert "CONNECT allowed.test:443 HTTP/1.1" in parent_lines(vnet, OK_PORT, pmark), res
    seen = [r for r in reached(vnet, mark) if str(r.get("path", "")).endswith(f"/up-{nonce}")]
    assert seen and all(r.get("client") == PARENT for r in seen), seen
    recs = records(res, kind="tls" if transparent else "connect", action="allow")
    assert recs, res
    assert recs[0]["dest"] == f"{PARENT}:{OK_PORT}", res
    assert f"via upstream proxy {PARENT}:{OK_PORT}" in recs[0]["reason"], res
    assert any(a["hier"] == "FIRSTUP_PARENT" and a["dest"] == f"{PARENT}:{OK_PORT}"
               for a in res.access_for("allowed.test")), res


@pytest.mark.parametrize("transparent", [False, True], ids=["proxy-env", "transparent"])
def test_plain_http_goes_through_the_parent_with_connect_to_80(awf, parents, nonce, transparent):
    vnet = parents
    mark, pmark = vnet.mark(), vnet.parent_mark(OK_PORT)
    extra = NO_PROXY if transparent else ()
    res = awf(["--upstream-proxy", PARENT_URL, *ALLOW],
              ["sh", "-c", " ".join(awf.curl(*[f"'{e}'" for e in extra],
                                             f"http://allowed.test/a-{nonce}")) + " && " +
               " ".join(awf.curl(*[f"'{e}'" for e in extra], f"http://allowed.test/b-{nonce}"))])
    assert res.rc == 0, res
    assert f"path=/a-{nonce}" in res.stdout and f"path=/b-{nonce}" in res.stdout, res
    assert "CONNECT allowed.test:80 HTTP/1.1" in parent_lines(vnet, OK_PORT, pmark), res
    seen = [r for r in reached(vnet, mark) if nonce in str(r.get("path", ""))]
    assert len(seen) == 2 and all(r.get("client") == PARENT for r in seen), seen
    recs = records(res, kind="http", action="allow")
    assert len(recs) == 2, res
    assert all(r["dest"] == f"{PARENT}:{OK_PORT}" and r["status"] == 200 for r in recs), res


def test_blocked_name_never_reaches_the_parent(awf, parents, nonce):
    vnet = parents
    mark, pmark = vnet.mark(), vnet.parent_mark(OK_PORT)
    res = awf(["--upstream-proxy", PARENT_URL, *ALLOW],
              ["sh", "-c", " ".join(awf.curl(f"https://blocked.test/x-{nonce}")) + "; " +
               " ".join(awf.curl(f"http://blocked.test/y-{nonce}"))])
    assert "awf: blocked 'blocked.test'" in res.stdout, res
    assert not [l for l in parent_lines(vnet, OK_PORT, pmark) if "blocked.test" in l], res
    assert not reached(vnet, mark, host="blocked.test"), res
    denied = records(res, "blocked.test", action="deny")
    assert len(denied) == 2 and all(r.get("dest") == "-:-" for r in denied), res


def test_userinfo_becomes_basic_auth_and_the_password_stays_secret(awf, parents, nonce, tmp_path):
    vnet = parents
    pmark = vnet.parent_mark(OK_PORT)
    audit_dir = os.path.join(vnet.new_logs_dir("audit"), "audit")
    password = f"pw{nonce}@x"
    url = f"http://alice:{password.replace('@', '%40')}@{PARENT}:{OK_PORT}"
    res = awf(["--upstream-proxy", url, "--log-level", "debug", "--audit-dir", audit_dir, *ALLOW],
              awf.curl(f"https://allowed.test/auth-{nonce}"))
    assert res.rc == 0, res
    expected = "Basic " + base64.b64encode(f"alice:{password}".encode()).decode()
    reqs = [r for r in vnet.parent_requests(OK_PORT, pmark) if r.get("kind") == "request"]
    assert reqs and all(r.get("auth") == expected for r in reqs), reqs
    secrets = (f"pw{nonce}", f"pw{nonce}%40x")
    assert not any(s in res.stderr or s in res.stdout for s in secrets), res
    for d in (res.logs_dir, audit_dir):
        for root, _, files in os.walk(d):
            for f in files:
                text = open(os.path.join(root, f), errors="replace").read()
                assert not any(s in text for s in secrets), (f, text[:2000])
    config = open(os.path.join(audit_dir, "awf-config.json")).read()
    assert f"alice:***@{PARENT}:{OK_PORT}" in config, config


@pytest.mark.parametrize("port,status", [(AUTH_PORT, 407), (FORBID_PORT, 403)])
def test_parent_refusal_is_a_502(awf, parents, nonce, port, status):
    vnet = parents
    mark = vnet.mark()
    res = awf(["--upstream-proxy", f"http://{PARENT}:{port}", *ALLOW],
              ["sh", "-c",
               " ".join(awf.curl("-o", "/dev/null", "-w", "'%{http_connect}\\n'",
                                 f"https://allowed.test/r-{nonce}")) + "; " +
               " ".join(awf.curl("-o", "/dev/null", "-w", "'%{http_code}\\n'",
                                 f"http://allowed.test/r-{nonce}"))])
    assert res.stdout.split() == ["502", "502"], res
    assert not reached(vnet, mark, host="allowed.test"), res
    recs = records(res, status=502)
    assert len(recs) == 2, res
    assert all(r["reason"] == f"upstream proxy answered {status}" for r in recs), res
    assert {r["kind"] for r in recs} == {"connect", "http"}, res


def test_unreachable_parent_is_a_quick_502(awf, parents, nonce):
    start = time.monotonic()
    res = awf(["--upstream-proxy", f"http://{PARENT}:{CLOSED_PORT}", *ALLOW],
              awf.curl("-o", "/dev/null", "-w", "%{http_code}", f"http://allowed.test/u-{nonce}"))
    assert res.stdout.strip() == "502", res
    assert time.monotonic() - start < 10, res
    recs = records(res, status=502)
    assert recs and recs[0]["reason"].startswith("upstream proxy unreachable: "), res


def test_parent_on_a_private_address_named_by_a_name(awf, parents, nonce):
    # private.test resolves (through awf's resolver, i.e. the vnet's DNS) to 10.99.0.10: the
    # internal-address refusal does not apply to the parent, and its name needs no allow rule.
    vnet = parents
    mark, pmark = vnet.mark(), vnet.parent_mark(PRIVATE_PORT)
    res = awf(["--upstream-proxy", f"http://private.test:{PRIVATE_PORT}/", *ALLOW],
              awf.curl(f"https://allowed.test/priv-{nonce}"))
    assert res.rc == 0, res
    assert "CONNECT allowed.test:443 HTTP/1.1" in parent_lines(vnet, PRIVATE_PORT, pmark), res
    seen = [r for r in reached(vnet, mark) if str(r.get("path", "")).endswith(f"/priv-{nonce}")]
    assert seen and seen[0].get("client") == V.PRIVATE4, seen
    recs = records(res, kind="connect", action="allow")
    assert recs and recs[0]["dest"] == f"{V.PRIVATE4}:{PRIVATE_PORT}", res


def test_internal_refusal_still_applies_to_direct_connections(awf, parents, nonce):
    # private.test allowed by name but internal: refused when it goes direct (no_proxy).
    vnet = parents
    mark, pmark = vnet.mark(), vnet.parent_mark(OK_PORT)
    res = awf(["-d", "allowed.test,private.test"],
              awf.curl("-o", "/dev/null", "-w", "%{http_code}", f"http://private.test/int-{nonce}"),
              env={"http_proxy": PARENT_URL, "no_proxy": "private.test"})
    assert res.stdout.strip() == "403", res
    assert parent_lines(vnet, OK_PORT, pmark) == [], res
    assert not reached(vnet, mark, host="private.test"), res
    recs = records(res, "private.test", kind="http")
    assert recs and "internal" in recs[0]["reason"], res


def test_autodetect_from_https_proxy(awf, parents, nonce):
    vnet = parents
    mark, pmark = vnet.mark(), vnet.parent_mark(OK_PORT)
    res = awf(ALLOW, awf.curl(f"https://allowed.test/auto-{nonce}"),
              env={"https_proxy": PARENT_URL, "HTTP_PROXY": "http://198.51.100.99:1"})
    assert res.rc == 0, res
    assert f"awf: using upstream proxy {PARENT_URL} from https_proxy" in res.stderr, res
    assert "CONNECT allowed.test:443 HTTP/1.1" in parent_lines(vnet, OK_PORT, pmark), res
    seen = [r for r in reached(vnet, mark) if str(r.get("path", "")).endswith(f"/auto-{nonce}")]
    assert seen and seen[0].get("client") == PARENT, seen


def test_autodetect_from_http_proxy_uppercase(awf, parents, nonce):
    vnet = parents
    pmark = vnet.parent_mark(OK_PORT)
    res = awf(ALLOW, awf.curl(f"http://allowed.test/upper-{nonce}"),
              env={"HTTP_PROXY": PARENT_URL})
    assert res.rc == 0, res
    assert f"from HTTP_PROXY" in res.stderr, res
    assert "CONNECT allowed.test:80 HTTP/1.1" in parent_lines(vnet, OK_PORT, pmark), res


@pytest.mark.parametrize("no_proxy", ["allowed.test", ".allowed.test", "*"])
def test_no_proxy_goes_direct(awf, parents, nonce, no_proxy):
    vnet = parents
    mark, pmark = vnet.mark(), vnet.parent_mark(OK_PORT)
    res = awf(ALLOW, awf.curl(f"https://allowed.test/direct-{nonce}"),
              env={"https_proxy": PARENT_URL, "no_proxy": no_proxy})
    assert res.rc == 0, res
    assert parent_lines(vnet, OK_PORT, pmark) == [], res
    seen = [r for r in reached(vnet, mark) if str(r.get("path", "")).endswith(f"/direct-{nonce}")]
    assert seen and seen[0].get("client") == V.HOST4, seen
    recs = records(res, kind="connect", action="allow")
    assert recs and "via upstream proxy" not in recs[0]["reason"], res
    assert any(a["hier"] == "HIER_DIRECT" for a in res.access_for("allowed.test")), res


def test_unparsable_environment_value_is_a_warning(awf, parents, nonce):
    vnet = parents
    mark = vnet.mark()
    res = awf(ALLOW, awf.curl(f"https://allowed.test/warn-{nonce}"),
              env={"https_proxy": "socks5://bob:hunter2@198.51.100.99:1080"})
    assert res.rc == 0, res
    assert "awf: warning: ignoring https_proxy=" in res.stderr, res
    assert "hunter2" not in res.stderr, res
    seen = [r for r in reached(vnet, mark) if str(r.get("path", "")).endswith(f"/warn-{nonce}")]
    assert seen and seen[0].get("client") == V.HOST4, seen


def test_explicit_flag_beats_the_environment(awf, parents, nonce):
    vnet = parents
    pmark = vnet.parent_mark(OK_PORT)
    res = awf(["--upstream-proxy", PARENT_URL, *ALLOW],
              awf.curl(f"https://allowed.test/flag-{nonce}"),
              env={"https_proxy": f"http://{PARENT}:{CLOSED_PORT}"})
    assert res.rc == 0, res
    assert "using upstream proxy" not in res.stderr, res
    assert parent_lines(vnet, OK_PORT, pmark), res


@pytest.mark.parametrize("url", ["https://proxy.test:3128", "socks5://proxy.test:1080",
                                 "proxy.test:3128", "http://proxy.test:99999",
                                 "http://proxy.test:3128/path", "http://",
                                 "http://carol:topsecret@bad host:3128"])
def test_bad_url_is_a_usage_error(awf, vnet, url):
    res = awf(["--upstream-proxy", url, *ALLOW], ["true"])
    assert res.rc == 1, res
    assert "--upstream-proxy" in res.stderr, res
    assert "topsecret" not in res.stderr, res
