"""`awf logs` and `awf policy explain` on the logs of real runs in the virtual internet.

Each run's logs are read back through the CLI: the entries (pretty, json, raw), stats,
the step summary, the per-rule audit, the suggested allowlist (which is then tried), following a
growing file, and the errors for missing or unreadable logs."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import signal
import subprocess
import time

import pytest

import vnet as V
from conftest import AWF_BIN


def awf_cli(*args: str, env: dict | None = None, timeout: float = 20) -> subprocess.CompletedProcess:
    """awf's own subcommands read files only: they run outside the namespaces."""
    full_env = {"PATH": V.SAFE_PATH, **(env or {})}
    return subprocess.run([AWF_BIN, *args], capture_output=True, text=True, env=full_env,
                          timeout=timeout)


def mixed_run(awf):
    """One allowed HTTPS request, one denied request and one refused DNS query."""
    script = " ; ".join([
        shlex.join(awf.curl("-A", "logs-test/1.0", "-o", "/dev/null", "https://allowed.test/")),
        shlex.join(awf.curl("-o", "/dev/null", "https://blocked.test/")),
        shlex.join(awf.dig("blocked.test")) + " >/dev/null",
        "true",
    ])
    r = awf(["--allow-domains", "allowed.test"], ["bash", "-c", script])
    assert r.rc == 0, r.describe()
    assert r.audit_for("allowed.test", action="allow"), r.describe()
    return r


@pytest.fixture
def run(awf):
    return mixed_run(awf)


# ---------------------------------------------------------------------------- entries
def test_pretty_entries(run):
    p = awf_cli("logs", "--source", run.logs_dir)
    assert p.returncode == 0, p.stderr
    assert "\x1b[" not in p.stdout  # not a terminal: no colour
    lines = p.stdout.splitlines()
    allowed = [l for l in lines if "CONNECT allowed.test → 200 (ALLOWED)" in l]
    assert allowed and "[logs-test/1.0]" in allowed[0], p.stdout
    assert any("CONNECT blocked.test → 403 (DENIED" in l for l in lines), p.stdout
    assert any("DNS A blocked.test → NXDOMAIN (DENIED" in l for l in lines), p.stdout
    assert len(lines) == len(run.audit), p.stdout


def test_json_entries(run):
    p = awf_cli("logs", "--source", run.logs_dir, "--format", "json")
    assert p.returncode == 0, p.stderr
    entries = [json.loads(l) for l in p.stdout.splitlines()]
    assert len(entries) == len(run.audit)
    ok = [e for e in entries if e["domain"] == "allowed.test" and e["kind"] == "connect"]
    assert ok and ok[0]["isAllowed"] is True and ok[0]["statusCode"] == 200, entries
    assert ok[0]["userAgent"] == "logs-test/1.0" and ok[0]["destIp"] in (V.ALLOWED4, V.ALLOWED6)
    record = [x for x in run.audit if x.get("kind") == "connect" and x["name"] == "allowed.test"][0]
    assert ok[0]["pid"] == record.get("pid") and ok[0]["command"] == record.get("command")
    refused = [e for e in entries if e["kind"] == "dns" and e["domain"] == "blocked.test"]
    assert refused and refused[0]["isAllowed"] is False, entries


def test_raw_is_access_log_as_written(run):
    p = awf_cli("logs", "--source", run.logs_dir, "--format", "raw")
    assert p.returncode == 0, p.stderr
    with open(os.path.join(run.logs_dir, "access.log")) as f:
        assert p.stdout == f.read()


def test_environment_and_newest_run_choose_the_source(run, nonce):
    p = awf_cli("logs", "--format", "json", env={"AWF_LOGS_DIR": run.logs_dir})
    assert p.returncode == 0 and len(p.stdout.splitlines()) == len(run.audit), p.stderr
    # The newest run in the user's log store (~/.awf/logs) is the default (named ahead so
    # that it is newest; test_log_integrity.py covers what is never picked).
    home = f"/root/awf-logs-test-{nonce}"
    fake = f"{home}/.awf/logs/29991231T000000.000Z-00000000"
    os.makedirs(f"{home}/.awf/logs", mode=0o700)
    shutil.copytree(run.logs_dir, fake)
    try:
        p = awf_cli("logs", "--format", "json", env={"HOME": home})
        assert p.returncode == 0 and len(p.stdout.splitlines()) == len(run.audit), p.stderr
        listed = awf_cli("logs", "--list", env={"HOME": home}).stdout.splitlines()
        assert listed[1].split()[0] == fake and listed[1].split()[-1] == str(len(run.audit)), listed
    finally:
        shutil.rmtree(home)


