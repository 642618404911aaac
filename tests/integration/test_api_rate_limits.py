"""The API proxy's rate limits (--rate-limit-rpm/-rph/-bytes-pm, --no-rate-limit,
rateLimiting.* in --config), black-box: a request over a limit is answered 429 with AWF's JSON
error and Retry-After / X-RateLimit-* headers, never reaches the provider, and is recorded;
the limits are off unless one is given, and --no-rate-limit wins.

The provider is test_api_proxy's fake provider (fake_provider.py) on port 8443 of the vnet."""

from __future__ import annotations

import json
import re

from test_api_proxy import (FP_PORT, api_records, clients, key_env, keys, provider, secret,
                            seen, target_args)

__all__ = ["clients", "keys", "provider", "secret"]  # fixtures used by name below

# Sends N POSTs of BODY bytes to the OpenAI port, each on its own connection; prints one
# "CALL <status> <retry-after> <x-ratelimit-limit> <body>" line per request.
CALLS = r'''
import json, sys, urllib.request, urllib.error
n, size, tag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
for i in range(n):
    req = urllib.request.Request(f"http://127.0.0.1:10000/v1/rl-{tag}-{i}", data=b"x" * size,
                                 method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            status, headers, body = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, headers, body = e.code, e.headers, e.read()
    print("CALL", json.dumps({"status": status, "retry_after": headers.get("Retry-After"),
                              "limit": headers.get("X-RateLimit-Limit"),
                              "reset": headers.get("X-RateLimit-Reset"),
                              "body": body.decode("latin-1")}), flush=True)
'''


def calls(awf, vnet, keys, args, n, size, tag, config=None):
    script = f"{vnet.scratch_dir}/rate-limit-calls.py"
    with open(script, "w") as f:
        f.write(CALLS)
    res = awf([*target_args(vnet, "openai"), *args], ["python3", script, str(n), str(size), tag],
              env=key_env(keys, "openai"), timeout=120, **({"input": config} if config else {}))
    out = [json.loads(line[5:]) for line in res.stdout.splitlines() if line.startswith("CALL ")]
    return res, out


def test_requests_over_the_per_minute_limit_get_awfs_429_and_never_reach_the_provider(
        awf, provider, keys, nonce):
    vnet = provider
    s = seen(vnet)
    res, out = calls(awf, vnet, keys, ["--rate-limit-rpm", "2"], 4, 10, nonce)
    assert res.rc == 0, res.describe()
    assert [o["status"] for o in out] == [200, 200, 429, 429], out
    refused = out[2]
    error = json.loads(refused["body"])["error"]
    assert error["type"] == "rate_limit_error" and error["provider"] == "openai", error
    assert error["limit"] == 2 and error["window"] == "per_minute", error
    assert 1 <= error["retry_after"] <= 60, error
    assert refused["retry_after"] == str(error["retry_after"]) and refused["limit"] == "2", refused
    assert re.fullmatch(r"\d{10}", refused["reset"] or ""), refused
    # The provider saw the two admitted requests only.
    assert sorted(r["path"] for r in s.requests(f"rl-{nonce}")) == [
        f"/v1/rl-{nonce}-0", f"/v1/rl-{nonce}-1"], s.all()
    limited = api_records(res, "openai", status=429)
    assert len(limited) == 2, res.describe()
    assert "rate limit of 2 rpm for openai" in limited[0]["reason"], limited
    assert limited[0]["url"] == f"https://openai.allowed.test:{FP_PORT}/v1/rl-{nonce}-2", limited


def test_request_bytes_per_minute_refuse_the_request_that_would_overflow(awf, provider, keys,
                                                                        nonce):
    vnet = provider
    s = seen(vnet)
    res, out = calls(awf, vnet, keys, ["--rate-limit-bytes-pm", "100"], 3, 40, nonce)
    assert [o["status"] for o in out] == [200, 200, 429], out
    error = json.loads(out[2]["body"])["error"]
    assert error["window"] == "per_minute_bytes" and error["limit"] == 100, error
    assert len(s.requests(f"rl-{nonce}")) == 2, s.all()


def test_limits_are_off_unless_given_and_no_rate_limit_wins(awf, provider, keys, nonce):
    vnet = provider
    res, out = calls(awf, vnet, keys, [], 5, 10, nonce + "a")
    assert [o["status"] for o in out] == [200] * 5, out
    res, out = calls(awf, vnet, keys, ["--rate-limit-rpm", "1", "--no-rate-limit"], 3, 10,
                     nonce + "b")
    assert [o["status"] for o in out] == [200] * 3, out
    assert not api_records(res, "openai", status=429), res.describe()


def test_config_file_rate_limiting_section_applies(awf, provider, keys, nonce):
    vnet = provider
    config = json.dumps({"rateLimiting": {"requestsPerMinute": 1}}).encode()
    res, out = calls(awf, vnet, keys, ["--config", "-"], 2, 10, nonce, config=config)
    assert [o["status"] for o in out] == [200, 429], (out, res.describe())


def test_rate_limit_without_the_api_proxy_is_refused_before_the_command_runs(awf, provider,
                                                                             nonce):
    res = awf(["--rate-limit-rpm", "5"], ["echo", f"ran-{nonce}"])
    assert res.rc != 0 and f"ran-{nonce}" not in res.stdout, res.describe()
    assert "--enable-api-proxy" in res.stderr and "--rate-limit" in res.stderr, res.describe()
