"""TLS interception (issue 7): `--ssl-bump` with `--allow-urls` URL rules.

awf makes a per-run CA the sandbox trusts (files under /run/awf, the distribution bundle path,
SSL_CERT_FILE & co, NODE_EXTRA_CA_CERTS, a PKCS#12 store for JVMs), intercepts TLS to the
allowed names that a pattern mentions (explicit CONNECT and transparent), checks every request
inside the session (Host = TLS name, canonical path matched against the patterns, DLP) and
verifies the origin itself. The vnet's origins carry certificates from the vnet's own test CA, so
these tests give awf `--ssl-bump-ca-file vnet.ca_path` to trust them upstream (except the one
that checks the 502 an untrusted origin gives).

Inside the sandbox, `plain_curl` (no --cacert) is a client that trusts only the system store;
`awf.curl` (--cacert vnet CA) plays a "pinned" client that does not trust the run's CA, and is
right for spliced names, where the client sees the origin's real certificate.

Traffic rule: every name is under .test, every address is the vnet's.
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil

import pytest

import vnet as V
from conftest import reached

OK = "https://allowed.test/ok/*"
AWF_ISSUER = "O = awf, CN = awf run CA"
WARNING = "awf: warning: a client in the sandbox rejected awf's certificate for allowed.test"
TRANSPORTS = pytest.mark.parametrize("transparent", [False, True], ids=["explicit", "transparent"])
BIG = 100 * 1024 * 1024


# ------------------------------------------------------------------------------------ helpers
def bump(vnet, *patterns: str, domains: str = "allowed.test", ca: bool = True) -> list[str]:
    args = ["-d", domains, "--ssl-bump"]
    for p in patterns or (OK,):
        args += ["--allow-urls", p]
    if ca:
        args += ["--ssl-bump-ca-file", vnet.ca_path]
    return args


def plain_curl(*extra: str, max_time: float = 15) -> list[str]:
    """curl in the sandbox with no CA option: it trusts whatever the sandbox's system store has."""
    return ["curl", "-sS", "--max-time", str(max_time), *extra]


def noproxy(transparent: bool) -> tuple:
    return ("--noproxy", "*") if transparent else ()


def codes(*urls: str) -> list[str]:
    """curl arguments that fetch every URL (on kept-alive sessions) and print each status."""
    args = ["-w", "%{http_code}\\n"]
    for u in urls:
        args += ["-o", "/dev/null", u]
    return args


def sh(*commands) -> list[str]:
    """A bash script made of argv lists (quoted) and raw strings, one command per line."""
    lines = [c if isinstance(c, str) else shlex.join(c) for c in commands]
    return ["bash", "-c", "\n".join(lines)]


def intercepts(res, **kw) -> list[dict]:
    return [r for r in res.audit if r.get("kind") == "intercept"
            and all(r.get(k) == v for k, v in kw.items())]


def tunnels(res, name: str = "allowed.test", **kw) -> list[dict]:
    return [r for r in res.audit_for(name, **kw) if r.get("kind") in ("connect", "tls")]


def paths_seen(vnet, mark, needle: str) -> list[str]:
    return [str(r.get("path")) for r in vnet.origin_requests(mark)
            if r.get("kind") == "request" and needle in str(r.get("path", ""))]


def s_client(name: str, *, proxy: bool, connect: str | None = None) -> str:
    """Shell line: the certificate subject/issuer (or the failure) openssl sees for `name`."""
    target = connect or f"{name}:443"
    via = "-proxy 127.0.0.1:3128 " if proxy else ""
    return (f"echo | timeout 15 openssl s_client {via}-connect {target} -servername {name} 2>&1 "
            f"| grep -E '^(subject|issuer)=|no peer certificate|CONNECT failed|errno' "
            f"| sed 's/^/{name}: /'")


def tool(name: str):
    if shutil.which(name, path=V.SAFE_PATH) is None:
        pytest.skip(f"{name} is not installed")


# ------------------------------------------------------------------- allowed and refused URLs
@TRANSPORTS
def test_allowed_url_passes_and_its_path_is_logged(awf, vnet, nonce, transparent):
    mark = vnet.mark()
    path = f"/ok/{nonce}/a?q={nonce}"
    res = awf(bump(vnet), plain_curl(*noproxy(transparent), f"https://allowed.test{path}"))
    assert res.rc == 0, res
    assert res.origin.get("path") == path and res.origin.get("sni") == "allowed.test", res
    assert paths_seen(vnet, mark, nonce) == [path], vnet.origin_requests(mark)
    transport = "transparent" if transparent else "explicit"
    recs = intercepts(res, url=f"https://allowed.test{path}")
    assert len(recs) == 1, res
    r = recs[0]
    assert (r["transport"], r["method"], r["status"], r["action"]) == \
        (transport, "GET", 200, "allow"), res
    assert r["name"] == "allowed.test" and "URL allowed (--allow-urls)" in r["reason"], res
    assert r["dest"] in (f"{V.ALLOWED4}:443", f"[{V.ALLOWED6}]:443"), res
    tun = tunnels(res, kind="tls" if transparent else "connect", action="allow")
    assert tun and all(t["reason"].endswith("; intercepted (--ssl-bump)") for t in tun), res
    assert any(a["url"] == f"https://allowed.test{path}" and a["status"] == 200
               for a in res.access_for("allowed.test")), res
    assert "rejected awf's certificate" not in res.stderr, res


