"""The API proxy's per-target settings beyond the key header flags (issue 17):
apiProxy.targets.{gemini,vertex,antigravity}.authHeader, which AWF's schema takes and its
api-proxy ignores (Gemini and Vertex AI always get x-goog-api-key), and --openai-base-url-env's
secret endpoint, which stays out of every log and manifest awf writes.

The provider is fake_provider.py (see test_api_proxy.py).
"""

from __future__ import annotations

import json

from test_api_proxy import FP_PORT, files_text, header_values, scan_for, seen
from test_api_surface import curl, key_env, no_secret_anywhere, provider, secret, target_args  # noqa: F401,E501


def test_google_auth_header_keys_have_no_effect_as_in_awf(awf, provider, secret, nonce,
                                                          tmp_path):
    config = tmp_path / "awf-config.json"
    config.write_text(json.dumps({"apiProxy": {"targets": {
        "gemini": {"authHeader": "Authorization"}, "vertex": {"authHeader": "api-key"},
        "antigravity": {"authHeader": "X-Key"}}}}))
    s = seen(provider)
    script = "; ".join([
        curl("-o", "/dev/null", f"http://api-proxy:10003/v1beta/models/g:generateContent?n={nonce}"),
        curl("-o", "/dev/null", f"http://api-proxy:10004/v1/x:generateContent?n={nonce}"),
    ])
    res = awf(target_args(provider, "gemini", "vertex") + ["--config", str(config)],
              ["bash", "-c", script], env=key_env(secret, "gemini", "vertex"))
    assert res.rc == 0, res
    for prov in ("gemini", "vertex", "antigravity"):
        line = f"awf: config.apiProxy.targets.{prov}.authHeader has no effect in awf: "
        assert any(l.startswith(line) for l in res.stderr_lines), res
    (gemini,) = s.requests(f"/g:generateContent?n={nonce}")
    (vertex,) = s.requests(f"/x:generateContent?n={nonce}")
    assert header_values(gemini, "x-goog-api-key") == [f"real-{secret}-gemini"], gemini
    assert header_values(vertex, "x-goog-api-key") == [f"real-{secret}-vertex"], vertex
    for rec in (gemini, vertex):
        for name in ("authorization", "api-key", "x-key"):
            assert header_values(rec, name) == [], rec
    no_secret_anywhere(res, secret)



def test_openai_base_url_env_endpoint_stays_out_of_every_log(awf, provider, secret, nonce,
                                                             tmp_path):
    """As AWF (redact-secrets.ts, logging.js, squid's sensitive_log_domains): the secret URL's
    host and path reach neither the access log, the audit records, the policy manifest nor
    the audit directory; the record shows redacted.invalid and the client's path. Its host is
    in no allowlist, yet reachable by the API proxy; it wins over --openai-api-target and
    --openai-api-base-path, as in AWF."""
    s = seen(provider)
    url = f"https://openai.allowed.test:{FP_PORT}/serving-{nonce}"
    audit_dir = tmp_path / "audit"
    script = curl("-o", "/dev/null", "-w", "STATUS=%{http_code}\\n",
                  "http://api-proxy:10000/chat/completions")
    env = {**key_env(secret, "openai"), "OPENAI_SECRET_URL": url}
    res = awf(["--enable-api-proxy", "--api-proxy-ca-cert", provider.ca_path,
               "--openai-base-url-env", "OPENAI_SECRET_URL", "--openai-api-target",
               f"other.allowed.test:{FP_PORT}", "--openai-api-base-path", "/ignored",
               "--audit-dir", str(audit_dir), "--log-level", "debug"],
              ["bash", "-c", script], env=env)
    assert res.rc == 0 and "STATUS=200" in res.stdout, res
    (got,) = s.requests(f"serving-{nonce}")
    assert got["path"] == f"/serving-{nonce}/chat/completions", got
    assert got["sni"] == "openai.allowed.test", got
    texts = files_text(res.logs_dir, str(audit_dir))
    assert any(p.endswith("policy-manifest.json") for p in texts), list(texts)
    for needle in ("openai.allowed.test", f"serving-{nonce}"):
        assert not scan_for(texts, [needle]), (needle, scan_for(texts, [needle]))
        assert needle not in res.stdout + res.stderr, res
    recs = [r for r in res.audit if r.get("kind") == "api" and r.get("provider") == "openai"]
    assert len(recs) == 1 and recs[0].get("status") == 200, res.audit
    assert recs[0]["url"] == "https://redacted.invalid/chat/completions", recs
    no_secret_anywhere(res, secret)


def test_openai_base_url_env_variable_names_the_url_without_the_flag(awf, provider, secret,
                                                                     nonce):
    """AWF reads OPENAI_BASE_URL_ENV when the flag is not given; a bad name is refused without
    showing any URL."""
    s = seen(provider)
    url = f"https://openai.allowed.test:{FP_PORT}/fallback-{nonce}"
    script = curl("-o", "/dev/null", "http://api-proxy:10000/chat/completions")
    env = {**key_env(secret, "openai"), "OPENAI_SECRET_URL": url,
           "OPENAI_BASE_URL_ENV": "OPENAI_SECRET_URL"}
    res = awf(["--enable-api-proxy", "--api-proxy-ca-cert", provider.ca_path],
              ["bash", "-c", script], env=env)
    assert res.rc == 0, res
    (got,) = s.requests(f"fallback-{nonce}")
    assert got["path"] == f"/fallback-{nonce}/chat/completions", got
    bad = awf(["--enable-api-proxy"], ["true"],
              env={**env, "OPENAI_BASE_URL_ENV": "1-not-a-name"})
    assert bad.rc == 1 and "OPENAI_BASE_URL_ENV '1-not-a-name' is not a variable name" in \
        bad.stderr, bad
    assert url not in bad.stderr, bad
