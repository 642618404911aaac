"""The files gh-aw reads after a run, in AWF's formats: audit.jsonl records valid under AWF's
audit schema (schemas/audit.schema.json of gh-aw-firewall), policy-manifest.json in AWF's v1
form, only Squid lines in the top-level *.log files of the logs directory, and `awf logs
summary` reading AWF_LOGS_DIR in both of AWF's layouts. The schema is checked by hand (its
required keys, their types and patterns): the jsonschema module is not installed."""

from __future__ import annotations

import glob
import json
import os
import re
import shlex
import shutil
import subprocess

import pytest

import vnet as V
from conftest import AWF_BIN

SCHEMA_RE = re.compile(r"^audit/v\d+\.\d+\.\d+(-\w+)?$")
TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
# gh-aw's access.log reader: a numeric first field and at least 10 fields, quotes kept together.
GH_AW_FIELDS = re.compile(r'(?:[^\s"]+|"[^"]*")+')
REQUIRED = {"_schema": str, "timestamp": str, "event": str, "client": str, "host": str,
            "dest": str, "method": str, "status": int, "decision": str, "url": str}
PROXY_KINDS = {"http", "connect", "tls", "host", "api", "intercept"}


def awf_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([AWF_BIN, *args], capture_output=True, text=True, timeout=20,
                          env={"PATH": V.SAFE_PATH, **(env or {})})


def schema_errors(rec: dict) -> list[str]:
    """What keeps a record from validating against AWF's audit schema."""
    errors = []
    for key, kind in REQUIRED.items():
        if key not in rec:
            errors.append(f"missing {key}")
        elif not isinstance(rec[key], kind) or isinstance(rec[key], bool):
            errors.append(f"{key} is {type(rec[key]).__name__}, not {kind.__name__}")
    if isinstance(rec.get("_schema"), str) and not SCHEMA_RE.match(rec["_schema"]):
        errors.append(f"_schema {rec['_schema']!r}")
    if isinstance(rec.get("timestamp"), str) and not TIMESTAMP_RE.match(rec["timestamp"]):
        errors.append(f"timestamp {rec['timestamp']!r}")
    if isinstance(rec.get("status"), int) and rec["status"] < 0:
        errors.append("negative status")
    return errors


def expected_code(rec: dict) -> str:
    if rec["action"] != "allow":
        return "TCP_DENIED"
    return "TCP_MISS" if rec["kind"] in ("http", "api", "dns") else "TCP_TUNNEL"


def hostport(text: str) -> str:
    """"[v6]:port" and access.log's "v6:port" alike."""
    addr, port = V._split_hostport(text)
    return f"{addr}:{port}" if addr else ""


def mixed_script(awf) -> str:
    return " ; ".join([
        shlex.join(awf.curl("-o", "/dev/null", "http://allowed.test/")),
        shlex.join(awf.curl("-o", "/dev/null", "http://blocked.test/")),
        shlex.join(awf.curl("-o", "/dev/null", "https://allowed.test/")),
        shlex.join(awf.curl("-o", "/dev/null", "https://blocked.test/")),
        shlex.join(awf.curl("-o", "/dev/null", "https://sub.allowed.test/")),
        shlex.join(awf.curl("--noproxy", "*", "-o", "/dev/null", "https://allowed.test/t")),
        shlex.join(awf.dig("allowed.test")) + " >/dev/null",
        shlex.join(awf.dig("blocked.test")) + " >/dev/null",
        f"curl -sS --noproxy '*' --max-time 5 http://{V.ALLOWED4}:22/",
        "true",
    ])


@pytest.fixture
def mixed(awf, tmp_path):
    audit_dir = tmp_path / "audit"
    r = awf(["-d", "allowed.test", "--block-domains", "sub.allowed.test",
             "--audit-dir", str(audit_dir)], ["bash", "-c", mixed_script(awf)])
    assert r.rc == 0, r.describe()
    r.audit_dir = str(audit_dir)
    return r


def test_every_record_is_valid_under_awfs_audit_schema(mixed):
    r = mixed
    assert r.audit and not [x for x in r.audit if "_error" in x], r.describe()
    for rec in r.audit:
        assert not schema_errors(rec), (schema_errors(rec), rec)
        # One key per fact: the old names are gone (the log volume matters).
        assert "ts" not in rec and "destination" not in rec, rec
        assert rec["action"] in ("allow", "deny"), rec
        assert rec["decision"] == expected_code(rec), rec
        if rec["kind"] in PROXY_KINDS:
            assert rec["event"] == "http_access", rec
        else:
            assert rec["event"] == {"dns": "dns_query", "blocked": "blocked_attempt"}[rec["kind"]]
    kinds = {(x["kind"], x["action"]) for x in r.audit}
    for want in [("http", "allow"), ("http", "deny"), ("connect", "allow"), ("connect", "deny"),
                 ("tls", "allow"), ("dns", "allow"), ("dns", "deny"), ("blocked", "deny")]:
        assert want in kinds, (want, r.describe())


