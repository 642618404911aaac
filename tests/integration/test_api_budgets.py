"""The API proxy's budgets (issue 17; AWF's guards), black-box: once a budget is spent, the next
request gets AWF's status and JSON error (with X-Request-ID), never reaches the provider, and is
recorded with a reason naming the budget; the same traffic without the budget passes.

  apiProxy.maxTurns / maxRuns      429 max_runs_exceeded (2xx answers to model calls)
  apiProxy.maxAiCredits            403 ai_credits_limit_exceeded (the usage records' credits;
                                   AWF's hard cap of 10000 credits applies without it too)
  apiProxy.maxEffectiveTokens      403 effective_tokens_limit_exceeded (+ the records' fields;
                                   --enable-token-steering: AWF's warnings at 80-99 %)
  --max-cache-misses               403 max_cache_misses_exceeded (a streak; a cache read ends it)
  --max-permission-denied          403 permission_denied_limit_exceeded (the provider's 401/403)
  --max-model-multiplier[-cap]     400 model_multiplier_cap_exceeded (the request's model)

The provider is test_api_proxy's fake provider (fake_provider.py) on port 8443 of the vnet; a
query `usage=FORMAT` makes any path answer with FORMAT's usage (its USAGE table): `openai` is
gpt-5.4 with 1000 input tokens of which 400 cache reads, 200 output and 50 reasoning tokens
(0.46 AI credits, 2040 effective tokens at multiplier 1); `copilot` has 3857 input tokens and
no cache reads (a cache miss).

Traffic rule: every target is <provider>.allowed.test:8443 in the vnet."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from test_api_proxy import FP_PORT, api_records, key_env, keys, provider, secret, seen, target_args

__all__ = ["keys", "provider", "secret"]  # fixtures used by name below

PORTS = {"openai": 10000, "anthropic": 10001, "copilot": 10002}
CHAT = "/v1/chat/completions"

# Sends each request of argv[1] (JSON list of {port, method, path, model?, wait?}) on its own
# connection, `wait` seconds after the previous one; prints one "CALL <json>" line per request.
CALLS = r'''
import json, sys, time, urllib.request, urllib.error
for rq in json.loads(sys.argv[1]):
    time.sleep(rq.get("wait", 0))
    body = None
    if rq.get("method", "POST") != "GET":
        body = json.dumps({"model": rq.get("model", "gpt-5.4"), "messages": []}).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{rq['port']}{rq['path']}", data=body,
                                 method=rq.get("method", "POST"),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            status, headers, data = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, headers, data = e.code, e.headers, e.read()
    print("CALL", json.dumps({"path": rq["path"], "status": status,
                              "request_id": headers.get("X-Request-ID"),
                              "retry_after": headers.get("Retry-After"),
                              "type": headers.get("Content-Type"),
                              "body": data.decode("latin-1")}), flush=True)
'''


def rq(provider: str, path: str, method: str = "POST", **kw) -> dict:
    return {"port": PORTS[provider], "path": path, "method": method, **kw}


def usage_call(provider: str = "openai", fmt: str | None = None, **kw) -> dict:
    path = {"openai": CHAT, "copilot": "/chat/completions", "anthropic": "/v1/messages"}[provider]
    return rq(provider, f"{path}?usage={fmt or provider}", **kw)


def run(awf, vnet, keys, requests, args=(), config=None):
    script = f"{vnet.scratch_dir}/budget-calls.py"
    with open(script, "w") as f:
        f.write(CALLS)
    os.chmod(script, 0o644)
    providers = ("openai", "anthropic", "copilot")
    extra = ["--config", "-"] if config is not None else []
    res = awf([*target_args(vnet, *providers), *extra, *args],
              ["python3", script, json.dumps(requests)], env=key_env(keys, *providers),
              timeout=120,
              **({"input": json.dumps({"apiProxy": config}).encode()} if config is not None
                 else {}))
    out = [json.loads(line[5:]) for line in res.stdout.splitlines() if line.startswith("CALL ")]
    path = os.path.join(res.logs_dir, "api-proxy-logs", "token-usage.jsonl")
    records = [json.loads(line) for line in open(path)] if os.path.exists(path) else []
    return res, out, records


def error_of(call: dict) -> dict:
    return json.loads(call["body"])["error"]


def assert_refused(res, call: dict, status: int, kind: str, reason: str) -> dict:
    """AWF's answer to a refused request, and its record."""
    assert call["status"] == status, call
    assert call["type"] == "application/json", call
    assert call["request_id"], call  # AWF's X-Request-ID
    assert call["retry_after"] is None, call  # terminal: nothing to retry after
    error = error_of(call)
    assert error["type"] == kind, error
    refused = [r for r in api_records(res, status=status) if kind in r.get("reason", "")]
    assert refused, res.describe()
    assert reason in refused[0]["reason"], refused
    assert refused[0]["url"].endswith(call["path"].split("?")[0]), refused
    return error


