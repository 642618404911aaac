"""The API proxy's usage accounting (issue 17): every model response that reports usage gives
one line in <proxyLogsDir>/api-proxy-logs/token-usage.jsonl in AWF's token-usage format, for
whole JSON and streamed (SSE) answers of the OpenAI (chat completions and Responses API),
Anthropic, Copilot and Gemini wire formats; a streamed answer stays streamed.

The provider is fake_provider.py's /usage/FORMAT route (its USAGE table holds the numbers each
format reports). It gzips its answer when the request accepts gzip, and the clients here all
send `Accept-Encoding: gzip`: awf must ask for identity to read the usage.

Traffic rule: every target is <provider>.allowed.test:8443 in the vnet.
"""

from __future__ import annotations

import json
import os
import re
import uuid

import pytest

FP_PORT = 8443
PORTS = {"openai": 10000, "anthropic": 10001, "copilot": 10002, "gemini": 10003}
KEY_VARS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY",
            "copilot": "COPILOT_GITHUB_TOKEN", "gemini": "GEMINI_API_KEY"}
for _name in ("OPENAI_API_KEY", "CODEX_API_KEY", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN",
              "COPILOT_GITHUB_TOKEN", "COPILOT_PROVIDER_API_KEY", "GEMINI_API_KEY",
              "GOOGLE_API_KEY"):
    os.environ.pop(_name, None)

# format -> (provider, path, expected counts, model, credits at AWF's built-in prices)
FORMATS = {
    "openai": ("openai", "/v1/chat/completions/usage/openai",
               dict(input_tokens=1000, output_tokens=200, cache_read_tokens=400,
                    cache_write_tokens=0, reasoning_tokens=50), "gpt-5.4", 0.46),
    "responses": ("openai", "/v1/responses/usage/responses",
                  dict(input_tokens=300, output_tokens=30, cache_read_tokens=100,
                       cache_write_tokens=0, reasoning_tokens=10), "gpt-5.5", 0.195),
    "anthropic": ("anthropic", "/v1/messages/usage/anthropic",
                  dict(input_tokens=25, output_tokens=15, cache_read_tokens=1200,
                       cache_write_tokens=300, reasoning_tokens=0), "claude-sonnet-4-5", 0.1785),
    "copilot": ("copilot", "/chat/completions/usage/copilot",
                dict(input_tokens=3857, output_tokens=362, cache_read_tokens=0,
                     cache_write_tokens=12539, reasoning_tokens=0), "claude-sonnet-4.6",
                6.402225),
    "gemini": ("gemini", "/v1beta/models/gemini-2.5-pro/usage/gemini",
               dict(input_tokens=9, output_tokens=21, cache_read_tokens=4,
                    cache_write_tokens=0, reasoning_tokens=14), "gemini-2.5-pro", 0.021675),
    "gemini-array": ("gemini", "/v1beta/models/gemini-2.5-pro/usage/gemini-array",
                     dict(input_tokens=9, output_tokens=21, cache_read_tokens=4,
                          cache_write_tokens=0, reasoning_tokens=14), "gemini-2.5-pro",
                     0.021675),
}
REQUIRED = ["_schema", "timestamp", "event", "request_id", "provider", "model", "path", "status",
            "streaming", "input_tokens", "output_tokens", "cache_read_tokens",
            "cache_write_tokens", "duration_ms"]

# Sends each request (a new connection each, unless "keep": the previous one) and reads the
# answer as it comes: for SSE, the wall time of the first "data:" line; with "close_on", it
# hangs up after the first "data:" line holding that text. Prints one JSON line per request.
CLIENT = r'''
import http.client, json, sys, time

c = None
for rq in json.loads(sys.argv[1]):
    if c is None or not rq.get("keep"):
        c = http.client.HTTPConnection("127.0.0.1", rq["port"], timeout=30)
    c.request("POST", rq["path"], body=json.dumps({"model": "from-request", "stream": True}),
              headers={"Content-Type": "application/json", "Accept-Encoding": "gzip",
                       **rq.get("headers", {})})
    r = c.getresponse()
    first = None
    body = b""
    hung_up = False
    while not hung_up:
        line = r.readline()
        if not line:
            body += r.read()  # marks the answer done, so the connection can take the next one
            break
        if first is None and line.startswith(b"data:"):
            first = time.time()
        body += line
        if rq.get("close_on") and line.startswith(b"data:") and rq["close_on"].encode() in line:
            c.close()
            hung_up = True
    print("RESULT=" + json.dumps({"path": rq["path"], "status": r.status,
                                  "encoding": r.getheader("Content-Encoding"),
                                  "first_event": first, "body": body.decode("latin-1")[:4000]}))
'''


