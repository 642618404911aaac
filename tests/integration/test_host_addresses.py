"""The host's own addresses, black-box: an allowed name whose DNS answer is an address of awf's
own network namespace (a public one, which the internal-address classes do not cover) must not
reach a daemon bound to 0.0.0.0 there, through the explicit proxy or transparently; the record
says why. --enable-host-access opens the host's ports 80 and 443 on purpose."""

from __future__ import annotations

import json

import pytest

import vnet as V

PORT = 80


@pytest.fixture
def host_daemon(vnet):
    proc = vnet.start_host_service(PORT, addr="0.0.0.0")
    yield
    vnet.stop_host_service(proc)


def reached(vnet, mark: int) -> list[dict]:
    return vnet.host_requests(PORT, mark)


def test_control_the_daemon_answers_on_the_public_address(vnet, host_daemon):
    mark = vnet.host_mark(PORT)
    out = vnet.host_run(["curl", "-sS", "--max-time", "5", f"http://{V.HOST4}/control"],
                        check=True).stdout
    assert "path=/control" in out, out
    assert reached(vnet, mark), "the daemon saw nothing"
    answer = vnet.host_run(["dig", "+short", f"@{V.DNS4}", "self.test", "A"]).stdout.split()
    assert answer == [V.HOST4], answer


def test_explicit_proxy_refuses_the_hosts_own_address(awf, vnet, host_daemon):
    mark = vnet.host_mark(PORT)
    r = awf(["-d", "self.test"], awf.curl("-o", "/dev/null", "-w", "%{http_code}",
                                          "http://self.test/secret"))
    assert r.stdout.strip() == "403", r.describe()
    assert not reached(vnet, mark), r.describe()
    recs = r.audit_for("self.test", kind="http", action="deny")
    assert recs and f"the host's own address {V.HOST4}" in recs[0]["reason"], r.describe()


def test_transparent_lookup_loses_the_hosts_own_address(awf, vnet, host_daemon):
    mark = vnet.host_mark(PORT)
    r = awf(["-d", "self.test"], ["curl", "-sS", "--noproxy", "*", "--max-time", "5",
                                  "http://self.test/secret"])
    assert r.rc != 0 and "path=/secret" not in r.stdout, r.describe()
    assert not reached(vnet, mark), r.describe()
    dns = [e for e in r.audit if e.get("kind") == "dns" and e.get("name") == "self.test"]
    assert any(f"removed internal addresses: {V.HOST4}" in e["reason"] for e in dns), \
        json.dumps(dns)


def test_host_access_opens_the_hosts_web_ports_on_purpose(awf, vnet, host_daemon):
    mark = vnet.host_mark(PORT)
    r = awf(["-d", "self.test", "--enable-host-access"],
            awf.curl("http://self.test/opened"))
    assert "path=/opened" in r.stdout, r.describe()
    assert reached(vnet, mark), r.describe()
