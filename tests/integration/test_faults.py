"""Faults awf must handle cleanly: it refuses to run the command when it cannot keep a record."""

from __future__ import annotations

import subprocess
from pathlib import Path

import vnet as V
from conftest import AWF_BIN


def test_unwritable_log_directory_refuses_to_start(vnet, tmp_path, nonce):
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "access.log").mkdir()  # a directory where the log file must go: cannot be opened
    marker = Path(vnet.scratch_dir) / f"ran-{nonce}"  # writable by the sandboxed user
    argv = vnet.host_cmd([AWF_BIN, "--dns-servers", V.DNS4, "--proxy-logs-dir", str(logs),
                          "-d", "allowed.test", "--", "touch", str(marker)])
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert r.returncode == 1, r
    assert "access.log" in r.stderr and "Process exiting with code: 1" in r.stderr.splitlines()[-1], r
    assert not marker.exists()


def test_control_the_same_command_runs_with_a_writable_log_directory(vnet, tmp_path, nonce):
    """The control for the test above: with a usable log directory the marker appears."""
    marker = Path(vnet.scratch_dir) / f"ran-{nonce}"
    argv = vnet.host_cmd([AWF_BIN, "--dns-servers", V.DNS4, "--proxy-logs-dir",
                          str(tmp_path / "logs"), "-d", "allowed.test", "--", "touch", str(marker)])
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r
    assert marker.exists()