@TRANSPORTS
def test_other_path_of_the_same_host_is_403_and_never_reaches_the_origin(awf, vnet, nonce,
                                                                        transparent):
    mark = vnet.mark()
    url = f"https://allowed.test/no/{nonce}"
    res = awf(bump(vnet), plain_curl(*noproxy(transparent), "-i", url))
    assert res.rc == 0, res
    assert re.search(r"^HTTP/1\.1 403 ", res.stdout, re.M), res
    assert f"awf: blocked {url}: no --allow-urls pattern matches {url}" in res.stdout, res
    assert not paths_seen(vnet, mark, nonce), vnet.origin_requests(mark)
    recs = intercepts(res, url=url)
    assert len(recs) == 1 and recs[0]["status"] == 403 and recs[0]["action"] == "deny", res
    assert recs[0]["reason"] == f"no --allow-urls pattern matches {url}", res
    # the tunnel itself was allowed and intercepted: the refusal is per request
    assert tunnels(res, action="allow"), res


def test_each_request_of_a_session_is_decided_on_its_own(awf, vnet, nonce):
    mark = vnet.mark()
    urls = [f"https://allowed.test/ok/{nonce}-1", f"https://allowed.test/no/{nonce}-2",
            f"https://allowed.test/ok/{nonce}-3", f"https://allowed.test/ok{nonce}-4"]
    res = awf(bump(vnet), plain_curl(*codes(*urls)))
    assert res.stdout.split() == ["200", "403", "200", "403"], res
    assert paths_seen(vnet, mark, nonce) == [f"/ok/{nonce}-1", f"/ok/{nonce}-3"], \
        vnet.origin_requests(mark)
    assert [(r["url"], r["status"]) for r in intercepts(res)] == \
        list(zip(urls, [200, 403, 200, 403])), res
    # the first two went over one kept-alive session: both decided there
    first, second = intercepts(res)[:2]
    assert first["client"] == second["client"], res


def test_query_is_part_of_the_match_and_patterns_are_anchored(awf, vnet, nonce):
    mark = vnet.mark()
    pat = f"https://allowed.test/api/{nonce}?page=*"
    urls = [f"https://allowed.test/api/{nonce}?page=2",     # matches
            f"https://allowed.test/api/{nonce}",            # no query: the pattern wants one
            f"https://allowed.test/api/{nonce}/x?page=2",   # anchored: no extra path
            f"https://allowed.test/v2/api/{nonce}?page=2"]  # anchored at the start too
    res = awf(bump(vnet, pat), plain_curl(*codes(*urls)))
    assert res.stdout.split() == ["200", "403", "403", "403"], res
    assert paths_seen(vnet, mark, nonce) == [f"/api/{nonce}?page=2"], vnet.origin_requests(mark)


def test_post_body_is_relayed_intact(awf, vnet, nonce):
    body = os.urandom(1024 * 1024)
    src = os.path.join(vnet.scratch_dir, f"post-{nonce}.bin")
    with open(src, "wb") as f:
        f.write(body)
    os.chmod(src, 0o644)
    try:
        res = awf(bump(vnet), plain_curl("--data-binary", f"@{src}",
                                         f"https://allowed.test/ok/post-{nonce}"))
    finally:
        os.unlink(src)
    assert res.rc == 0, res
    assert f"len={len(body)} sha256={hashlib.sha256(body).hexdigest()}" in res.stdout, res
    assert intercepts(res, method="POST", status=200), res


