"""awf's own name resolution: a burst of connections to a name awf has not resolved yet costs
one upstream query per record type, not one per connection."""

from __future__ import annotations

from conftest import dns_seen


def test_concurrent_requests_share_one_resolution(awf, vnet, nonce):
    m = vnet.mark()
    name = f"burst{nonce}.allowed.test"
    script = (f"for i in $(seq 40); do curl -s -o /dev/null -w '%{{http_code}}\\n' "
              f"http://{name}/ & done; wait")
    r = awf(["-d", "allowed.test"], ["bash", "-c", script])
    assert r.stdout.split().count("200") == 40, r.describe()
    queries = dns_seen(vnet, m, name)
    types = sorted(q.get("type") or q.get("qtype") for q in queries)
    # One A and one AAAA query (c-ares asks both); a resolver without coalescing sends up to
    # 40 of each.
    assert len(queries) <= 2, types