# ---------------------------------------------------------------------------- reports
def test_stats_counts_requests_dns_refusals_and_blocked_attempts(awf):
    script = (shlex.join(awf.curl("-o", "/dev/null", "https://allowed.test/")) + "; "
              + shlex.join(awf.dig("blocked.test")) + " >/dev/null; "
              "curl -sS --noproxy '*' --max-time 5 http://203.0.113.10:22/; true")
    r = awf(["-d", "allowed.test"], ["bash", "-c", script])
    assert r.rc == 0, r.describe()
    p = awf_cli("logs", "stats", "--source", r.logs_dir, "--format", "json")
    assert p.returncode == 0, p.stderr
    stats = json.loads(p.stdout)
    counted = [x for x in r.audit
               if not x.get("repeat") and (x["kind"] != "dns" or x["action"] == "deny")]
    assert stats["totalRequests"] == len(counted), (stats, r.describe())
    assert stats["deniedRequests"] == len([x for x in counted if x["action"] == "deny"])
    rows = {(d["domain"], d["via"]): d for d in stats["byDomain"]}
    assert rows[("allowed.test", "https")]["allowed"] >= 1, rows
    assert rows[("blocked.test", "dns")]["denied"] >= 1, rows
    assert rows[(f"{V.ALLOWED4}:22", "tcp")]["denied"] == 1, rows
    pretty = awf_cli("logs", "stats", "--source", r.logs_dir).stdout
    assert "Total requests:" in pretty and "%)" in pretty and "blocked.test" in pretty, pretty


def test_summary_is_markdown_for_the_step_summary(run):
    p = awf_cli("logs", "summary", "--source", run.logs_dir)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "<details>" and lines[1].startswith("<summary>Firewall: "), p.stdout
    assert "| Domain | Via | Allowed | Denied |" in lines
    assert any(l.startswith("| allowed.test | https | ") for l in lines), p.stdout
    assert any(l.startswith("| blocked.test | dns | 0 | ") for l in lines), p.stdout
    assert lines[-1] == "</details>"
    as_json = json.loads(awf_cli("logs", "summary", "--source", run.logs_dir,
                                 "--format", "json").stdout)
    assert as_json["totalRequests"] >= 3


def test_audit_attributes_records_to_rules(run):
    p = awf_cli("logs", "audit", "--source", run.logs_dir)
    assert p.returncode == 0, p.stderr
    assert "Policy rules (policy-manifest.json):" in p.stdout, p.stdout
    hits = len([x for x in run.audit if x.get("rule") == 1])
    assert hits and f"#1 allow allowed.test  {hits} hit" in p.stdout, p.stdout
    assert "default deny" in p.stdout, p.stdout
    denied = awf_cli("logs", "audit", "--source", run.logs_dir, "--decision", "denied").stdout
    records = [l for l in denied.splitlines() if l.startswith("[")]
    assert records and all("(DENIED" in l and "rule: " in l for l in records), denied
    only = awf_cli("logs", "audit", "--source", run.logs_dir, "--domain", "allowed.test").stdout
    assert "blocked.test" not in only and "allowed.test" in only, only
    bad = awf_cli("logs", "audit", "--source", run.logs_dir, "--rule", "x")
    assert bad.returncode == 1 and "--rule" in bad.stderr


def test_suggest_allows_what_was_denied(awf):
    names = ["a.other.test", "b.other.test", "second.test"]
    script = "; ".join(shlex.join(awf.curl("-o", "/dev/null", f"https://{n}/")) for n in names)
    first = awf(["-d", "allowed.test"], ["bash", "-c", script + "; true"])
    p = awf_cli("logs", "suggest", "--source", first.logs_dir)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "--allow-domains 'other.test,second.test'", p.stdout + p.stderr
    assert "a.other.test, b.other.test -> other.test" in p.stderr
    flag = shlex.split(p.stdout)
    again = awf(["-d", "allowed.test", *flag], ["bash", "-c", script])
    assert again.rc == 0, again.describe()
    assert not [x for x in again.audit if x["action"] == "deny"], again.describe()
    nothing = awf_cli("logs", "suggest", "--source", again.logs_dir)
    assert nothing.returncode == 0 and nothing.stdout == "", nothing.stdout