@TRANSPORTS
def test_host_header_other_than_the_tls_name_is_421(awf, vnet, nonce, transparent):
    # other.test is allowed too: the refusal is domain fronting, not a domain rule
    mark = vnet.mark()
    url = f"https://allowed.test/ok/front-{nonce}"
    res = awf(bump(vnet, domains="allowed.test,other.test"),
              plain_curl(*noproxy(transparent), "-i", "-H", "Host: other.test", url))
    assert re.search(r"^HTTP/1\.1 421 ", res.stdout, re.M), res
    assert (f"awf: blocked {url}: Host 'other.test' does not match the TLS name "
            "'allowed.test'") in res.stdout, res
    assert not paths_seen(vnet, mark, nonce), vnet.origin_requests(mark)
    assert not reached(vnet, mark, host="other.test"), vnet.origin_requests(mark)
    recs = intercepts(res, url=url)
    assert len(recs) == 1 and recs[0]["status"] == 421 and recs[0]["action"] == "deny", res
    assert "does not match the TLS name" in recs[0]["reason"], res


def test_connect_whose_sni_differs_from_the_connect_host_serves_no_request(awf, vnet, nonce):
    mark = vnet.mark()
    req = f"GET /ok/sni-{nonce} HTTP/1.1\\r\\nHost: allowed.test\\r\\nConnection: close\\r\\n\\r\\n"
    res = awf(bump(vnet, domains="allowed.test,other.test"),
              sh(f"(printf '{req}'; sleep 2) | timeout 15 openssl s_client -quiet "
                 "-proxy 127.0.0.1:3128 -connect allowed.test:443 -servername other.test 2>&1"))
    assert "HTTP/1.1 200" not in res.stdout, res
    assert not paths_seen(vnet, mark, nonce), vnet.origin_requests(mark)
    assert not intercepts(res), res
    denied = tunnels(res, kind="connect", action="deny")
    assert denied and denied[0]["reason"] == \
        "TLS SNI 'other.test' does not match CONNECT host 'allowed.test'", res


# ---------------------------------------------------------------- what is (not) intercepted
@TRANSPORTS
def test_denied_name_is_refused_before_tls(awf, vnet, nonce, transparent):
    # evil.test is even mentioned by a pattern: patterns never allow a name by themselves
    mark = vnet.mark()
    if transparent:
        # evil.test does not resolve in the sandbox: dial its address with its name as SNI
        script = sh(s_client("evil.test", proxy=False, connect=f"{V.EVIL4}:443"),
                    plain_curl("--noproxy", "*", "--resolve", f"evil.test:443:{V.EVIL4}",
                               f"https://evil.test/x/{nonce}") + ["-w", "\\ncurl=%{http_code}\\n"])
    else:
        script = sh(s_client("evil.test", proxy=True),
                    plain_curl("-w", "\\nconnect=%{http_connect}\\n",
                               f"https://evil.test/x/{nonce}"))
    res = awf(bump(vnet, OK, "https://evil.test/x/*"), script)
    assert ("evil.test is not allowed by the domain rules, so it is refused before TLS"
            in res.stderr), res
    assert "awf run CA" not in res.stdout and "subject=" not in res.stdout, res
    if transparent:
        assert "evil.test: no peer certificate available" in res.stdout, res
        assert "curl=000" in res.stdout, res
    else:
        assert "CONNECT failed" in res.stdout and "connect=403" in res.stdout, res
    assert not reached(vnet, mark, origin=V.EVIL4) and not reached(vnet, mark, origin=V.EVIL6), \
        vnet.origin_requests(mark)
    denied = tunnels(res, "evil.test", action="deny")
    assert len(denied) == 2 and all(r["reason"] == "not in allowlist" for r in denied), res
    assert not intercepts(res), res


@TRANSPORTS
def test_names_no_pattern_mentions_are_spliced(awf, vnet, nonce, transparent):
    mark = vnet.mark()
    proxy = not transparent
    res = awf(bump(vnet, domains="allowed.test,other.test"),
              sh(s_client("allowed.test", proxy=proxy), s_client("other.test", proxy=proxy),
                 s_client("www.allowed.test", proxy=proxy),
                 awf.curl(*noproxy(transparent), f"https://other.test/any/{nonce}"),
                 awf.curl(*noproxy(transparent), f"https://www.allowed.test/any/{nonce}")))
    lines = res.stdout.splitlines()
    assert any(l.startswith(f"allowed.test: issuer={AWF_ISSUER}") for l in lines), res
    vnet_issuer = f"issuer=CN = awf integration test CA {vnet.tag}"
    assert f"other.test: {vnet_issuer}" in lines, res
    assert f"www.allowed.test: {vnet_issuer}" in lines, res  # the pattern names allowed.test only
    assert f"host=other.test path=/any/{nonce}" in res.stdout, res
    assert f"host=www.allowed.test path=/any/{nonce}" in res.stdout, res
    assert sorted(paths_seen(vnet, mark, nonce)) == [f"/any/{nonce}"] * 2, res
    for name in ("other.test", "www.allowed.test"):
        recs = tunnels(res, name, action="allow")
        assert recs and all("intercepted" not in r["reason"] for r in recs), res
        assert not [r for r in intercepts(res) if r["name"] == name], res


