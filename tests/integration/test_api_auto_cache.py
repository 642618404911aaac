"""--anthropic-auto-cache (issue 17): the Anthropic /v1/messages body the provider gets carries
AWF's prompt-cache breakpoints (tools, system, messages[0], rolling tail; 1h TTLs, the tail's
5m or --anthropic-cache-tail-ttl), with the extended-TTL beta flag merged into the agent's
anthropic-beta and a Content-Length that fits the new body. Other requests, and every request
without the flag, reach the provider byte for byte as the agent sent them.

The provider is fake_provider.py (see test_api_proxy.py), which logs bodies up to 64 KiB.
"""

from __future__ import annotations

import hashlib
import json

from test_api_proxy import seen, header_values
from test_api_surface import curl, key_env, no_secret_anywhere, provider, secret, target_args  # noqa: F401,E501

BETA = "extended-cache-ttl-2025-04-11"
ONE_HOUR = {"type": "ephemeral", "ttl": "1h"}

# Pretty-printed, with a non-ASCII character: a rewrite would show in the bytes.
BODY = json.dumps({
    "model": "claude-sonnet-4-5", "max_tokens": 64,
    "tools": [{"name": "read", "input_schema": {"type": "object"}},
              {"name": "write", "input_schema": {"type": "object"}}],
    "system": "You are a careful agent. Caf\u00e9.",
    "messages": [
        {"role": "user", "content": "first turn"},
        {"role": "assistant", "content": [{"type": "text", "text": "ok"}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1",
                                      "content": "result"}]},
    ]}, indent=2, ensure_ascii=False)


def post(port: int, path: str, body: str, *headers: str) -> str:
    args = ["-o", "/dev/null", "-X", "POST", "-H", "Content-Type: application/json"]
    for h in headers:
        args += ["-H", h]
    return curl(*args, "--data-binary", body, f"http://api-proxy:{port}{path}")


def run(awf, vnet, secret, nonce, extra: list[str]):
    script = "; ".join([
        post(10001, f"/v1/messages?n={nonce}", BODY, "anthropic-beta: files-api-2025-04-14"),
        post(10001, f"/v1/messages/count_tokens?n={nonce}", BODY),
    ])
    res = awf(target_args(vnet, "anthropic") + extra, ["bash", "-c", script],
              env=key_env(secret, "anthropic"))
    assert res.rc == 0, res
    return res


def sent_bytes(rec: dict) -> bytes:
    return rec["body"].encode("latin-1")


def test_auto_cache_rewrites_the_messages_body_and_beta(awf, provider, secret, nonce):
    s = seen(provider)
    res = run(awf, provider, secret, nonce, ["--anthropic-auto-cache"])
    assert "not yet built" not in res.stderr, res
    (msg,) = [r for r in s.requests(nonce) if r["path"].startswith("/v1/messages?")]
    got = json.loads(sent_bytes(msg))
    assert int(msg["headers"]["content-length"]) == msg["body_len"] == len(sent_bytes(msg)), msg
    assert got["tools"][1]["cache_control"] == ONE_HOUR, got
    assert "cache_control" not in got["tools"][0], got
    assert got["system"] == [{"type": "text", "text": "You are a careful agent. Caf\u00e9.",
                              "cache_control": ONE_HOUR}], got
    assert got["messages"][0]["content"] == [{"type": "text", "text": "first turn",
                                              "cache_control": ONE_HOUR}], got
    assert "cache_control" not in got["messages"][1]["content"][0], got
    assert got["messages"][2]["content"][0]["cache_control"] == {"type": "ephemeral",
                                                                 "ttl": "5m"}, got
    # Everything else as the agent sent it, in its order.
    original = json.loads(BODY)
    assert list(got) == list(original) and got["model"] == original["model"], got
    assert header_values(msg, "anthropic-beta") == [f"files-api-2025-04-14,{BETA}"], msg
    # count_tokens is not a /v1/messages call: untouched.
    (count,) = s.requests(f"/v1/messages/count_tokens?n={nonce}")
    assert sent_bytes(count) == BODY.encode(), count
    assert header_values(count, "anthropic-beta") == [], count
    no_secret_anywhere(res, secret)


def test_auto_cache_from_the_config_file_with_a_one_hour_tail(awf, provider, secret, nonce,
                                                              tmp_path):
    s = seen(provider)
    config = tmp_path / "awf-config.json"
    config.write_text(json.dumps({"apiProxy": {"anthropicAutoCache": True,
                                               "anthropicCacheTailTtl": "1h"}}))
    res = run(awf, provider, secret, nonce, ["--config", str(config)])
    assert "anthropicAutoCache" not in res.stderr, res  # no notice: the key is acted on
    (msg,) = [r for r in s.requests(nonce) if r["path"].startswith("/v1/messages?")]
    got = json.loads(sent_bytes(msg))
    assert got["messages"][2]["content"][0]["cache_control"] == ONE_HOUR, got


def test_without_the_flag_the_body_is_unchanged_byte_for_byte(awf, provider, secret, nonce):
    s = seen(provider)
    run(awf, provider, secret, nonce, [])
    (msg,) = [r for r in s.requests(nonce) if r["path"].startswith("/v1/messages?")]
    assert msg["body_sha256"] == hashlib.sha256(BODY.encode()).hexdigest(), msg
    assert sent_bytes(msg) == BODY.encode(), msg
    assert header_values(msg, "anthropic-beta") == ["files-api-2025-04-14"], msg


def test_auto_cache_leaves_other_providers_and_bodies_alone(awf, provider, secret, nonce):
    """Only Anthropic's route rewrites: the same body to OpenAI, and a body that is not JSON
    to Anthropic, arrive as sent."""
    s = seen(provider)
    script = "; ".join([
        post(10000, f"/v1/messages?n={nonce}", BODY),
        post(10001, f"/v1/messages?raw={nonce}", "not json {"),
    ])
    env = {**key_env(secret, "anthropic"), **key_env(secret, "openai")}
    res = awf(target_args(provider, "anthropic", "openai") + ["--anthropic-auto-cache"],
              ["bash", "-c", script], env=env)
    assert res.rc == 0, res
    (oa,) = s.requests(f"?n={nonce}")
    assert sent_bytes(oa) == BODY.encode() and not header_values(oa, "anthropic-beta"), oa
    (raw,) = s.requests(f"?raw={nonce}")
    assert sent_bytes(raw) == b"not json {", raw
    assert header_values(raw, "anthropic-beta") == [BETA], raw
