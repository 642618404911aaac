"""What a run leaves for gh-aw besides the logs: --diagnostic-logs on failure and
--session-state-dir (issue 13)."""

from __future__ import annotations

import json
import os

ALLOW = ["-d", "allowed.test"]


def _diag(d: str) -> str:
    return os.path.join(d, "diagnostics")


def test_diagnostics_written_when_the_command_fails(awf, vnet, nonce):
    audit = os.path.join(vnet.scratch_dir, f"audit-{nonce}")
    script = ("for i in $(seq 1 250); do echo err-$i >&2; done; "
              "curl -s -o /dev/null http://blocked.test/ ; echo out-line; exit 3")
    r = awf([*ALLOW, "--diagnostic-logs", "--audit-dir", audit], ["bash", "-c", script])
    assert r.rc == 3, r.describe()
    # The command's stderr still reaches awf's caller, whole and in order.
    errs = [l for l in r.stderr_lines if l.startswith("err-")]
    assert errs == [f"err-{i}" for i in range(1, 251)], r.describe()
    assert r.stdout == "out-line\n", r.describe()
    d = _diag(audit)
    exit_info = json.load(open(os.path.join(d, "exit.json")))
    assert exit_info["exitCode"] == 3 and exit_info["timedOut"] is False, exit_info
    assert exit_info["logsDir"] == r.logs_dir, exit_info
    tail = open(os.path.join(d, "stderr-tail.txt")).read().splitlines()
    assert tail[-1] == "err-250" and len(tail) == 200 and tail[0] == "err-51", tail[:3]
    config = json.load(open(os.path.join(d, "config.json")))
    assert "allowed.test" in json.dumps(config), config
    mounts = open(os.path.join(d, "mounts.txt")).read()
    assert "home " in mounts and "masked " + os.path.realpath(r.logs_dir) in mounts, mounts
    gateway = json.load(open(os.path.join(d, "gateway.json")))
    assert gateway["deniedRequests"] >= 1 and gateway["allowedRequests"] == 0, gateway
    assert any(f"diagnostics in {d}" in l for l in r.stderr_lines), r.describe()


def test_no_diagnostics_when_the_command_succeeds(awf, vnet, nonce):
    audit = os.path.join(vnet.scratch_dir, f"audit-ok-{nonce}")
    r = awf([*ALLOW, "--diagnostic-logs", "--audit-dir", audit], ["bash", "-c", "echo e >&2"])
    assert r.rc == 0 and "e" in r.stderr_lines, r.describe()
    assert not os.path.exists(_diag(audit)), os.listdir(audit)


def test_diagnostics_need_the_flag(awf, vnet, nonce):
    audit = os.path.join(vnet.scratch_dir, f"audit-noflag-{nonce}")
    r = awf([*ALLOW, "--audit-dir", audit], ["bash", "-c", "exit 5"])
    assert r.rc == 5, r.describe()
    assert not os.path.exists(_diag(audit)), os.listdir(audit)


def test_session_state_dir_outlives_the_run(awf, vnet, nonce):
    state = os.path.join(vnet.scratch_dir, f"state-{nonce}", "session-state")
    os.makedirs(os.path.dirname(state))
    os.chmod(os.path.dirname(state), 0o777)
    script = ('mkdir -p "$HOME/.copilot/session-state/s1" && '
              f'echo {nonce} > "$HOME/.copilot/session-state/s1/events.jsonl" && echo wrote')
    r = awf([*ALLOW, "--session-state-dir", state], ["bash", "-c", script])
    assert r.rc == 0 and r.stdout == "wrote\n", r.describe()
    assert open(os.path.join(state, "s1", "events.jsonl")).read() == f"{nonce}\n"