def test_ssl_bump_without_patterns_intercepts_nothing(awf, vnet, nonce):
    res = awf(["-d", "allowed.test", "--ssl-bump"],
              sh(s_client("allowed.test", proxy=True),
                 awf.curl(f"https://allowed.test/any/{nonce}")))
    assert "no name is intercepted" in res.stderr, res
    assert f"allowed.test: issuer=CN = awf integration test CA {vnet.tag}" in res.stdout, res
    assert f"path=/any/{nonce}" in res.stdout, res
    assert not intercepts(res), res


def test_leaf_certificate_names_only_the_intercepted_name(awf, vnet):
    conn = ("echo | timeout 15 openssl s_client -proxy 127.0.0.1:3128 -connect allowed.test:443 "
            "-servername allowed.test")
    res = awf(bump(vnet),
              sh(f"{conn} 2>/dev/null | openssl x509 -noout -subject -issuer "
                 "-ext subjectAltName,extendedKeyUsage,basicConstraints",
                 f"{conn} -CAfile /run/awf/ca.pem -verify_hostname allowed.test 2>&1 "
                 "| grep 'Verify return code'"))
    out = res.stdout
    assert "subject=CN = allowed.test" in out and f"issuer={AWF_ISSUER}" in out, res
    san = re.search(r"Subject Alternative Name:\s*\n\s*(.*)", out)
    assert san and san.group(1).strip() == "DNS:allowed.test", res
    assert "TLS Web Server Authentication" in out and "CA:FALSE" in out, res
    assert "Verify return code: 0 (ok)" in out, res


# ------------------------------------------------------------------------ the origin's side
def test_origin_with_an_untrusted_certificate_is_a_502(awf, vnet, nonce):
    mark = vnet.mark()
    url = f"https://allowed.test/ok/bad-{nonce}"
    res = awf(bump(vnet, ca=False), plain_curl("-i", url))  # no --ssl-bump-ca-file
    assert re.search(r"^HTTP/1\.1 502 ", res.stdout, re.M), res
    assert ("TLS to allowed.test failed: certificate verification failed" in res.stdout), res
    assert not paths_seen(vnet, mark, nonce), vnet.origin_requests(mark)
    assert [r for r in vnet.origin_requests(mark) if r.get("kind") == "tls-error"], \
        vnet.origin_requests(mark)  # awf aborted the handshake with the origin
    recs = intercepts(res, url=url, status=502)
    assert len(recs) == 1, res
    assert recs[0]["reason"].startswith("TLS to allowed.test failed: certificate verification"), res


# ------------------------------------------------------------- clients trust the run's CA
def _check_client(res, vnet, mark, path: str):
    assert "rejected awf's certificate" not in res.stderr, res
    assert paths_seen(vnet, mark, path) and all(p.startswith(path)
                                                for p in paths_seen(vnet, mark, path)), res
    recs = [r for r in intercepts(res, status=200, action="allow")
            if r["url"].startswith(f"https://allowed.test{path}")]
    assert recs, res
    return recs


def test_sandbox_trust_files_and_environment(awf, vnet):
    res = awf(bump(vnet),
              sh("env -0 | tr '\\0' '\\n' | grep -E '^(SSL_CERT_FILE|REQUESTS_CA_BUNDLE|"
                 "CURL_CA_BUNDLE|GIT_SSL_CAINFO|NODE_EXTRA_CA_CERTS|JAVA_TOOL_OPTIONS)='",
                 "echo CERTS=$(grep -c 'BEGIN CERTIFICATE' /run/awf/ca.pem)",
                 "openssl x509 -in /run/awf/ca.pem -noout -subject -ext basicConstraints",
                 "grep -qF \"$(sed -n 2p /run/awf/ca.pem)\" /etc/ssl/certs/ca-certificates.crt "
                 "&& echo DISTRO_BUNDLE_HAS_CA",
                 "grep -qF \"$(sed -n 2p /run/awf/ca.pem)\" /run/awf/ca-bundle.pem && "
                 "echo BUNDLE_HAS_CA",
                 "touch /run/awf/x 2>/dev/null && echo RUN_AWF_WRITABLE",
                 "echo x >> /etc/ssl/certs/ca-certificates.crt 2>/dev/null && echo BUNDLE_WRITABLE",
                 "openssl pkcs12 -in /run/awf/truststore.p12 -passin pass:changeit -nokeys "
                 "2>/dev/null | grep -c 'friendlyName: awf-run-ca'"))
    env = dict(l.split("=", 1) for l in res.stdout.splitlines() if "=" in l and l[:1].isupper()
               and l.split("=", 1)[0] in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
                                          "GIT_SSL_CAINFO", "NODE_EXTRA_CA_CERTS",
                                          "JAVA_TOOL_OPTIONS", "CERTS"))
    for k in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO"):
        assert env.get(k) == "/run/awf/ca-bundle.pem", res
    assert env.get("NODE_EXTRA_CA_CERTS") == "/run/awf/ca.pem", res
    for opt in ("-Djavax.net.ssl.trustStore=/run/awf/truststore.p12",
                "-Djavax.net.ssl.trustStoreType=PKCS12",
                "-Djavax.net.ssl.trustStorePassword=changeit"):
        assert opt in env.get("JAVA_TOOL_OPTIONS", "").split(), res
    assert env.get("CERTS") == "1", res
    assert re.search(r"^subject=O = awf, CN = awf run CA \(pid \d+\)$", res.stdout, re.M), res
    assert "CA:TRUE" in res.stdout, res
    assert "DISTRO_BUNDLE_HAS_CA" in res.stdout and "BUNDLE_HAS_CA" in res.stdout, res
    assert "WRITABLE" not in res.stdout, res
    assert res.stdout.strip().splitlines()[-1] == "1", res