def test_max_turns_refuses_model_calls_after_the_limit_for_every_provider(awf, provider, keys,
                                                                          nonce):
    vnet = provider
    s = seen(vnet)
    requests = [rq("openai", f"/v1/models?n={nonce}", "GET"),  # not a model call
                usage_call(), usage_call("anthropic"),
                usage_call(), rq("openai", f"/v1/models?n={nonce}", "GET"),
                usage_call("anthropic")]
    res, out, records = run(awf, vnet, keys, requests, config={"maxTurns": 2, "maxRuns": 9})
    assert res.rc == 0, res.describe()
    assert [o["status"] for o in out] == [200, 200, 200, 429, 429, 429], out
    error = assert_refused(res, out[3], 429, "max_runs_exceeded", "maxTurns/maxRuns of 2")
    assert error == {"type": "max_runs_exceeded",
                     "message": "Maximum LLM invocations exceeded (2 / 2).",
                     "invocation_count": 2, "max_runs": 2}, error
    # The provider saw the first three only; two model calls were accounted.
    assert len(s.requests()) == 3, s.all()
    assert len(records) == 2, records
    assert len(api_records(res, status=429)) == 3, res.describe()


def test_max_runs_alone_is_the_same_budget(awf, provider, keys):
    res, out, _ = run(awf, provider, keys, [usage_call(), usage_call()],
                      config={"maxRuns": 1})
    assert [o["status"] for o in out] == [200, 429], (out, res.describe())
    assert error_of(out[1])["max_runs"] == 1, out


def test_max_ai_credits_refuses_once_the_records_reach_it(awf, provider, keys):
    vnet = provider
    s = seen(vnet)
    res, out, records = run(awf, vnet, keys, [usage_call()] * 4, config={"maxAiCredits": 1})
    assert res.rc == 0, res.describe()
    assert [o["status"] for o in out] == [200, 200, 200, 403], out
    error = assert_refused(res, out[3], 403, "ai_credits_limit_exceeded",
                           "maxAiCredits of 1 reached")
    assert error["message"] == "Maximum AI credits exceeded (1.380000 / 1).", error
    assert error["total_ai_credits"] == pytest.approx(1.38) and error["max_ai_credits"] == 1
    assert error["hard_cap"] is False, error
    assert [r["ai_credits_total"] for r in records] == pytest.approx([0.46, 0.92, 1.38])
    assert len(s.requests()) == 3, s.all()


def test_the_ai_credits_hard_cap_applies_without_a_maximum(awf, provider, keys):
    """AWF's hard cap of 10000 credits ($100) cannot be configured away: at an operator price
    of $1 per token, one gpt-5.4 answer costs 84000 credits."""
    vnet = provider
    s = seen(vnet)
    price = {"openai": {"models": {"gpt-5.4": {"cost": {"input": 1, "output": 1}}}}}
    res, out, records = run(awf, vnet, keys, [usage_call()] * 2, config={"providers": price})
    assert res.rc == 0, res.describe()
    assert [o["status"] for o in out] == [200, 403], out
    error = assert_refused(res, out[1], 403, "ai_credits_limit_exceeded",
                           "AI credits hard cap of 10000 reached")
    assert error["hard_cap"] is True and error["max_ai_credits"] == 10000, error
    assert error["total_ai_credits"] == 84000 == records[0]["ai_credits_total"], (error, records)
    assert error["message"].startswith("Hard cap on AI credits reached (84000.000000 / 10000)")
    assert len(s.requests()) == 1, s.all()


def test_max_effective_tokens_refuses_and_the_records_carry_the_fields(awf, provider, keys):
    vnet = provider
    s = seen(vnet)
    config = {"maxEffectiveTokens": 5000, "modelMultipliers": {"gpt-5.4": 2}}
    res, out, records = run(awf, vnet, keys, [usage_call()] * 3, config=config)
    assert res.rc == 0, res.describe()
    assert [o["status"] for o in out] == [200, 200, 403], out
    error = assert_refused(res, out[2], 403, "effective_tokens_limit_exceeded",
                           "maxEffectiveTokens of 5000 reached")
    assert error == {"type": "effective_tokens_limit_exceeded",
                     "message": "Maximum effective tokens exceeded (8160.00 / 5000).",
                     "total_effective_tokens": 8160, "max_effective_tokens": 5000}, error
    # (1000 input + 0.1 x 400 cache reads + 4 x (200 output + 50 reasoning)) x 2
    assert [(r["effective_tokens_this_response"], r["effective_tokens_total"],
             r["model_multiplier"]) for r in records] == [(4080, 4080, 2), (4080, 8160, 2)]
    assert len(s.requests()) == 2, s.all()


