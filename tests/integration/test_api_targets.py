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