@TRANSPORTS
def test_curl_trusts_the_run_ca(awf, vnet, nonce, transparent):
    mark = vnet.mark()
    res = awf(bump(vnet), plain_curl(*noproxy(transparent),
                                     f"https://allowed.test/ok/curl-{nonce}"))
    assert res.rc == 0, res
    _check_client(res, vnet, mark, f"/ok/curl-{nonce}")


def test_python_urllib_trusts_the_run_ca(awf, vnet, nonce):
    mark = vnet.mark()
    code = ("import urllib.request,sys\n"
            f"r = urllib.request.urlopen('https://allowed.test/ok/py-{nonce}', timeout=15)\n"
            "print(r.status, r.read().decode())\n"
            # and a socket of its own (no proxy: the transparent path), default context
            "import socket, ssl\n"
            "ctx = ssl.create_default_context()\n"
            "s = ctx.wrap_socket(socket.create_connection(('allowed.test', 443), timeout=15),"
            " server_hostname='allowed.test')\n"
            f"s.sendall(b'GET /ok/py-{nonce}-raw HTTP/1.1\\r\\nHost: allowed.test\\r\\n"
            "Connection: close\\r\\n\\r\\n')\n"
            "print(s.recv(4096).decode().split('\\r\\n')[0])\n")
    res = awf(bump(vnet), ["python3", "-c", code])
    assert res.rc == 0, res
    assert res.stdout.startswith("200 origin=") and "HTTP/1.1 200 OK" in res.stdout, res
    recs = _check_client(res, vnet, mark, f"/ok/py-{nonce}")
    assert {r["transport"] for r in recs} == {"explicit", "transparent"}, res


def test_python_requests_trusts_the_run_ca(awf, vnet, nonce):
    probe = V.run(["python3", "-c", "import requests"], check=False)
    if probe.returncode != 0:
        pytest.skip("python3 has no 'requests' module")
    mark = vnet.mark()
    res = awf(bump(vnet), ["python3", "-c",
                           "import requests; r = requests.get("
                           f"'https://allowed.test/ok/req-{nonce}', timeout=15); "
                           "print(r.status_code, r.text)"])
    assert res.rc == 0 and res.stdout.startswith("200 origin="), res
    _check_client(res, vnet, mark, f"/ok/req-{nonce}")


def test_node_trusts_the_run_ca(awf, vnet, nonce):
    tool("node")
    mark = vnet.mark()
    js = (f"require('https').get('https://allowed.test/ok/node-{nonce}', r => {{"
          " let d = ''; r.on('data', c => d += c);"
          " r.on('end', () => console.log(r.statusCode, d)); })"
          ".on('error', e => { console.log('ERR', e.code, e.message); process.exit(3); })")
    res = awf(bump(vnet), ["node", "-e", js], timeout=60)
    assert res.rc == 0 and res.stdout.startswith("200 origin="), res
    _check_client(res, vnet, mark, f"/ok/node-{nonce}")


def test_git_trusts_the_run_ca(awf, vnet, nonce):
    tool("git")
    mark = vnet.mark()
    res = awf(bump(vnet), ["git", "ls-remote", f"https://allowed.test/ok/repo-{nonce}"],
              timeout=60)
    # the origin is no git server: git fails, but after a verified TLS session through awf
    assert "info/refs not valid" in res.stderr, res
    assert "SSL" not in res.stderr and "certificate" not in res.stderr.lower(), res
    recs = _check_client(res, vnet, mark, f"/ok/repo-{nonce}")
    assert any(r["url"].startswith(f"https://allowed.test/ok/repo-{nonce}/info/refs")
               for r in recs), res


