"""gh-aw's default agent step, replayed as gh-aw runs it (issue 13, "Done when"): an ordinary
runner user, no sudo; the config file written with printf as the lock file writes it; the exact
invocation of AWF-COMPAT.md section 1 (DIFC flags included); the MCP gateway container
reachable by name, the DIFC proxy published on 127.0.0.1:18443 for the agent's gh (issue 17);
then `AWF_LOGS_DIR=... awf logs summary` into the step summary. The command's exit status comes
back and every output file belongs to the runner user."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess

import pytest

import docker_host as D
import fake_difc_proxy
import vnet as V
from conftest import AWF_BIN

RUNNER_UID = 4242
GATEWAY = "awmg-mcpg"
GH_AW_TMP = "/tmp/gh-aw"  # gh-aw's fixed path: the invocation mounts it, the config logs there
LOGS_DIR = f"{GH_AW_TMP}/sandbox/firewall/logs"
AUDIT_DIR = f"{GH_AW_TMP}/sandbox/firewall/audit"

# As gh-aw's lock file writes it (one printf, JSON on one line).
CONFIG = (
    '{"$schema":"https://github.com/github/gh-aw-firewall/releases/download/v0.28.20/'
    'awf-config.schema.json","network":{"allowDomains":["allowed.test","github.com",'
    '"*.githubusercontent.com"],"isolation":true,"topologyAttach":["awmg-mcpg"]},'
    '"apiProxy":{"enabled":true,"enableTokenSteering":true,"maxRuns":500,"maxAiCredits":1000,'
    '"maxCacheMisses":5,"models":{"agent":["gpt-5"],"small":["gpt-5-mini"]}},'
    '"container":{"imageTag":"0.28.20,squid=sha256:0123,agent=sha256:4567",'
    '"containerRuntime":"gvisor"},"logging":{"proxyLogsDir":"' + LOGS_DIR + '",'
    '"auditDir":"' + AUDIT_DIR + '"}}'
)

# The agent: talks to the MCP gateway by name, to an allowed origin, tries a blocked one, and
# fails with its own status.
AGENT = (
    "curl -sS --max-time 10 http://awmg-mcpg:8080/ | head -c 200; echo; "
    "curl -sS --max-time 10 --cacert {ca} https://allowed.test/agent-{nonce}; echo; "
    "curl -sS --max-time 10 -o /dev/null -w 'blocked=%{{http_connect}}\\n' https://blocked.test/ "
    "2>/dev/null; gh api repos/o/r; exit 7"
)


@pytest.fixture(scope="module")
def docker(vnet):
    yield from D.serving_gateway(vnet, GATEWAY)


@pytest.fixture(scope="module")
def difc(vnet):
    """gh-aw's DIFC proxy, published on the host's 127.0.0.1:18443."""
    if shutil.which("gh", path=V.SAFE_PATH) is None:
        pytest.skip("the GitHub CLI (Debian package gh) is not installed")
    certs = fake_difc_proxy.make_certs(os.path.join(vnet.run_dir, "replay-difc"))
    proc = fake_difc_proxy.start(vnet, certs, 18443)
    try:
        yield certs
    finally:
        vnet.stop_host_service(proc)


@pytest.fixture
def gh_aw_tmp():
    """/tmp/gh-aw as the workflow's earlier steps leave it (world-writable, as on a runner)."""
    if os.path.exists(GH_AW_TMP):
        pytest.skip(f"{GH_AW_TMP} exists on this machine; not touching it")
    os.makedirs(GH_AW_TMP)
    os.chmod(GH_AW_TMP, 0o1777)
    try:
        yield GH_AW_TMP
    finally:
        shutil.rmtree(GH_AW_TMP, ignore_errors=True)


def _owned_dir(path: str) -> str:
    os.makedirs(path, exist_ok=True)
    os.chown(path, RUNNER_UID, RUNNER_UID)
    return path


def _runner(vnet, argv: list[str], env: dict, timeout: float = 120) -> subprocess.CompletedProcess:
    """As the runner user (no capabilities, no sudo) in the vnet's host namespace."""
    setpriv = ["setpriv", f"--reuid={RUNNER_UID}", f"--regid={RUNNER_UID}", "--clear-groups"]
    return subprocess.run(vnet.host_cmd([*setpriv, *argv]), env=V.clean_env(env),
                          capture_output=True, text=True, timeout=timeout)


def _files_under(*roots: str) -> list[str]:
    out = []
    for root in roots:
        for d, dirs, files in os.walk(root):
            out.append(d)
            out += [os.path.join(d, f) for f in files]
    return out