# ---------------------------------------------------------------------------- following
def follow(logs_dir: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([AWF_BIN, "logs", "-f", "--source", logs_dir, *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={"PATH": V.SAFE_PATH})


def read_lines(p: subprocess.Popen, n: int, timeout: float = 10) -> list[str]:
    os.set_blocking(p.stdout.fileno(), False)
    out, deadline = b"", time.monotonic() + timeout
    while out.count(b"\n") < n and time.monotonic() < deadline:
        out += p.stdout.read() or b""
        time.sleep(0.05)
    return out.decode().splitlines()


def stop(p: subprocess.Popen) -> int:
    p.send_signal(signal.SIGINT)
    return p.wait(timeout=10)


def test_follow_prints_records_as_they_are_written(run, tmp_path):
    with open(os.path.join(run.logs_dir, "audit.jsonl")) as f:
        records = f.read().splitlines()
    d = tmp_path / "follow"
    d.mkdir()
    (d / "audit.jsonl").write_text(records[0] + "\n")
    p = follow(str(d), "--format", "json")
    try:
        assert len(read_lines(p, 1)) == 1
        with open(d / "audit.jsonl", "a") as f:  # a record in two writes: the half waits
            f.write(records[1][:25])
            f.flush()
            time.sleep(0.6)
            assert read_lines(p, 1, timeout=0.3) == []
            f.write(records[1][25:] + "\n")
        got = read_lines(p, 1)
        assert len(got) == 1 and json.loads(got[0])["timestamp"], got
    finally:
        assert stop(p) == 0


def test_follow_a_live_run(awf, tmp_path):
    logs_dir = str(tmp_path / "live")
    os.makedirs(logs_dir)
    os.chmod(logs_dir, 0o755)
    script = "sleep 1.5; " + shlex.join(awf.curl("-o", "/dev/null", "https://allowed.test/"))
    runner = awf.popen(["-d", "allowed.test"], ["bash", "-c", script], logs_dir=logs_dir)
    time.sleep(0.5)
    p = follow(logs_dir)
    try:
        runner.communicate(timeout=60)
        lines = read_lines(p, 1)
        assert any("CONNECT allowed.test → 200 (ALLOWED)" in l for l in lines), lines
    finally:
        assert stop(p) == 0


# ---------------------------------------------------------------------------- bad input
def test_missing_directory(tmp_path):
    p = awf_cli("logs", "--source", str(tmp_path / "nope"))
    assert p.returncode == 1 and "no log directory" in p.stderr, p.stderr
    p = awf_cli("logs", "stats", "--source", str(tmp_path))
    assert p.returncode == 1 and "holds no awf logs" in p.stderr, p.stderr


def test_garbage_is_rejected(tmp_path):
    (tmp_path / "audit.jsonl").write_bytes(b"\x89PNG\r\n\x1a\nnot a log\n")
    p = awf_cli("logs", "--source", str(tmp_path))
    assert p.returncode == 1 and "not an awf log" in p.stderr, p.stderr


def test_malformed_and_truncated_lines_are_skipped(run, tmp_path):
    with open(os.path.join(run.logs_dir, "audit.jsonl")) as f:
        records = f.read().splitlines()
    text = "\n".join([records[0], "{broken", '{"unknown":1}', *records[1:]]) + "\n"
    (tmp_path / "audit.jsonl").write_text(text + records[0][:30])
    p = awf_cli("logs", "--source", str(tmp_path), "--format", "json")
    assert p.returncode == 0, p.stderr
    assert len(p.stdout.splitlines()) == len(records)
    assert "skipped 2 malformed lines" in p.stderr, p.stderr


# ---------------------------------------------------------------------------- explain
@pytest.mark.parametrize("target,flags,code,text", [
    ("api.github.com:443", ["-d", "github.com"], 0, "rule #1 allow 'github.com'"),
    ("gist.github.com", ["-d", "github.com", "--block-domains", "gist.github.com"], 1,
     "rule #2 block 'gist.github.com'"),
    ("evil.test", ["-d", "github.com"], 1, "not in allowlist"),
    ("github.com:22", ["-d", "github.com"], 1, "Port 22: not served"),
    ("http://secure.test/", ["-d", "https://secure.test"], 1, "Verdict: DENIED (http on port 80)"),
    ("x.test", ["-d", "*.com"], 2, "public suffix"),
    ("x.test:http", [], 2, "is not HOST[:PORT]"),
])
def test_policy_explain(target, flags, code, text):
    p = awf_cli("policy", "explain", target, *flags)
    assert p.returncode == code, p.stdout + p.stderr
    assert text in p.stdout + p.stderr, p.stdout + p.stderr


def test_policy_explain_reads_domain_files(tmp_path):
    (tmp_path / "allow.txt").write_text("# team\nallowed.test\n")
    p = awf_cli("policy", "explain", "www.allowed.test", "--allow-domains-file",
                str(tmp_path / "allow.txt"))
    assert p.returncode == 0 and "Verdict: ALLOWED" in p.stdout, p.stdout + p.stderr