def test_java_trusts_the_run_ca(awf, vnet, nonce):
    tool("java")
    mark = vnet.mark()
    src = os.path.join(vnet.scratch_dir, f"Bump{nonce}.java")
    with open(src, "w") as f:
        f.write(f"""
import java.net.*;
public class Bump{nonce} {{
  public static void main(String[] a) throws Exception {{
    HttpURLConnection c = (HttpURLConnection)
        new URL("https://allowed.test/ok/java-{nonce}").openConnection();
    System.out.println("status=" + c.getResponseCode());
    System.out.println(new String(c.getInputStream().readAllBytes()));
  }}
}}
""")
    os.chmod(src, 0o644)
    try:
        res = awf(bump(vnet), ["java", src], timeout=180)
    finally:
        os.unlink(src)
    assert res.rc == 0, res
    assert "status=200" in res.stdout and f"path=/ok/java-{nonce}" in res.stdout, res
    _check_client(res, vnet, mark, f"/ok/java-{nonce}")


# ----------------------------------------------------------------- the CA key stays with awf
def test_ca_private_key_is_not_readable_from_the_sandbox(awf, vnet, nonce):
    # a readable key of our own under /tmp: proves the scan below finds keys and compares them
    decoy = os.path.join(vnet.scratch_dir, f"decoy-{nonce}.key")
    V.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
           "-out", decoy])
    os.chmod(decoy, 0o644)
    decoy_pub = "".join(l for l in V.run(["openssl", "pkey", "-in", decoy, "-pubout"]).stdout
                        .splitlines() if "-----" not in l)
    script = sh(
        "echo CA_PUB $(openssl x509 -in /run/awf/ca.pem -pubkey -noout "
        "| grep -v -- ----- | tr -d '\\n')",
        # every readable PEM private key in the usual places: none may be the CA's
        "grep -rlsI -- '-----BEGIN [A-Z ]*PRIVATE KEY-----' /run /etc/ssl /etc/pki /tmp /var/tmp "
        "/dev/shm \"$HOME\" 2>/dev/null | while read -r f; do",
        "  echo KEYFILE \"$f\"",
        "  echo KEY_PUB $(openssl pkey -in \"$f\" -pubout 2>/dev/null "
        "| grep -v -- ----- | tr -d '\\n')",
        "done",
        "grep -ls 'PRIVATE' /run/awf/* && echo RUN_AWF_HAS_PRIVATE",
        "openssl pkcs12 -in /run/awf/truststore.p12 -passin pass:changeit -nocerts -nodes "
        "2>/dev/null | grep -c 'PRIVATE KEY' | sed 's/^/P12_KEYS /'",
        "openssl pkcs12 -in /run/awf/truststore.p12 -passin pass:changeit -info -nodes 2>&1"
        " | grep -ci 'key bag' | sed 's/^/P12_KEYBAGS /'",
        # the init (awf's child): environment and memory unreadable, command line clean
        "for p in /proc/[0-9]*; do",
        "  cat $p/environ 2>/dev/null | tr '\\0' '\\n' | grep -q 'PRIVATE KEY' && echo ENV_KEY $p",
        "done",
        "tr '\\0' '\\n' < /proc/1/cmdline | grep -qE 'PRIVATE|BEGIN|ssl-bump|allow-urls' "
        "&& echo CMDLINE_LEAK",
        "cat /proc/1/environ >/dev/null 2>&1 && echo INIT_ENVIRON_READABLE",
        "python3 - <<'EOF'",
        "import re",
        "try:",
        "    maps = open('/proc/1/maps').read()",
        "except OSError:",
        "    maps = ''",
        "m = re.search(r'^([0-9a-f]+)-', maps, re.M)",
        "try:",
        "    with open('/proc/1/mem', 'rb') as f:",
        "        f.seek(int(m.group(1), 16) if m else 0)",
        "        f.read(16)",
        "    print('INIT_MEM_READABLE')",
        "except OSError as e:",
        "    print('INIT_MEM_DENIED', e.errno)",
        "EOF",
    )
    try:
        res = awf(bump(vnet), script, timeout=120)
    finally:
        os.unlink(decoy)
    out = res.stdout
    ca_pub = re.search(r"^CA_PUB (\S+)$", out, re.M)
    assert ca_pub and len(ca_pub.group(1)) > 50, res
    key_pubs = re.findall(r"^KEY_PUB ?(\S*)$", out, re.M)
    assert f"KEYFILE {decoy}" in out and decoy_pub in key_pubs, res  # the scan works
    assert ca_pub.group(1) not in key_pubs, res
    assert not [l for l in out.splitlines() if l.startswith("KEYFILE /run/")], res
    for bad in ("RUN_AWF_HAS_PRIVATE", "ENV_KEY", "CMDLINE_LEAK", "INIT_ENVIRON_READABLE",
                "INIT_MEM_READABLE"):
        assert bad not in out, res
    assert "P12_KEYS 0" in out and "P12_KEYBAGS 0" in out, res
    assert "INIT_MEM_DENIED" in out, res
    # certificates and keys are never logged
    for root, _, files in os.walk(res.logs_dir):
        for name in files:
            text = open(os.path.join(root, name), errors="replace").read()
            assert "-----BEGIN" not in text and "PRIVATE KEY" not in text, (name, text[:2000])
    assert "-----BEGIN" not in res.stderr, res