def test_records_say_what_awfs_schema_says(mixed):
    r = mixed
    get = r.audit_for("allowed.test", kind="http", action="allow")
    assert get and get[0]["method"] == "GET" and get[0]["status"] == 200, r.describe()
    assert get[0]["decision"] == "TCP_MISS" and get[0]["url"] == "http://allowed.test/"
    assert get[0]["host"] == "allowed.test" and get[0]["dest"] in (f"{V.ALLOWED4}:80",
                                                                   f"[{V.ALLOWED6}]:80"), get
    tunnel = r.audit_for("allowed.test", kind="connect", action="allow")
    assert tunnel and tunnel[0]["decision"] == "TCP_TUNNEL", r.describe()
    assert tunnel[0]["host"] == "allowed.test:443" and tunnel[0]["url"] == "allowed.test:443"
    denied = r.audit_for("blocked.test", kind="connect", action="deny")
    assert denied and denied[0]["decision"] == "TCP_DENIED" and denied[0]["dest"] == "-:-"
    assert denied[0]["status"] == 403, denied
    tls = r.audit_for("allowed.test", kind="tls", action="allow")
    assert tls and tls[0]["host"] == "allowed.test:443" and tls[0]["decision"] == "TCP_TUNNEL"
    refused = r.audit_for("blocked.test", kind="dns", action="deny")
    assert refused and refused[0]["host"] == "blocked.test" and refused[0]["method"] == "-"
    assert refused[0]["status"] == 0 and refused[0]["dest"] == "-:-" and refused[0]["url"] == "-"
    port = [x for x in r.audit if x["kind"] == "blocked"]
    assert port and port[0]["url"] == f"{V.ALLOWED4}:22" and port[0]["host"] == V.ALLOWED4, port


def test_decisions_match_the_access_log(mixed):
    r = mixed
    lines = [a for a in r.access if "_error" not in a]
    # A denied lookup (once per lookup) also has its line, for gh-aw's report of what was blocked.
    dns_denials = [x for x in r.audit
                   if x["kind"] == "dns" and x["action"] == "deny" and not x.get("repeat")]
    assert dns_denials, r.describe()
    assert len(lines) == len([x for x in r.audit if x["kind"] in PROXY_KINDS]) + len(dns_denials)
    for rec in dns_denials:
        same = [a for a in lines if a["method"] == "DNS" and a["url"] == rec["name"] and
                round(float(a["ts"]) * 1000) == _ms(rec["timestamp"])]
        assert len(same) == 1 and same[0]["status"] == 403, (rec, lines)
        assert same[0]["squid_status"] == "TCP_DENIED", same
    for rec in (x for x in r.audit if x["kind"] in PROXY_KINDS):
        client_ip = V._split_hostport(rec["client"])[0]
        same = [a for a in lines if a["url"] == rec["url"] and
                V._split_hostport(a["client"])[0] == client_ip and
                round(float(a["ts"]) * 1000) == _ms(rec["timestamp"])]
        assert len(same) == 1, (rec, lines)
        line = same[0]
        assert line["squid_status"] == rec["decision"], (line, rec)
        assert line["status"] == rec["status"] and line["method"] == rec["method"], (line, rec)
        assert hostport(line["dest"]) == hostport(rec["dest"]), (line, rec)


def _ms(timestamp: str) -> int:
    from datetime import datetime
    return round(datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp() * 1000)


def test_only_squid_lines_in_top_level_log_files(mixed):
    logs = glob.glob(os.path.join(mixed.logs_dir, "*.log"))
    assert os.path.join(mixed.logs_dir, "access.log") in logs, logs
    for path in logs:
        with open(path, errors="replace") as f:
            for line in f:
                if not line.strip():
                    continue
                fields = GH_AW_FIELDS.findall(line.strip())
                assert len(fields) >= 10 and re.match(r"^\d+(\.\d+)?$", fields[0]), (path, line)
                assert "_error" not in V.parse_access_line(line), (path, line)