def test_token_steering_adds_awfs_warning_to_the_next_request(awf, provider, keys):
    """--enable-token-steering (apiProxy.enableTokenSteering): once 80 % of maxEffectiveTokens
    is used (2 x 2040 of 5000), the next request carries AWF's warning as a system message."""
    vnet = provider
    sent = json.dumps({"model": "gpt-5.4", "messages": []}).encode()  # what the client sends
    warning = ("[AWF TOKEN WARNING] You have used 80% of your effective token budget. Begin "
               "planning to wrap up your current work.")
    steered = json.dumps({"model": "gpt-5.4", "messages": [
        {"role": "system", "content": warning}]}, separators=(",", ":")).encode()
    for steering in (True, False):
        s = seen(vnet)
        config = {"maxEffectiveTokens": 5000, "enableTokenSteering": steering}
        res, out, _ = run(awf, vnet, keys, [usage_call()] * 4, config=config)
        assert [o["status"] for o in out] == [200, 200, 200, 403], (out, res.describe())
        bodies = [r["body_sha256"] for r in s.requests()]
        want = [sent, sent, steered if steering else sent]
        assert bodies == [hashlib.sha256(b).hexdigest() for b in want], (steering, s.all())
        noted = [r for r in api_records(res, status=200) if "token steering" in r["reason"]]
        assert len(noted) == (1 if steering else 0), res.describe()
        if steering:
            assert "warning at 80% of apiProxy.maxEffectiveTokens" in noted[0]["reason"], noted
        assert "enableTokenSteering is not yet built" not in res.stderr, res.stderr


def test_token_steering_warns_of_the_run_time_too(awf, provider, keys):
    """With --agent-timeout 1, a request after 49 s (82 % of the minute) carries AWF's run-time
    warning; the first one, at once, goes unchanged. (About 50 s.)"""
    vnet = provider
    s = seen(vnet)
    sent = json.dumps({"model": "gpt-5.4", "messages": []}).encode()
    warning = ("[AWF TIME WARNING] You have used 80% of your allotted run time. Begin planning "
               "to wrap up your current work.")
    steered = json.dumps({"model": "gpt-5.4", "messages": [
        {"role": "system", "content": warning}]}, separators=(",", ":")).encode()
    res, out, _ = run(awf, vnet, keys, [usage_call(), usage_call(wait=49)],
                      ["--agent-timeout", "1"], {"enableTokenSteering": True})
    assert [o["status"] for o in out] == [200, 200], (out, res.describe())
    assert [r["body_sha256"] for r in s.requests()] == [
        hashlib.sha256(sent).hexdigest(), hashlib.sha256(steered).hexdigest()], s.all()
    noted = [r for r in api_records(res, status=200) if "time steering" in r["reason"]]
    assert len(noted) == 1 and "warning at 80% of --agent-timeout" in noted[0]["reason"], noted


@pytest.mark.parametrize("how", ["flag", "config"])
def test_max_cache_misses_counts_a_streak_that_a_cache_read_ends(awf, provider, keys, how):
    vnet = provider
    s = seen(vnet)
    miss, hit = usage_call("copilot"), usage_call("openai")
    requests = [miss, hit, miss, miss, hit]
    args, config = (["--max-cache-misses", "2"], None) if how == "flag" else \
        ((), {"maxCacheMisses": 2})
    res, out, records = run(awf, vnet, keys, requests, args, config)
    assert res.rc == 0, res.describe()
    # Without the cache read in between, the third call would be refused.
    assert [o["status"] for o in out] == [200, 200, 200, 200, 403], out
    error = assert_refused(res, out[4], 403, "max_cache_misses_exceeded",
                           "--max-cache-misses of 2 reached")
    assert error == {"type": "max_cache_misses_exceeded",
                     "message": "Maximum consecutive cache misses exceeded (2 / 2).",
                     "consecutive_cache_misses": 2, "max_cache_misses": 2}, error
    assert len(s.requests()) == 4 and len(records) == 4, (s.all(), records)
    assert "is not yet built" not in res.stderr, res.stderr


def test_max_permission_denied_counts_the_providers_401_and_403(awf, provider, keys, nonce):
    vnet = provider
    s = seen(vnet)
    requests = [rq("openai", f"/v1/{nonce}/status/403", "GET"),
                rq("anthropic", f"/v1/{nonce}/status/401"),
                usage_call()]
    res, out, _ = run(awf, vnet, keys, requests, ["--max-permission-denied", "2"])
    assert res.rc == 0, res.describe()
    assert [o["status"] for o in out] == [403, 401, 403], out
    assert "permission_denied_limit_exceeded" not in out[0]["body"], out  # the provider's
    error = assert_refused(res, out[2], 403, "permission_denied_limit_exceeded",
                           "--max-permission-denied of 2 reached")
    assert error["denied_count"] == 2 and error["max_permission_denied"] == 2, error
    assert error["message"].startswith("Permission denied limit exceeded (2 / 2). "), error
    assert len(s.requests()) == 2, s.all()