# --------------------------------------------------------------------------- pinned clients
@TRANSPORTS
def test_pinned_client_fails_with_a_diagnostic(awf, vnet, nonce, transparent):
    mark = vnet.mark()
    res = awf(bump(vnet), awf.curl(*noproxy(transparent), f"https://allowed.test/ok/pin-{nonce}"))
    assert res.rc == 60, res  # curl: peer certificate cannot be authenticated
    assert WARNING in res.stderr, res
    assert not paths_seen(vnet, mark, nonce), vnet.origin_requests(mark)
    denied = tunnels(res, kind="tls" if transparent else "connect", action="deny")
    assert len(denied) == 1 and "rejected the certificate" in denied[0]["reason"], res
    assert not intercepts(res), res


# ------------------------------------------------------------------------ canonical paths
@TRANSPORTS
def test_dot_segments_and_encoded_separators_never_reach_the_origin(awf, vnet, nonce,
                                                                    transparent):
    mark = vnet.mark()
    cases = [  # (request target, expected status, path the origin must get or None)
        (f"/ok/../secret-{nonce}", 403, None),
        (f"/ok/%2e%2e/secret-{nonce}", 403, None),
        (f"/ok/%2E%2e/secret-{nonce}", 403, None),
        (f"/ok/.%2e/secret-{nonce}", 403, None),
        (f"/ok/a/../../secret-{nonce}", 403, None),
        (f"/ok/../../../ok/../secret-{nonce}", 403, None),
        (f"/ok/..%2fsecret-{nonce}", 400, None),
        (f"/ok/..%2Fsecret-{nonce}", 400, None),
        (f"/ok/..%5csecret-{nonce}", 400, None),
        (f"/ok/..\\secret-{nonce}", 400, None),
        (f"/ok/a/../b-{nonce}", 200, f"/ok/b-{nonce}"),
        (f"/ok/./c-{nonce}", 200, f"/ok/c-{nonce}"),
        (f"/ok//d/%2e/e-{nonce}", 200, f"/ok/d/e-{nonce}"),
        (f"/x/../ok/f-{nonce}", 200, f"/ok/f-{nonce}"),
    ]
    cmds = [plain_curl(*noproxy(transparent), "--path-as-is", "-o", "/dev/null", "-w",
                       "%{http_code}\\n", f"https://allowed.test{t}") for t, _, _ in cases]
    res = awf(bump(vnet), sh(*cmds))
    assert res.stdout.split() == [str(s) for _, s, _ in cases], res
    seen = paths_seen(vnet, mark, nonce)
    assert not [p for p in seen if "secret" in p], seen
    assert sorted(seen) == sorted(p for _, _, p in cases if p), seen
    canon = {r["url"] for r in intercepts(res, status=200)}
    assert canon == {f"https://allowed.test{p}" for _, _, p in cases if p}, res


@TRANSPORTS
def test_plain_http_to_a_host_with_patterns_is_refused(awf, vnet, nonce, transparent):
    mark = vnet.mark()
    res = awf(bump(vnet), plain_curl(*noproxy(transparent), "-i",
                                     f"http://allowed.test/ok/plain-{nonce}"))
    assert re.search(r"^HTTP/1\.1 403 ", res.stdout, re.M), res
    assert "only https:// URLs can match" in res.stdout, res
    assert not paths_seen(vnet, mark, nonce), vnet.origin_requests(mark)
    recs = res.audit_for("allowed.test", kind="http", action="deny")
    assert recs and "--allow-urls" in recs[0]["reason"], res