def check_manifest(manifest: dict) -> None:
    assert manifest["version"] == 1, manifest
    assert TIMESTAMP_RE.match(manifest["generatedAt"]), manifest
    rules = manifest["rules"]
    assert [x["order"] for x in rules] == list(range(1, len(rules) + 1)), rules
    for rule in rules:
        assert isinstance(rule["id"], str) and rule["id"], rule
        assert rule["action"] in ("allow", "deny") and rule["protocol"] in ("http", "https", "both")
        assert isinstance(rule["aclName"], str) and isinstance(rule["description"], str), rule
        assert isinstance(rule["domains"], list) and all(isinstance(d, str) for d in rule["domains"])
    assert len({x["id"] for x in rules}) == len(rules), rules
    assert rules[-1]["id"] == "deny-default" and rules[-1]["aclName"] == "all", rules
    assert 22 in manifest["dangerousPorts"] and all(isinstance(p, int) for p in manifest["dangerousPorts"])
    assert manifest["dnsServers"] and all(isinstance(s, str) for s in manifest["dnsServers"])
    for key in ("sslBumpEnabled", "dlpEnabled", "hostAccessEnabled"):
        assert manifest[key] is False, (key, manifest)
    assert manifest["allowHostPorts"] is None and manifest["topologyPeers"] == [], manifest


def replay(rules: list[dict], name: str, https: bool, action: str) -> dict | None:
    """AWF's rule attribution (src/logs/audit-enricher.ts), which gh-aw's audit mirrors."""
    for rule in sorted(rules, key=lambda x: x["order"]):
        if rule["protocol"] != "both" and (rule["protocol"] == "https") != https:
            continue
        if rule["aclName"] == "all":
            if action == "deny":
                return rule
            continue
        regex = "regex" in rule["aclName"] or any(re.search(r"[\\^$*+?{}()\[\]|]", d)
                                                  for d in rule["domains"])
        hit = False
        for d in rule["domains"]:
            if regex:
                hit = hit or re.search(d, name, re.I) is not None
            elif d.startswith("."):
                hit = hit or name == d[1:] or name.endswith(d)
            else:
                hit = hit or name == d
        if hit and rule["action"] == action:
            return rule
    return None


def test_policy_manifest_is_awfs_v1_form(mixed):
    r = mixed
    with open(os.path.join(r.logs_dir, "policy-manifest.json")) as f:
        manifest = json.load(f)
    with open(os.path.join(r.audit_dir, "policy-manifest.json")) as f:
        assert json.load(f) == manifest
    check_manifest(manifest)
    assert V.DNS4 in manifest["dnsServers"], manifest
    rules = manifest["rules"]
    # Each record's "rule" names a manifest rule, and AWF's replay agrees with it.
    named = [x for x in r.audit if x.get("rule")]
    assert named, r.describe()
    for rec in named:
        matching = [x for x in rules if x.get("rule") == rec["rule"]]
        assert len(matching) == 1, (rec, rules)
        if rec["kind"] in PROXY_KINDS:
            https = rec["method"] == "CONNECT" or rec["kind"] == "tls"
            assert replay(rules, rec["name"], https, rec["action"]) == matching[0], (rec, rules)
    block = [x for x in rules if x.get("entry") == "sub.allowed.test"]
    assert block and block[0]["action"] == "deny" and block[0]["domains"] == [".sub.allowed.test"]
    allow = [x for x in rules if x.get("entry") == "allowed.test"]
    assert allow and allow[0]["order"] > block[0]["order"], rules  # block beats allow
    denied = r.audit_for("sub.allowed.test", kind="connect", action="deny")
    assert denied and denied[0]["rule"] == block[0]["rule"], r.describe()
    assert replay(rules, "blocked.test", True, "deny")["id"] == "deny-default"


def test_awf_logs_audit_names_rules_from_the_v1_manifest(mixed):
    p = awf_cli("logs", "audit", "--source", mixed.logs_dir)
    assert p.returncode == 0, p.stderr
    assert "Policy rules (policy-manifest.json):" in p.stdout, p.stdout
    assert "allow allowed.test" in p.stdout and "deny sub.allowed.test" in p.stdout, p.stdout


@pytest.mark.parametrize("layout", ["direct", "squid-logs"])
def test_summary_reads_awf_logs_dir_in_both_layouts(mixed, tmp_path, layout):
    expected = awf_cli("logs", "summary", "--source", mixed.logs_dir)
    assert expected.returncode == 0 and "| allowed.test |" in expected.stdout, expected.stderr
    top = tmp_path / "logs"
    where = top / "squid-logs" if layout == "squid-logs" else top
    where.mkdir(parents=True)
    for name in ("access.log", "audit.jsonl"):
        shutil.copy(os.path.join(mixed.logs_dir, name), where / name)
    shutil.copy(os.path.join(mixed.logs_dir, "policy-manifest.json"), top / "policy-manifest.json")
    p = awf_cli("logs", "summary", env={"AWF_LOGS_DIR": str(top)})
    assert p.returncode == 0, p.stderr
    assert p.stdout == expected.stdout, p.stdout
    rules = awf_cli("logs", "audit", env={"AWF_LOGS_DIR": str(top)})
    assert "Policy rules (policy-manifest.json):" in rules.stdout, rules.stdout + rules.stderr


