"""Streamed responses are passed on as they arrive, not when a buffer fills up: an agent
reading server-sent events through the proxy sees each event when the origin sends it."""

from __future__ import annotations


def test_streamed_plain_http_response_arrives_incrementally(awf):
    # 10 events 0.4 s apart; curl gives up after 1.5 s. A proxy that buffered the body would
    # have delivered nothing by then.
    r = awf(["-d", "allowed.test"],
            ["bash", "-c", "curl -sS -N --max-time 1.5 http://allowed.test/stream/10; echo rc=$?"])
    assert "event 0" in r.stdout and "event 1" in r.stdout, r.describe()
    assert "event 9" not in r.stdout, r.describe()
    assert "rc=28" in r.stdout, r.describe()
    lines = r.access_for("allowed.test")
    assert lines and lines[0]["method"] == "GET" and "/stream/10" in lines[0]["url"], r.describe()


def test_streamed_response_transparent(awf):
    r = awf(["-d", "allowed.test"],
            ["bash", "-c",
             "curl -sS -N --noproxy '*' --max-time 1.5 http://allowed.test/stream/10; echo rc=$?"])
    assert "event 0" in r.stdout and "event 1" in r.stdout, r.describe()
    assert "rc=28" in r.stdout, r.describe()
