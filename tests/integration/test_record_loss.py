"""No traffic without a record, black-box: with the logs on a tiny tmpfs that fills during the
run, awf says once why it refuses, refuses new connections and DNS queries until the records
can be written, counts what it refused in its exit message and exits non-zero although the
command succeeded. Every request that reached the origin is in the logs or counted as
unwritten."""

from __future__ import annotations

import os
import re
import shlex
import subprocess

import pytest

def loop(awf) -> list[str]:
    """60 HTTPS requests one after the other, counting those that succeed."""
    curl = shlex.join(awf.curl("-o", "/dev/null", "https://allowed.test/"))
    return ["bash", "-c", "ok=0; failed=0; for i in $(seq 1 60); do "
            f"if {curl} 2>/dev/null; then ok=$((ok+1)); else failed=$((failed+1)); fi; done; "
            'echo "ok=$ok failed=$failed"']


@pytest.fixture
def tiny_disk(vnet, nonce):
    path = os.path.join(vnet.run_dir, f"tiny-{nonce}")
    os.makedirs(path)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k,mode=0755", "tmpfs", path], check=True)
    yield path
    subprocess.run(["umount", "-l", path], check=False)


def test_full_disk_refuses_traffic_and_says_so(awf, vnet, tiny_disk):
    logs = os.path.join(tiny_disk, "logs")
    m = vnet.mark()
    r = awf(["-d", "allowed.test"], loop(awf), logs_dir=logs, timeout=240)
    out = re.search(r"ok=(\d+) failed=(\d+)", r.stdout)
    assert out, r.describe()
    ok, failed = int(out.group(1)), int(out.group(2))
    assert ok > 0 and failed > 0, r.describe()  # some got through, then the disk was full
    said = [l for l in r.stderr_lines if "cannot write the logs" in l]
    assert len(said) == 1 and "No space left on device" in said[0], r.describe()
    summary = re.search(r"awf: (\d+) connections? and DNS quer(?:y|ies) (?:was|were) refused "
                        r"because the logs could not be written", r.stderr)
    assert summary and int(summary.group(1)) >= failed, r.describe()
    unwritten = re.search(r"awf: (\d+) records? could not be written", r.stderr)
    lost = int(unwritten.group(1)) if unwritten else 0
    assert r.rc == 74, r.describe()  # the command succeeded; the record did not
    reached = [q for q in vnet.origin_requests(m) if q.get("host", "").startswith("allowed.test")]
    with open(os.path.join(logs, "audit.jsonl"), errors="replace") as f:
        recorded = sum(1 for line in f if '"kind":"connect"' in line and '"action":"allow"' in line)
    assert len(reached) <= recorded + lost, (len(reached), recorded, lost, r.describe())


def test_control_the_same_run_on_a_roomy_disk_records_everything(awf, vnet):
    r = awf(["-d", "allowed.test"], loop(awf), timeout=240)
    assert "ok=60 failed=0" in r.stdout, r.describe()
    assert r.rc == 0 and "cannot write the logs" not in r.stderr, r.describe()