def test_stats_format_given_before_the_subcommand(mixed):
    before = awf_cli("logs", "--format", "json", "stats", "--source", mixed.logs_dir)
    after = awf_cli("logs", "stats", "--source", mixed.logs_dir, "--format", "json")
    assert before.returncode == 0 and after.returncode == 0, before.stderr + after.stderr
    assert json.loads(before.stdout) == json.loads(after.stdout)
    assert json.loads(before.stdout)["totalRequests"] > 0
    summary = awf_cli("logs", "--format", "json", "summary", "--source", mixed.logs_dir)
    assert json.loads(summary.stdout) == json.loads(after.stdout)
    raw = awf_cli("logs", "--format", "raw", "stats", "--source", mixed.logs_dir)
    assert raw.returncode == 1 and "--format raw" in raw.stderr, raw.stderr


# ------------------------------------------------------------------ logs of other writers
AWF_AUDIT = "\n".join(json.dumps(x) for x in [
    {"_schema": "audit/v0.28.20", "timestamp": "2026-05-25T09:00:00.000Z", "event": "http_access",
     "client": "172.30.0.20", "host": "api.github.com:443", "dest": "140.82.114.22:443",
     "method": "CONNECT", "status": 200, "decision": "TCP_TUNNEL", "url": "api.github.com:443"},
    {"_schema": "audit/v0.28.20", "timestamp": "2026-05-25T09:00:01.000Z", "event": "http_access",
     "client": "172.30.0.20", "host": "evil.example:443", "dest": "-:-", "method": "CONNECT",
     "status": 403, "decision": "TCP_DENIED", "url": "evil.example:443"},
    {"_schema": "audit/v0.28.20", "timestamp": "2026-05-25T09:00:02.000Z", "event": "http_access",
     "client": "172.30.0.20", "host": "example.org", "dest": "93.184.215.14:80", "method": "GET",
     "status": 200, "decision": "TCP_MISS", "url": "http://example.org/"},
]) + "\n"

EARLIER_AWF_AUDIT = "\n".join(json.dumps(x) for x in [
    {"ts": "2026-11-28T17:50:00.374Z", "kind": "connect", "transport": "explicit",
     "client": "127.0.0.1:35574", "name": "allowed.test", "destination": "203.0.113.10:443",
     "decision": "allow", "reason": "allowed by 'allowed.test'", "method": "CONNECT",
     "url": "allowed.test:443", "status": 200, "rule": 1},
    {"ts": "2026-11-28T17:50:01.000Z", "kind": "dns", "transport": "udp",
     "client": "127.0.0.1:40000", "name": "blocked.test", "destination": None,
     "decision": "deny", "reason": "not in allowlist", "qtype": "A", "rcode": "REFUSED"},
]) + "\n"
EARLIER_MANIFEST = json.dumps({"version": 1, "default": "deny", "rules": [
    {"id": 1, "action": "allow", "domain": "allowed.test", "subdomains": True}]})


@pytest.mark.parametrize("text,manifest,allowed,denied", [
    (AWF_AUDIT, None, {"api.github.com", "example.org"}, {"evil.example"}),
    (EARLIER_AWF_AUDIT, EARLIER_MANIFEST, {"allowed.test"}, {"blocked.test"}),
])
def test_reads_awf_and_earlier_awf_logs(tmp_path, text, manifest, allowed, denied):
    (tmp_path / "audit.jsonl").write_text(text)
    if manifest:
        (tmp_path / "policy-manifest.json").write_text(manifest)
    p = awf_cli("logs", "--source", str(tmp_path), "--format", "json")
    assert p.returncode == 0 and p.stderr == "", p.stderr
    entries = [json.loads(l) for l in p.stdout.splitlines()]
    assert {e["domain"] for e in entries if e["isAllowed"]} == allowed, entries
    assert {e["domain"] for e in entries if not e["isAllowed"]} == denied, entries
    stats = json.loads(awf_cli("logs", "stats", "--source", str(tmp_path), "--format",
                               "json").stdout)
    assert stats["deniedRequests"] == len(denied) and stats["totalRequests"] == len(entries)
    for sub in (["summary"], ["audit"], ["suggest"]):
        q = awf_cli("logs", *sub, "--source", str(tmp_path))
        assert q.returncode == 0 and "malformed" not in q.stderr, (sub, q.stderr)
    if manifest:
        audit = awf_cli("logs", "audit", "--source", str(tmp_path)).stdout
        assert "#1 allow allowed.test  1 hit" in audit, audit