@pytest.fixture(scope="module")
def provider(vnet):
    proc = vnet.start_fake_provider(FP_PORT)
    try:
        yield vnet
    finally:
        vnet.stop_host_service(proc)


@pytest.fixture(scope="module")
def client(provider):
    path = os.path.join(provider.scratch_dir, "usage-client.py")
    with open(path, "w") as f:
        f.write(CLIENT)
    os.chmod(path, 0o644)
    return path


@pytest.fixture
def secret():
    return "s" + uuid.uuid4().hex[:15]


def run(awf, vnet, client, secret, requests, extra_args=()):
    args = ["--enable-api-proxy", "--api-proxy-ca-file", vnet.ca_path, *extra_args]
    env = {}
    for p in PORTS:
        args += [f"--{p}-api-target", f"{p}.allowed.test:{FP_PORT}"]
        env[KEY_VARS[p]] = f"real-{secret}-{p}"
    res = awf(args, ["python3", client, json.dumps(requests)], env=env)
    results = [json.loads(m) for m in re.findall(r"^RESULT=(.*)$", res.stdout, re.M)]
    path = os.path.join(res.logs_dir, "api-proxy-logs", "token-usage.jsonl")
    text = open(path).read() if os.path.exists(path) else None
    return res, results, text


def records_of(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_one_record_per_response_for_every_wire_format(awf, provider, client, secret, stream):
    vnet = provider
    query = "?stream=1&n=3&gap=0.05" if stream else ""
    requests = []
    for fmt, (name, path, *_rest) in FORMATS.items():
        if stream and fmt == "gemini-array":
            continue  # the array form is a JSON body
        requests.append({"port": PORTS[name], "path": path + query})
    request_id = "req-" + uuid.uuid4().hex[:12]
    requests[0]["headers"] = {"X-Request-Id": request_id}
    mark = vnet.fake_provider_mark(FP_PORT)
    res, results, text = run(awf, vnet, client, secret, requests)
    assert res.rc == 0, res
    assert [r["status"] for r in results] == [200] * len(requests), results
    # awf asked for identity, so the client got the plain body (the provider gzips otherwise).
    assert all(r["encoding"] is None for r in results), results
    seen = [r for r in vnet.fake_provider_requests(FP_PORT, mark) if r.get("kind") == "request"]
    assert [r["headers"].get("accept-encoding") for r in seen] == ["identity"] * len(requests)
    assert text is not None, res
    assert f"real-{secret}" not in text  # no key in the usage log
    records = records_of(text)
    assert len(records) == len(requests), text
    total = 0.0
    for rq, rec in zip(requests, records):
        fmt = rq["path"].split("/usage/")[1].split("?")[0]
        name, path, counts, model, credits = FORMATS[fmt]
        for key in REQUIRED:
            assert key in rec, (key, rec)
        assert re.fullmatch(r"token-usage/v\d+\.\d+\.\d+", rec["_schema"]), rec
        assert rec["event"] == "token_usage" and rec["status"] == 200, rec
        assert rec["provider"] == name and rec["model"] == model, rec
        assert rec["path"] == path, rec  # the client's path, without its query
        assert rec["streaming"] is stream, rec
        assert {k: rec[k] for k in counts} == counts, (fmt, rec)
        assert rec["ai_credits_this_response"] == pytest.approx(credits, abs=1e-6), (fmt, rec)
        assert rec["ai_credits_pricing_source"] == "curated", rec
        total += credits
        assert rec["ai_credits_total"] == pytest.approx(total, abs=1e-5), rec
        assert rec["duration_ms"] >= 0 and rec["response_bytes"] > 0, rec
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", rec["timestamp"]), rec
    assert records[0]["request_id"] == request_id, records[0]
    ids = [r["request_id"] for r in records[1:]]
    assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}",
                            i) for i in ids) and len(set(ids)) == len(ids), ids


def test_streamed_response_is_not_buffered(awf, provider, client, secret):
    vnet = provider
    path = "/v1/messages/usage/anthropic?stream=1&n=4&gap=0.6"
    mark = vnet.fake_provider_mark(FP_PORT)
    res, results, text = run(awf, vnet, client, secret, [{"port": 10001, "path": path}])
    assert res.rc == 0, res
    events = [r for r in vnet.fake_provider_requests(FP_PORT, mark)
              if r.get("kind") == "usage-event"]
    last_sent = [e["ts"] for e in events if e["last"]]
    assert len(last_sent) == 1, events
    # The provider spends 5 x 0.6 s between its first and its last event: the client has the
    # first one long before the provider sends the last.
    first = results[0]["first_event"]
    assert first is not None and first < last_sent[0] - 2.0, (first, last_sent, results)
    records = records_of(text)
    assert len(records) == 1 and records[0]["output_tokens"] == 15, text
    assert records[0]["duration_ms"] >= 2400, records  # the whole stream, not its first byte


