"""The API proxy's surface at AWF v0.28 (issue 17): the name `api-proxy` in the sandbox, GET
/reflect on every port and `awf --reflect`, Vertex on 10004, AWF's sandbox variables, the key
header flags, --openai-base-url-env, and the model policy of the config file (aliases rewrite
the model the provider gets; a refused model is answered with AWF's 403 body and logged).

The provider is fake_provider.py on port 8443 of the internet namespace (see test_api_proxy.py);
every target is a name under .test. Its log keeps each body's length and sha256, so a rewritten
body is checked by its digest.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import uuid

import pytest

from conftest import dns_seen
from test_api_proxy import FP_PORT, KEY_VARS, env_of, files_text, header_values, scan_for, seen

PORTS = {"openai": 10000, "anthropic": 10001, "copilot": 10002, "gemini": 10003, "vertex": 10004}
KEY_VAR = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY",
           "copilot": "COPILOT_GITHUB_TOKEN", "gemini": "GEMINI_API_KEY",
           "vertex": "GOOGLE_API_KEY"}
for _name in KEY_VARS + ["GOOGLE_API_KEY", "OPENAI_SECRET_URL"]:
    os.environ.pop(_name, None)


@pytest.fixture(scope="module")
def provider(vnet):
    proc = vnet.start_fake_provider(FP_PORT)
    try:
        yield vnet
    finally:
        vnet.stop_host_service(proc)


@pytest.fixture
def secret():
    return "s" + uuid.uuid4().hex[:15]


def key_env(secret: str, *providers: str) -> dict:
    return {KEY_VAR[p]: f"real-{secret}-{p}" for p in providers}


def target_args(vnet, *providers: str) -> list[str]:
    args = ["--enable-api-proxy", "--api-proxy-ca-cert", vnet.ca_path]
    for p in providers:
        args += [f"--{p}-api-target", f"{p}.allowed.test:{FP_PORT}"]
    return args


def write_config(tmp_path, api_proxy: dict) -> str:
    path = tmp_path / "awf-config.json"
    path.write_text(json.dumps({"apiProxy": api_proxy}))
    return str(path)


def curl(*args: str) -> str:
    """curl to awf's listeners by AWF's name, without the explicit proxy (as AWF's harness)."""
    return shlex.join(["curl", "-sS", "--max-time", "20", "--noproxy", "*", *args])


def no_secret_anywhere(res, secret: str) -> None:
    assert secret not in res.stdout + res.stderr, res
    assert not scan_for(files_text(res.logs_dir), [secret]), res


def test_api_proxy_name_resolves_in_the_sandbox_and_never_leaves(awf, provider, secret):
    mark = provider.mark()
    script = (f"getent hosts api-proxy; dig +short +time=3 +tries=1 @127.0.0.1 api-proxy; "
              f"echo STATUS=$(curl -s -o /dev/null -w '%{{http_code}}' --noproxy '*' "
              f"http://api-proxy:10004/health)")
    res = awf(target_args(provider, "vertex"), ["bash", "-c", script],
              env=key_env(secret, "vertex"))
    assert res.rc == 0, res
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["127.0.0.1", "api-proxy"], res
    assert lines[1] == "127.0.0.1", res  # awf's DNS listener answers the name itself
    assert "STATUS=200" in res.stdout, res
    assert not dns_seen(provider, mark, "api-proxy"), "api-proxy was asked upstream"
    dns = [r for r in res.audit if r.get("kind") == "dns" and r.get("name") == "api-proxy"]
    assert dns and all("the API proxy: " in r.get("reason", "") for r in dns), res.audit
    no_secret_anywhere(res, secret)


def reflect_in_sandbox(awf, vnet, config: str, env: dict, *extra: str):
    script = (f"{curl('http://api-proxy:10000/reflect')}; echo; "
              f"{curl('http://api-proxy:10004/reflect')}; echo")
    return awf(target_args(vnet, "openai", "vertex") + ["--config", config, *extra],
               ["bash", "-c", script], env=env)


def test_reflect_answers_on_every_port_and_awf_reflect_prints_it(awf, provider, secret,
                                                                   tmp_path):
    aliases = {"agent": ["openai/gpt-5", "copilot/claude-sonnet-4.6"], "small": ["gpt-5-mini"]}
    config = write_config(tmp_path, {"models": aliases})
    env = key_env(secret, "openai", "vertex")
    res = reflect_in_sandbox(awf, provider, config, env)
    assert res.rc == 0, res
    first, second = [json.loads(l) for l in res.stdout.splitlines() if l.strip()]
    assert first == second, res
    by_name = {e["provider"]: e for e in first["endpoints"]}
    assert list(by_name) == list(PORTS), first
    for name, port in PORTS.items():
        e = by_name[name]
        assert e["port"] == port and e["base_url"] == f"http://api-proxy:{port}", e
        assert e["configured"] == (name in ("openai", "vertex")), e
    assert by_name["openai"]["models_url"] == "http://api-proxy:10000/v1/models", first
    assert by_name["copilot"]["models_url"] == "http://api-proxy:10002/models", first
    assert by_name["vertex"]["models_url"] is None, first
    assert first["model_aliases"] == aliases, first
    assert first["models_fetch_complete"] is False, first
    no_secret_anywhere(res, secret)

    # `awf --reflect`: the same JSON, no sandbox, exit 0.
    out = awf(target_args(provider, "openai", "vertex") + ["--config", config, "--reflect"],
              None, env=env)
    assert out.rc == 0, out
    assert json.loads(out.stdout) == first, out
    assert secret not in out.stdout + out.stderr, out


def test_reflect_reports_what_the_run_has_counted(awf, provider, secret, tmp_path):
    """AWF's guards' reflect states as the run stands: a model call answered 2xx counts toward
    maxRuns and costs its AI credits (gpt-5.4 at AWF's price: 0.46), a 403 toward
    maxPermissionDenied; cache misses are off. Before any request: zeros."""
    config = write_config(tmp_path, {"maxRuns": 5})
    before = curl("http://api-proxy:10000/reflect")
    call = curl("-o", "/dev/null", "-X", "POST", "-d", '{"model":"gpt-5.4"}',
                "http://api-proxy:10000/v1/chat/completions?usage=openai")
    denied = curl("-o", "/dev/null", "http://api-proxy:10000/v1/status/403")
    script = f"{before}; echo; {call}; {denied}; {curl('http://api-proxy:10001/reflect')}; echo"
    res = awf(target_args(provider, "openai") + ["--config", config,
                                                 "--max-permission-denied", "3"],
              ["bash", "-c", script], env=key_env(secret, "openai"))
    assert res.rc == 0, res
    start, after = [json.loads(l) for l in res.stdout.splitlines() if l.strip()]
    assert start["runs"] == {"enabled": True, "max_runs": 5, "invocation_count": 0,
                             "remaining_runs": 5}, start
    assert start["ai_credits"] == {"total": 0, "by_model": {}}, start
    assert after["runs"] == {"enabled": True, "max_runs": 5, "invocation_count": 1,
                             "remaining_runs": 4}, after
    assert after["permission_denied"] == {"enabled": True, "max_permission_denied": 3,
                                          "denied_count": 1}, after
    assert after["cache_misses"] == {"enabled": False, "max_cache_misses": None,
                                     "consecutive_cache_misses": 0,
                                     "remaining_cache_misses": None}, after
    assert after["ai_credits"]["total"] == pytest.approx(0.46), after
    assert after["ai_credits"]["by_model"] == {"gpt-5.4": {"total": pytest.approx(0.46)}}, after
    assert all(e["models"] is None for e in after["endpoints"]), after  # nothing fetched
    no_secret_anywhere(res, secret)


def test_vertex_is_forwarded_with_its_key_and_variables(awf, provider, secret):
    s = seen(provider)
    path = "/v1/projects/p/locations/l/publishers/google/models/gemini-pro:generateContent"
    script = ('env -0 | { echo ENV_BEGIN; cat; echo; echo ENV_END; }; '
              + curl("-o", "/dev/null", "-X", "POST", "-H", "x-goog-api-key: placeholder",
                     "-d", "{}", f"http://api-proxy:10004{path}?key=placeholder&alt=sse"))
    res = awf(target_args(provider, "vertex"), ["bash", "-c", script],
              env=key_env(secret, "vertex"))
    assert res.rc == 0, res
    env_in = env_of(res.stdout)
    assert env_in.get("GOOGLE_VERTEX_BASE_URL") == "http://127.0.0.1:10004", env_in
    assert env_in.get("GOOGLE_API_KEY") == "google-api-key-placeholder-for-credential-isolation"
    got = s.requests("gemini-pro")
    assert len(got) == 1, got
    assert got[0]["path"] == f"{path}?alt=sse", got
    assert got[0]["sni"] == "vertex.allowed.test", got
    assert header_values(got[0], "x-goog-api-key") == [f"real-{secret}-vertex"], got
    no_secret_anywhere(res, secret)


def test_sandbox_variables_match_awf(awf, provider, secret):
    script = 'env -0 | { echo ENV_BEGIN; cat; echo; echo ENV_END; }'
    res = awf(target_args(provider, *PORTS), ["bash", "-c", script],
              env=key_env(secret, *PORTS))
    assert res.rc == 0, res
    env_in = env_of(res.stdout)
    expected = {
        "OPENAI_BASE_URL": "http://127.0.0.1:10000",
        "ANTHROPIC_BASE_URL": "http://127.0.0.1:10001",
        "COPILOT_API_URL": "http://127.0.0.1:10002",
        "COPILOT_PROVIDER_BASE_URL": "http://127.0.0.1:10002",
        "COPILOT_OFFLINE": "true",
        "COPILOT_TOKEN": "ghu_" + "a" * 36,
        "GOOGLE_GEMINI_BASE_URL": "http://127.0.0.1:10003",
        "GEMINI_API_BASE_URL": "http://127.0.0.1:10003",
        "GOOGLE_VERTEX_BASE_URL": "http://127.0.0.1:10004",
        "GEMINI_API_KEY": "gemini-api-key-placeholder-for-credential-isolation",
        "GOOGLE_API_KEY": "google-api-key-placeholder-for-credential-isolation",
    }
    assert {k: env_in.get(k) for k in expected} == expected, env_in
    assert "api-proxy" in env_in.get("NO_PROXY", "").split(","), env_in
    no_secret_anywhere(res, secret)


def test_auth_header_flags_carry_the_key(awf, provider, secret):
    s = seen(provider)
    # (-o /dev/null: the fake provider echoes the headers it got, the real key included)
    script = (curl("-o", "/dev/null", "-H", "api-key: smuggled",
                   "http://api-proxy:10000/v1/hdr-openai") + "; " +
              curl("-o", "/dev/null", "http://api-proxy:10001/v1/hdr-anthropic"))
    res = awf(target_args(provider, "openai", "anthropic") +
              ["--openai-api-auth-header", "api-key", "--anthropic-api-auth-header",
               "Authorization"], ["bash", "-c", script],
              env=key_env(secret, "openai", "anthropic"))
    assert res.rc == 0, res
    (oa,) = s.requests("hdr-openai")
    assert header_values(oa, "api-key") == [f"real-{secret}-openai"], oa
    assert header_values(oa, "authorization") == [], oa
    (an,) = s.requests("hdr-anthropic")
    assert header_values(an, "authorization") == [f"real-{secret}-anthropic"], an
    assert header_values(an, "x-api-key") == [], an
    no_secret_anywhere(res, secret)


def test_openai_base_url_env_sets_the_target_and_stays_out(awf, provider, secret, nonce):
    s = seen(provider)
    url = f"https://openai.allowed.test:{FP_PORT}/serving-{nonce}"
    script = ('env -0 | { echo ENV_BEGIN; cat; echo; echo ENV_END; }; '
              + curl("-o", "/dev/null", "http://api-proxy:10000/chat/completions"))
    env = {**key_env(secret, "openai"), "OPENAI_SECRET_URL": url}
    res = awf(["--enable-api-proxy", "--api-proxy-ca-cert", provider.ca_path,
               "--openai-base-url-env", "OPENAI_SECRET_URL", "--env-all"],
              ["bash", "-c", script], env=env)
    assert res.rc == 0, res
    (got,) = s.requests(f"serving-{nonce}")
    assert got["path"] == f"/serving-{nonce}/chat/completions", got
    assert got["sni"] == "openai.allowed.test", got
    assert url not in res.stdout, res  # not in the sandbox, even with --env-all


def test_alias_rewrites_the_model_the_provider_gets(awf, provider, secret, nonce, tmp_path):
    s = seen(provider)
    config = write_config(tmp_path, {"models": {"agent": ["openai/gpt-5", "anthropic/claude-x"]},
                                     "allowedModels": ["gpt-*", "claude-*"]})
    body = '{"model":"agent","messages":[{"role":"user","content":"hi"}]}'
    script = curl("-o", "/dev/null", "-X", "POST", "-H", "Content-Type: application/json",
                  "-d", body, f"http://api-proxy:10000/v1/alias-{nonce}")
    res = awf(target_args(provider, "openai") + ["--config", config], ["bash", "-c", script],
              env=key_env(secret, "openai"))
    assert res.rc == 0, res
    (got,) = s.requests(f"alias-{nonce}")
    expected = body.replace('"agent"', '"gpt-5"')
    assert got["body_len"] == len(expected), got
    assert got["body_sha256"] == hashlib.sha256(expected.encode()).hexdigest(), got
    no_secret_anywhere(res, secret)


def test_glob_aliases_resolve_with_the_providers_model_list(awf, provider, secret, nonce,
                                                            tmp_path):
    """An alias of globs needs the provider's list (fake_provider.py's MODEL_LIST): awf fetches
    it once, with the key, records it, and picks AWF's highest version the policy allows."""
    s = seen(provider)
    config = write_config(tmp_path, {"models": {"agent": ["openai/gpt-5*", "copilot/claude-*"]},
                                     "disallowedModels": ["*4.6*"]})
    body = '{"model":"agent","n":1}'
    one = curl("-o", "/dev/null", "-X", "POST", "-d", body,
               f"http://api-proxy:10000/v1/glob-{nonce}")
    res = awf(target_args(provider, "openai") + ["--config", config],
              ["bash", "-c", f"{one}; {one}"], env=key_env(secret, "openai"))
    assert res.rc == 0, res
    lists = [r for r in s.requests() if r["path"] == "/v1/models"]
    assert len(lists) == 1, s.requests()  # once per run
    assert header_values(lists[0], "authorization") == [f"Bearer real-{secret}-openai"], lists
    got = s.requests(f"glob-{nonce}")
    expected = body.replace('"agent"', '"gpt-5.2"')
    assert len(got) == 2 and all(
        r["body_sha256"] == hashlib.sha256(expected.encode()).hexdigest() for r in got), got
    recs = [r for r in res.audit if r.get("kind") == "api" and "/v1/models" in r.get("url", "")]
    assert len(recs) == 1 and recs[0].get("status") == 200, res.audit
    no_secret_anywhere(res, secret)


def test_refused_model_gets_awf_body_and_is_logged(awf, provider, secret, nonce, tmp_path):
    s = seen(provider)
    config = write_config(tmp_path, {"disallowedModels": ["*opus*"]})
    body = '{"model":"claude-opus-4","max_tokens":8}'
    script = (curl("-w", "\\nSTATUS=%{http_code}\\n", "-X", "POST", "-d", body,
                   f"http://api-proxy:10001/v1/deny-{nonce}") + "; " +
              curl("-o", "/dev/null", "-w", "\\nSTATUS=%{http_code}\\n", "-X", "POST",
                   "-d", '{"model":"claude-sonnet-4","max_tokens":8}',
                   f"http://api-proxy:10001/v1/ok-{nonce}"))
    res = awf(target_args(provider, "anthropic") + ["--config", config], ["bash", "-c", script],
              env=key_env(secret, "anthropic"))
    assert res.rc == 0, res
    refused = json.loads(res.stdout.split("\nSTATUS=")[0])
    assert refused == {"error": {
        "type": "model_policy_violation",
        "message": "Model 'claude-opus-4' is not permitted: it is explicitly disallowed by the "
                   "model policy.",
        "model": "claude-opus-4", "reason": "disallowed"}}, res
    assert "STATUS=403" in res.stdout and "STATUS=200" in res.stdout, res
    assert not s.requests(f"deny-{nonce}"), "a refused request reached the provider"
    assert len(s.requests(f"ok-{nonce}")) == 1
    recs = [r for r in res.audit if r.get("kind") == "api" and r.get("status") == 403]
    assert len(recs) == 1 and "claude-opus-4" in recs[0].get("reason", ""), res.audit
    no_secret_anywhere(res, secret)