# ----------------------------------------------------------------------------------- DLP
def test_dlp_checks_intercepted_urls_and_header_values(awf, vnet, nonce):
    mark = vnet.mark()
    token = "ghp_" + (nonce * 4)[:36]
    res = awf(["--enable-dlp", *bump(vnet)],
              sh(plain_curl("-i", "-H", f"X-Leak: {token}", f"https://allowed.test/ok/h-{nonce}"),
                 plain_curl("-i", f"https://allowed.test/ok/u-{nonce}/{token}"),
                 # A path no pattern allows: DLP still decides first, so no record holds it.
                 plain_curl("-i", f"https://allowed.test/elsewhere-{nonce}/{token}"),
                 plain_curl(f"https://allowed.test/ok/clean-{nonce}")))
    assert len(re.findall(r"^HTTP/1\.1 403 ", res.stdout, re.M)) == 3, res
    assert "credential-shaped string (GitHub token); --enable-dlp (in the X-Leak header)" \
        in res.stdout, res
    assert f"path=/ok/clean-{nonce}" in res.stdout, res
    assert paths_seen(vnet, mark, nonce) == [f"/ok/clean-{nonce}"], vnet.origin_requests(mark)
    denied = intercepts(res, status=403, action="deny")
    assert len(denied) == 3 and all("--enable-dlp" in r["reason"] for r in denied), res
    for root, _, files in os.walk(res.logs_dir):
        for name in files:
            assert token not in open(os.path.join(root, name), errors="replace").read(), name
    assert token not in res.stderr, res


# ------------------------------------------------------------------------ flag validation
@pytest.mark.parametrize("args,message", [
    (["--allow-urls", OK], "--allow-urls needs --ssl-bump"),
    (["--ssl-bump", "--allow-urls", "https://*"], "--allow-urls 'https://*'"),
    (["--ssl-bump", "--allow-urls", "https://*/x"], "--allow-urls 'https://*/x'"),
    (["--ssl-bump", "--allow-urls", "https://*.*/x"], "--allow-urls 'https://*.*/x'"),
    (["--ssl-bump", "--allow-urls", "http://allowed.test/y"], "starts with https://"),
    (["--ssl-bump", "--allow-urls", "https://allowed.test"], "has a path"),
    (["--ssl-bump", "--allow-urls", "allowed.test/x"], "--allow-urls 'allowed.test/x'"),
    (["--ssl-bump", "--allow-urls", "https://allowed.test:8443/x"], "ports are not supported"),
    (["--ssl-bump", "--allow-urls", "https://allowed.test/a#b"], "--allow-urls"),
    (["--ssl-bump", "--allow-urls", f"{OK},https://*"], "--allow-urls 'https://*'"),
], ids=["no-ssl-bump", "star", "star-path", "star-dot-star", "http", "no-path", "no-scheme",
        "port", "fragment", "one-bad-in-list"])
def test_bad_allow_urls_is_a_usage_error(awf, vnet, nonce, args, message):
    res = awf(["-d", "allowed.test", *args], ["echo", f"RAN-{nonce}"])
    assert res.rc == 1, res
    assert message in res.stderr, res
    assert f"RAN-{nonce}" not in res.stdout, res


# --------------------------------------------------------------------------- throughput
def test_100_mib_download_through_interception(awf, vnet, nonce):
    expected = hashlib.sha256(V.expected_bytes(BIG)).hexdigest()
    out = os.path.join(vnet.scratch_dir, f"big-{nonce}")
    url = f"https://allowed.test/bytes/{BIG}"
    fmt = "%{http_code} %{size_download} %{time_total}\\n"
    try:
        res = awf(bump(vnet, "https://allowed.test/bytes/*"),
                  sh(plain_curl("-o", out, "-w", fmt, url, max_time=240),
                     f"sha256sum {shlex.quote(out)}; rm -f {shlex.quote(out)}"), timeout=300)
        # the same download spliced (no pattern for the name), for comparison only
        base = awf(["-d", "allowed.test", "--ssl-bump"],
                   sh(awf.curl("-o", out, "-w", fmt, url, max_time=240),
                      f"rm -f {shlex.quote(out)}"), timeout=300)
    finally:
        if os.path.exists(out):
            os.unlink(out)
    assert res.rc == 0, res
    code, size, secs = res.stdout.split("\n")[0].split()
    assert (code, int(size)) == ("200", BIG), res
    assert f"{expected}  {out}" in res.stdout, res
    recs = intercepts(res, url=url, status=200)
    assert len(recs) == 1 and recs[0]["bytes_down"] >= BIG, res
    rate = BIG / (1024 * 1024) / float(secs)
    line = f"ssl-bump: 100 MiB through interception in {float(secs):.2f} s = {rate:.1f} MiB/s"
    if base.rc == 0 and base.stdout.split()[:2] == ["200", str(BIG)]:
        bsecs = float(base.stdout.split()[2])
        line += f" (spliced: {bsecs:.2f} s = {BIG / (1024 * 1024) / bsecs:.1f} MiB/s)"
    print("\n" + line)
