"""Denied names, black-box: a lookup of a name the policy denies fails at once with NXDOMAIN
(not REFUSED, which resolvers report as a temporary failure and retry), with awf's reason as an
Extended DNS Error for clients that sent EDNS; the retries of one lookup count once in reports;
and the denial reaches access.log in AWF's Squid format, which gh-aw's firewall report reads."""

from __future__ import annotations

import json
import re
import subprocess

import vnet as V
from conftest import AWF_BIN

# What each client prints, one block per client (the closing note and docs/security.md quote
# these). The name is one the vnet resolves (blocked.test has an address), so only awf can make
# the lookup fail.
PROBE = r'''
echo "== dig"; dig +time=3 +tries=1 blocked.test A | grep -E "status:|EDE"
echo "== curl"; curl -sS --noproxy '*' --max-time 5 http://blocked.test/ 2>&1 | head -1
echo "== python"; python3 -c "import socket; socket.getaddrinfo('blocked.test', 80)" 2>&1 | tail -1
echo "== node"; node -e "require('dns').lookup('blocked.test', (e) => console.log(e ? e.code + ' ' + e.message : 'resolved'))" 2>&1 | tail -1
echo "== git"; git ls-remote http://blocked.test/x.git 2>&1 | tail -1
echo "== end"
'''


def blocks(stdout: str) -> dict[str, str]:
    out, current = {}, None
    for line in stdout.splitlines():
        if line.startswith("== "):
            current = line[3:]
            out[current] = ""
        elif current:
            out[current] += line + "\n"
    return out


def test_denied_name_fails_at_once_and_says_why(awf, vnet):
    m = vnet.mark()
    r = awf(["-d", "allowed.test"], ["bash", "-c", PROBE], timeout=90)
    got = blocks(r.stdout)
    assert "end" in got, r.describe()
    assert "status: NXDOMAIN" in got["dig"], r.describe()
    assert re.search(r"EDE: 15 \(Blocked\): \(awf: blocked\.test is not allowed", got["dig"]), \
        r.describe()
    assert "Could not resolve host: blocked.test" in got["curl"], r.describe()
    assert "Name or service not known" in got["python"], r.describe()
    assert "Temporary failure" not in r.stdout, r.describe()
    if "node" in got and "command not found" not in got["node"]:
        assert "ENOTFOUND" in got["node"], r.describe()
    assert "Could not resolve host: blocked.test" in got["git"], r.describe()
    # Nothing about the name left the host.
    assert "blocked.test" not in vnet.dns_names_seen(m)
    print(json.dumps(got, indent=1))


def test_one_lookup_is_one_denial_in_reports_and_access_log(awf, vnet):
    # getaddrinfo asks A and AAAA: two queries, one lookup.
    lookup = [V.PY, "-c", "import socket\ntry: socket.getaddrinfo('blocked.test', 80)\n"
                          "except OSError as e: print('failed', e)"]
    r = awf(["-d", "allowed.test"], lookup, timeout=60)
    assert "failed" in r.stdout, r.describe()
    dns = [e for e in r.audit if e.get("kind") == "dns" and e.get("name") == "blocked.test"]
    assert len(dns) >= 2 and all(e.get("rcode") == "NXDOMAIN" for e in dns), r.describe()
    assert sum(1 for e in dns if not e.get("repeat")) == 1, r.describe()
    lines = [a["_raw"] for a in r.access if " DNS " in a["_raw"]]
    assert len(lines) == 1, r.describe()
    # AWF's firewall_detailed fields: ts client:port host dest method... as gh-aw splits them.
    fields = re.findall(r'(?:[^\s"]+|"[^"]*")+', lines[0])
    assert len(fields) == 10 and re.match(r"^\d+\.\d{3}$", fields[0]), lines[0]
    assert fields[2] == "blocked.test" and fields[5] == "DNS" and fields[6] == "403", lines[0]
    assert fields[7].startswith("TCP_DENIED"), lines[0]
    stats = subprocess.run([AWF_BIN, "logs", "stats", "--source", r.logs_dir, "--format", "json"],
                           capture_output=True, text=True, env={"PATH": V.SAFE_PATH}, timeout=20)
    report = json.loads(stats.stdout)
    assert report["deniedRequests"] == 1, stats.stdout


def test_control_the_name_resolves_without_awf(vnet):
    """blocked.test has an address in the vnet: the failures above are awf's doing."""
    out = vnet.host_run(["dig", "+short", f"@{V.DNS4}", "blocked.test", "A"], check=True).stdout
    assert re.search(r"^\d+\.\d+\.\d+\.\d+$", out.strip(), re.M), out