def test_gh_aw_default_step_as_the_runner_user(vnet, docker, difc, gh_aw_tmp, nonce):
    if shutil.which("setpriv", path=V.SAFE_PATH) is None:
        pytest.skip("setpriv missing")
    base = _owned_dir(os.path.join(vnet.scratch_dir, f"runner-{nonce}"))
    home = _owned_dir(os.path.join(base, "home"))
    runner_temp = _owned_dir(os.path.join(base, "temp"))
    workspace = _owned_dir(os.path.join(base, "workspace"))
    _owned_dir(os.path.join(runner_temp, "gh-aw"))
    summary = os.path.join(runner_temp, "step-summary.md")
    config = f"{runner_temp}/gh-aw/awf-config.json"
    env = {"HOME": home, "RUNNER_TEMP": runner_temp, "GITHUB_WORKSPACE": workspace,
           "GH_AW_DOCKER_HOST": docker.host, "GITHUB_STEP_SUMMARY": summary,
           "GH_TOKEN": f"ghs_secret{nonce}"}
    # The sandbox's /tmp is its own: the test CA comes in through /tmp/gh-aw, which the
    # invocation mounts, as gh-aw passes its files (difc-proxy-tls/ca.crt).
    ca = os.path.join(gh_aw_tmp, "test-ca.pem")
    shutil.copyfile(vnet.ca_path, ca)
    os.chmod(ca, 0o644)
    agent = AGENT.format(ca=ca, nonce=nonce)
    os.makedirs(os.path.join(gh_aw_tmp, "difc-proxy-tls"))
    shutil.copyfile(difc["ca"], os.path.join(gh_aw_tmp, "difc-proxy-tls", "ca.crt"))
    # The runner user may use the Docker socket (gh-aw's runners: the docker group).
    os.chmod(docker.socket, 0o666)

    # The lock file's step, in bash as gh-aw writes it.
    step = (
        f"printf '%s' {shlex.quote(CONFIG)} > \"${{RUNNER_TEMP}}/gh-aw/awf-config.json\" && "
        f"{shlex.quote(AWF_BIN)} --dns-servers {V.DNS4} "  # the virtual internet's resolver
        '--config "${RUNNER_TEMP}/gh-aw/awf-config.json" --container-workdir "${GITHUB_WORKSPACE}" '
        '--mount "${RUNNER_TEMP}/gh-aw:${RUNNER_TEMP}/gh-aw:ro" '
        '--mount "${RUNNER_TEMP}/gh-aw:/host${RUNNER_TEMP}/gh-aw:ro" '
        '${GH_AW_TOOL_CACHE_MOUNT:+--mount "$GH_AW_TOOL_CACHE_MOUNT"} '
        '${GH_AW_DOCKER_HOST:+--docker-host "$GH_AW_DOCKER_HOST"} '
        "--tty --env-all --exclude-env ACTIONS_ID_TOKEN_REQUEST_TOKEN "
        "--exclude-env ACTIONS_ID_TOKEN_REQUEST_URL --exclude-env ANTHROPIC_API_KEY "
        "--exclude-env GH_TOKEN --exclude-env GITHUB_MCP_SERVER_TOKEN "
        "--mount /tmp/gh-aw:/tmp/gh-aw:rw --log-level info --skip-pull "
        "--difc-proxy-host awmg-cli-proxy:18443 "
        "--difc-proxy-ca-cert /tmp/gh-aw/difc-proxy-tls/ca.crt "
        f"-- /bin/bash -c {shlex.quote(agent)}"
    )
    r = _runner(vnet, ["bash", "-c", step], env)
    report = f"\nrc={r.returncode}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
    assert r.returncode == 7, report
    assert r.stderr.splitlines()[-1] == "Process exiting with code: 7", report
    assert "Fatal error" not in r.stderr, report
    assert D.PAGE in r.stdout, report                          # the MCP gateway, by name
    assert f"path=/agent-{nonce}" in r.stdout, report         # an allowed origin
    assert "blocked=403" in r.stdout, report                  # a denied one
    assert '"full_name": "o/r"' in r.stdout, report          # gh, through the DIFC proxy
    assert f"ghs_secret{nonce}" not in r.stdout, report
    assert os.path.exists(config)

    # The step summary, as gh-aw's next step makes it.
    s = _runner(vnet, ["bash", "-c", f"AWF_LOGS_DIR={LOGS_DIR} {shlex.quote(AWF_BIN)} logs "
                       'summary >> "$GITHUB_STEP_SUMMARY"'], env)
    assert s.returncode == 0, s.stderr
    text = open(summary).read()
    assert "blocked.test" in text and "allowed.test" in text, text

    # What gh-aw uploads: the logs, the audit directory; all the runner user's.
    for name in ("access.log", "audit.jsonl"):
        assert os.path.getsize(os.path.join(LOGS_DIR, name)) > 0, name
    assert os.path.exists(os.path.join(AUDIT_DIR, "policy-manifest.json"))
    files = _files_under(LOGS_DIR, AUDIT_DIR) + [summary]
    assert files, "no output files"
    not_owned = [f for f in files if os.stat(f).st_uid != RUNNER_UID]
    assert not not_owned, not_owned
