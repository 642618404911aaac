"""awf's own name resolution: a burst of connections to a name awf has not resolved yet costs
one upstream query per record type, not one per connection."""

from __future__ import annotations

import os
import signal
import time

from conftest import dns_seen


def test_concurrent_requests_share_one_resolution(awf, vnet, nonce):
    m = vnet.mark()
    name = f"burst{nonce}.allowed.test"
    script = (f"for i in $(seq 40); do curl -s -x \"$HTTPS_PROXY\" -o /dev/null -w '%{{http_code}}\\n' "
              f"http://{name}/ & done; wait")
    r = awf(["-d", "allowed.test"], ["bash", "-c", script])
    assert r.stdout.split().count("200") == 40, r.describe()
    queries = dns_seen(vnet, m, name)
    types = sorted(q.get("type") or q.get("qtype") for q in queries)
    # One A and one AAAA query (c-ares asks both); a resolver without coalescing sends up to
    # 40 of each.
    assert len(queries) <= 2, types


def _context_switches(pid: int) -> int:
    """Voluntary and involuntary context switches of every thread of `pid` so far."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass  # a thread that ended meanwhile
    return total


def test_awf_sleeps_when_idle_after_resolving(awf, vnet, nonce):
    # awf's resolver once re-armed its timer for 1 ms whenever no query was pending: after
    # the first resolution, awf woke up about a thousand times a second for the rest of the
    # run, on an idle machine as under load.
    name = f"idle{nonce}.allowed.test"
    p = awf.popen(["-d", "allowed.test"],
                  ["sh", "-c", f"curl -s -o /dev/null -w '%{{http_code}}\\n' http://{name}/; sleep 6"])
    try:
        status = p.stdout.readline().decode().strip()
        assert status == "200", status
        time.sleep(0.5)  # the answer's record is written, the connection closed
        before = _context_switches(p.pid)
        time.sleep(2)
        woke = _context_switches(p.pid) - before
    finally:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
    # Timers that stay: the log flush and one connection sweep per worker, 4 a second each.
    assert woke < 100, f"awf woke {woke} times in 2 s while nothing happened"