def test_responses_without_usage_or_not_2xx_give_no_record(awf, provider, client, secret):
    vnet = provider
    requests = [{"port": 10000, "path": "/v1/chat/completions"},        # echo: no usage
                {"port": 10000, "path": "/v1/x/status/500"},            # an error answer
                {"port": 10003, "path": "/v1beta/models/g/usage/gemini"}]
    res, results, text = run(awf, vnet, client, secret, requests)
    assert res.rc == 0, res
    assert [r["status"] for r in results] == [200, 500, 200], results
    records = records_of(text)
    assert [r["provider"] for r in records] == ["gemini"], text


def test_file_exists_empty_when_no_model_was_called(awf, provider, client, secret):
    res, results, text = run(awf, provider, client, secret, [])
    assert res.rc == 0, res
    assert text == "", res  # gh-aw finds the file (AWF creates it at start)


def test_configured_prices_apply(awf, provider, client, secret, tmp_path):
    vnet = provider
    config = tmp_path / "awf.json"
    config.write_text(json.dumps({"apiProxy": {
        "defaultAiCreditsPricing": {"input": 100, "output": 100},
        "providers": {"google": {"models": {"gemini-2.5": {"cost": {"input": 0.0001,
                                                                   "output": 0.0002}}}}}}}))
    os.chmod(config, 0o644)
    requests = [{"port": 10003, "path": "/v1beta/models/g/usage/gemini"}]
    res, results, text = run(awf, vnet, client, secret, requests, ["--config", str(config)])
    assert res.rc == 0, res
    assert "defaultAiCreditsPricing" not in res.stderr, res  # no "not yet built" notice
    rec = records_of(text)[0]
    # gemini-2.5-pro by its longest configured prefix: $100/$200 per 1M tokens;
    # fresh input 9 - 4 cached, cached at a tenth of input.
    want = (5 * 100 + 4 * 10 + 21 * 200) / 10_000
    assert rec["ai_credits_this_response"] == pytest.approx(want), rec
    assert rec["ai_credits_pricing_source"] == "operator", rec


def test_bad_price_is_refused_naming_the_key(awf, provider, client, secret, tmp_path):
    config = tmp_path / "awf.json"
    config.write_text(json.dumps({"apiProxy": {"providers": {"openai": {"models": {
        "gpt-x": {"cost": {"input": "cheap", "output": 1}}}}}}}))
    os.chmod(config, 0o644)
    res, results, text = run(awf, provider, client, secret, [], ["--config", str(config)])
    assert res.rc != 0, res
    assert "config.apiProxy.providers.openai.models.gpt-x.cost.input" in res.stderr, res
    assert results == [], res


def test_kept_alive_connection_accounts_each_response(awf, provider, client, secret):
    vnet = provider
    requests = [{"port": 10001, "path": "/v1/messages/usage/anthropic?stream=1&gap=0"},
                {"port": 10001, "path": "/v1/messages", "keep": True},   # no usage
                {"port": 10001, "path": "/v1/messages/usage/anthropic", "keep": True}]
    mark = vnet.fake_provider_mark(FP_PORT)
    res, results, text = run(awf, vnet, client, secret, requests)
    assert res.rc == 0, res.stderr[-3000:]
    assert [r["status"] for r in results] == [200, 200, 200], results
    conns = {r["conn"] for r in vnet.fake_provider_requests(FP_PORT, mark)
             if r.get("kind") == "request"}
    assert len(conns) == 1, conns  # one provider connection, kept alive
    records = records_of(text)
    assert [(r["streaming"], r["output_tokens"]) for r in records] == [(True, 15), (False, 15)]
    assert len({r["request_id"] for r in records}) == 2, records


def test_usage_is_kept_when_the_client_hangs_up_after_the_last_event(awf, provider, client,
                                                                     secret):
    """Codex reads until response.completed and closes at once, while the provider's stream
    goes on (AWF keeps a streamed answer's usage when the connection ends early)."""
    vnet = provider
    requests = [{"port": 10000, "close_on": "response.completed",
                 "path": "/v1/responses/usage/responses?stream=1&gap=0.2&tail=10"}]
    res, results, text = run(awf, vnet, client, secret, requests)
    assert res.rc == 0, res.stderr[-3000:]
    assert results and results[0]["status"] == 200, results
    records = records_of(text)
    assert len(records) == 1 and records[0]["streaming"] is True, text
    assert (records[0]["input_tokens"], records[0]["output_tokens"]) == (300, 30), records
    # The relay did end early (the record is not the one of a whole answer).
    api = [r for r in res.audit
           if r.get("kind") == "api" and "/usage/responses" in r.get("url", "")]
    assert len(api) == 1 and "relay ended early" in api[0].get("reason", ""), api