@pytest.mark.parametrize("how", ["flag", "config"])
def test_model_multiplier_cap_refuses_a_model_above_it(awf, provider, keys, how):
    vnet = provider
    s = seen(vnet)
    requests = [usage_call(model="gpt-big"), usage_call(model="gpt-big-2025"),
                usage_call(model="gpt-5.4"), usage_call(model="unlisted")]
    if how == "flag":
        args, config = ["--max-model-multiplier", "gpt-big:10,gpt-5.4:1",
                        "--max-model-multiplier-cap", "5"], None
    else:
        args, config = (), {"modelMultipliers": {"gpt-big": 10}, "maxModelMultiplierCap": 5}
    res, out, _ = run(awf, vnet, keys, requests, args, config)
    assert res.rc == 0, res.describe()
    assert [o["status"] for o in out] == [400, 400, 200, 200], out
    error = assert_refused(res, out[0], 400, "model_multiplier_cap_exceeded",
                           "--max-model-multiplier-cap 5: model 'gpt-big' has multiplier 10")
    assert error == {
        "type": "model_multiplier_cap_exceeded",
        "message": 'Model multiplier cap exceeded: model "gpt-big" has multiplier 10 which '
                   "exceeds the configured maximum of 5.",
        "model": "gpt-big", "model_multiplier": 10, "max_model_multiplier": 5}, error
    assert error_of(out[1])["model"] == "gpt-big-2025", out  # by its prefix
    assert len(s.requests()) == 2, s.all()


def test_the_same_traffic_passes_without_budgets(awf, provider, keys, nonce):
    """The control: every sequence above, without a budget, reaches the provider."""
    vnet = provider
    s = seen(vnet)
    requests = [usage_call() for _ in range(4)] + [usage_call("copilot") for _ in range(3)] + \
        [rq("openai", f"/v1/{nonce}/status/403", "GET") for _ in range(3)] + \
        [usage_call(model="gpt-big"), usage_call("anthropic")]
    res, out, records = run(awf, vnet, keys, requests)
    assert res.rc == 0, res.describe()
    assert [o["status"] for o in out] == [200] * 7 + [403] * 3 + [200, 200], out
    assert len(s.requests()) == len(requests), s.all()
    assert len(records) == 9, records
    assert all("effective_tokens_total" not in r for r in records), records
    assert not [r for r in api_records(res) if "budget" in r.get("reason", "")], res.describe()


@pytest.mark.parametrize("args,config,needle", [
    (["--max-cache-misses", "2"], None, "--max-cache-misses"),
    ([], {"maxTurns": 3}, "apiProxy.maxTurns"),
], ids=["flag", "config"])
def test_a_budget_without_the_api_proxy_is_refused_before_the_command_runs(awf, provider, nonce,
                                                                           args, config, needle):
    extra = ["--config", "-"] if config is not None else []
    res = awf([*extra, *args], ["echo", f"ran-{nonce}"],
              **({"input": json.dumps({"apiProxy": config}).encode()} if config else {}))
    assert res.rc != 0 and f"ran-{nonce}" not in res.stdout, res.describe()
    assert needle in res.stderr and "--enable-api-proxy" in res.stderr, res.describe()


@pytest.mark.parametrize("args,config,needle", [
    (["--max-permission-denied", "0"], None, "positive whole number"),
    (["--max-model-multiplier-cap", "0"], None, "positive number"),
    ([], {"maxAiCredits": 0}, "config.apiProxy.maxAiCredits"),
    ([], {"maxEffectiveTokens": 1.5}, "config.apiProxy.maxEffectiveTokens"),
    ([], {"modelMultipliers": {"m": "x"}}, "config.apiProxy.modelMultipliers.m"),
], ids=["denied-0", "cap-0", "credits-0", "tokens-fraction", "multiplier-string"])
def test_a_bad_budget_value_is_a_usage_error(awf, provider, keys, nonce, args, config, needle):
    vnet = provider
    extra = ["--config", "-"] if config is not None else []
    res = awf([*target_args(vnet, "openai"), *extra, *args], ["echo", f"ran-{nonce}"],
              env=key_env(keys, "openai"),
              **({"input": json.dumps({"apiProxy": config}).encode()} if config else {}))
    assert res.rc == 1 and f"ran-{nonce}" not in res.stdout, res.describe()
    assert needle in res.stderr and "Fatal error" in res.stderr, res.describe()
