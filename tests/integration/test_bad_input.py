"""Bad input, black-box, as a new user types it: each gets a clear error naming the flag, the
value and the fix (or, for what a policy opens, a warning naming the risk), awf's usual exit
codes, and nothing left on disk."""

from __future__ import annotations

import os
import subprocess

import pytest

import vnet as V
from conftest import AWF_BIN


def awf_cli(*args: str) -> subprocess.CompletedProcess:
    """awf's own commands and refusals: no namespaces needed, nothing runs."""
    return subprocess.run([AWF_BIN, *args], capture_output=True, text=True, timeout=30,
                          env={"PATH": V.SAFE_PATH, "HOME": "/root"})


def refused(r: subprocess.CompletedProcess, *fragments: str) -> None:
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert r.stderr.startswith("Fatal error: "), r.stderr
    for fragment in fragments:
        assert fragment in r.stderr, r.stderr


def test_domains_file_that_is_a_directory(tmp_path):
    refused(awf_cli("--allow-domains-file", str(tmp_path), "--", "true"),
            f"--allow-domains-file '{tmp_path}': is a directory")


def test_mount_over_what_awf_builds():
    for target in ("/proc", "/dev/kvm", "/sys/fs/cgroup"):
        refused(awf_cli("-v", f"/etc:{target}", "-d", "allowed.test", "--", "true"),
                f"the container path {target}", "which awf builds for the sandbox itself")


def test_api_proxy_ca_file_checked_with_the_proxy_off():
    refused(awf_cli("--api-proxy-ca-file", "/nonexistent/ca.pem", "--", "true"),
            "--api-proxy-ca-file '/nonexistent/ca.pem': cannot read the file")


def test_invalid_punycode_entry():
    refused(awf_cli("-d", "xn--zz.com", "--", "true"), "'xn--zz' is not valid punycode")


def test_policy_explain_of_a_non_name_is_an_error():
    r = awf_cli("policy", "explain", "a b")
    assert r.returncode == 2 and "'a b' is not HOST[:PORT]" in r.stderr, (r.returncode, r.stderr)


def test_subcommand_errors_are_awfs_own_words():
    for args, expected in ((("logs", "stats", "extra"), "unexpected argument: extra"),
                           (("policy", "explain"), "target is missing"),
                           (("policy", "bogus"), "a subcommand is missing")):
        r = awf_cli(*args)
        assert r.returncode != 0 and expected in r.stderr, (args, r.stderr)
        assert "The following argument" not in r.stderr and "is required" not in r.stderr


def test_missing_container_workdir_is_not_replaced(awf):
    r = awf(["-d", "allowed.test", "--container-workdir", "/nonexistent-workdir"],
            ["sh", "-c", "pwd; echo ran"])
    assert r.rc == 126 and "ran" not in r.stdout, r.describe()
    assert "--container-workdir /nonexistent-workdir: No such file or directory" in r.stderr


def test_internal_literals_and_blocked_host_access_warn(awf):
    r = awf(["-d", "127.0.0.1,169.254.169.254,allowed.test", "--enable-host-access",
             "--block-domains", "host.docker.internal"], ["true"])
    assert r.rc == 0, r.describe()
    assert "--allow-domains 127.0.0.1 is an internal address (loopback)" in r.stderr
    assert "--allow-domains 169.254.169.254 is an internal address (link-local (cloud " \
           "metadata))" in r.stderr
    assert "covers host.docker.internal: --enable-host-access is off" in r.stderr


@pytest.mark.parametrize("flag", ["--audit-dir", "--work-dir"])
def test_failed_setup_leaves_no_log_directory(vnet, tmp_path, flag):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    logs = tmp_path / "logs"
    r = awf_cli("--proxy-logs-dir", str(logs), flag, str(blocker / "sub"), "-d", "allowed.test",
                "--", "true")
    assert r.returncode == 1 and "Fatal error: " in r.stderr, r.stderr
    assert not logs.exists(), os.listdir(logs)


def test_unknown_user_leaves_no_log_directory(tmp_path):
    logs = tmp_path / "logs"
    r = awf_cli("--proxy-logs-dir", str(logs), "--user", "no-such-user-awf", "--", "true")
    assert r.returncode == 1 and "no-such-user-awf" in r.stderr, r.stderr
    assert not logs.exists()


def test_localhost_refusal_does_not_advise_allowing_localhost(awf):
    r = awf(["-d", "allowed.test"], awf.curl("http://localhost/"))
    assert "awf: blocked 'localhost'" in r.stdout, r.describe()
    assert "--allow-domains localhost" not in r.stdout, r.describe()
    assert "--enable-host-access and host.docker.internal" in r.stdout, r.describe()
