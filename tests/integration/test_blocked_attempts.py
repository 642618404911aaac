"""Blocked attempts that are not HTTP are on the record too: a TCP connection to a port the
gateway does not serve, a UDP datagram to anything but DNS, an echo request. Each leaves a
trace on the sandbox's loopback that awf reads and logs as kind "blocked"."""

from __future__ import annotations

import shutil

import pytest

import vnet as V


def blocked(r, transport: str, url: str) -> list[dict]:
    return [x for x in r.audit if x.get("kind") == "blocked" and x.get("transport") == transport
            and x.get("url") == url and x.get("action") == "deny"]


def test_tcp_to_unserved_ports_is_logged(awf, vnet):
    m = vnet.mark()
    script = ("curl -sS --noproxy '*' --max-time 5 http://203.0.113.10:22/; "
              "curl -sS --noproxy '*' --max-time 5 'http://[2001:db8:1::10]:8080/'; "
              "curl -sS --noproxy '*' --max-time 5 http://allowed.test:5432/; true")
    r = awf(["-d", "allowed.test"], ["bash", "-c", script])
    assert r.rc == 0, r.describe()
    assert blocked(r, "tcp", "203.0.113.10:22"), r.describe()
    assert blocked(r, "tcp", "[2001:db8:1::10]:8080"), r.describe()
    assert blocked(r, "tcp", f"{V.ALLOWED4}:5432"), r.describe()
    record = blocked(r, "tcp", "203.0.113.10:22")[0]
    assert "port 22" in record["reason"] and record["name"] == "203.0.113.10", record
    assert not [x for x in vnet.origin_requests(m) if x.get("kind") == "request"]


def test_udp_other_than_dns_is_logged_and_reaches_nothing(awf, vnet, nonce):
    m = vnet.mark()
    script = (f"echo quic-{nonce} > /dev/udp/{V.EVIL4}/443; "
              f"echo sink-{nonce} > /dev/udp/{V.EVIL4}/9999; sleep 0.2")
    r = awf(["-d", "allowed.test"], ["bash", "-c", script])
    assert blocked(r, "udp", f"{V.EVIL4}:443"), r.describe()
    assert blocked(r, "udp", f"{V.EVIL4}:9999"), r.describe()
    assert not vnet.udp_datagrams(m), vnet.udp_datagrams(m)


def test_dns_and_gateway_traffic_is_not_reported_as_blocked(awf):
    r = awf(["-d", "allowed.test"],
            ["bash", "-c", "dig +short allowed.test >/dev/null; "
                           "curl -s -o /dev/null http://allowed.test/; "
                           "curl -s -o /dev/null --noproxy '*' http://allowed.test/bytes/200000"])
    assert r.rc == 0, r.describe()
    assert not [x for x in r.audit if x.get("kind") == "blocked"], r.describe()


@pytest.mark.skipif(shutil.which("ping") is None, reason="ping (iputils-ping) is not installed")
def test_echo_request_cannot_even_be_sent(awf):
    """ICMP needs a raw socket (refused by seccomp, and ping's file capability is void under
    no_new_privs) or an ICMP datagram socket (disabled by the namespace's ping_group_range):
    the echo request never exists, so nothing needs to be logged. Were one sent, the packet
    reader would record it (unit-tested)."""
    r = awf(["-d", "allowed.test"], ["bash", "-c", f"ping -c 1 -W 1 {V.OTHER4}; echo rc=$?"])
    assert "rc=0" not in r.stdout, r.describe()
    assert "1 received" not in r.stdout, r.describe()
