"""The GitHub CLI proxy (issue 17, --difc-proxy-host/--difc-proxy-ca-cert): the sandbox's `gh`
is awf's client of the executor on 127.0.0.1:11000 (AWF's /exec and /health protocol); awf runs
the real gh (Debian's package) outside the sandbox with GH_HOST=localhost:P, the token from its
own environment and a CA bundle of the system roots plus the given CA.

The DIFC proxy is fake_difc_proxy.py: HTTPS on 127.0.0.1:P of the vnet's host namespace (where
awf runs), its certificate for localhost signed by a CA made here. Its log records every request
with the Authorization header it got.

Traffic rule: gh reaches only that server on the host namespace's loopback.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
import uuid

import pytest

import fake_difc_proxy
import vnet as V

PORT = 18443
GH = shutil.which("gh", path=V.SAFE_PATH)
TOKEN_VARS = ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_PERSONAL_ACCESS_TOKEN", "COPILOT_GITHUB_TOKEN",
              "GITHUB_API_TOKEN", "GITHUB_PAT", "GH_ACCESS_TOKEN")

if GH is None and os.environ.get("CI"):
    raise RuntimeError("the CLI proxy tests need Debian's gh package (scripts/install-deps.sh)")
pytestmark = pytest.mark.skipif(GH is None, reason="the GitHub CLI (Debian package gh) is not "
                                "installed: scripts/install-deps.sh installs it")

for _name in TOKEN_VARS:
    os.environ.pop(_name, None)


# ------------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def difc(vnet):
    certs = fake_difc_proxy.make_certs(os.path.join(vnet.run_dir, "difc"))
    proc = fake_difc_proxy.start(vnet, certs, PORT)
    try:
        yield certs
    finally:
        vnet.stop_host_service(proc)


@pytest.fixture
def token():
    return "ghp_" + uuid.uuid4().hex + "TOKEN"


def difc_args(difc) -> list[str]:
    return ["--difc-proxy-host", f"localhost:{PORT}", "--difc-proxy-ca-cert", difc["ca"]]


def requests_since(difc, mark: int) -> list[dict]:
    with open(difc["log"], "rb") as f:
        f.seek(mark)
        return [json.loads(l) for l in f.read().decode().splitlines() if l.strip()]


def mark_of(difc) -> int:
    return os.path.getsize(difc["log"]) if os.path.exists(difc["log"]) else 0


def access_records(res) -> list[dict]:
    return V.read_jsonl(os.path.join(res.logs_dir, "cli-proxy-logs", "access.jsonl"))


def files_text(*dirs: str) -> dict[str, str]:
    out = {}
    for d in dirs:
        for root, _, files in os.walk(d):
            for name in files:
                path = os.path.join(root, name)
                try:
                    with open(path, "rb") as f:
                        out[path] = f.read().decode("latin-1")
                except OSError:
                    pass
    return out


# ---------------------------------------------------------------------------------------- tests
def test_gh_api_round_trips_with_the_real_token(awf, difc, token):
    mark = mark_of(difc)
    res = awf(difc_args(difc), "command -v gh; echo URL=$AWF_CLI_PROXY_URL; gh api repos/o/r",
              env={"GH_TOKEN": token}, timeout=90)
    assert res.rc == 0, res.describe()
    assert res.stdout.splitlines()[0] == "/run/awf/cli-proxy/gh", res.describe()
    assert "URL=http://127.0.0.1:11000" in res.stdout
    assert json.loads(res.stdout.splitlines()[-1]) == {"full_name": "o/r", "id": 1}
    seen = requests_since(difc, mark)
    # The start-up probe first, then the command's call, each with the real token.
    assert [r["path"] for r in seen] == ["/api/v3/rate_limit", "/api/v3/repos/o/r"], seen
    assert all(r["authorization"] == f"token {token}" for r in seen), seen
    records = access_records(res)
    assert [r["event"] for r in records] == ["exec_start", "exec_done"], records
    assert records[1]["args"] == ["api", "repos/o/r"] and records[1]["exitCode"] == 0
    assert all(r["_schema"].startswith("cli-proxy-access/v") for r in records)


def test_github_token_is_used_when_gh_token_is_absent(awf, difc, token):
    mark = mark_of(difc)
    res = awf(difc_args(difc), "gh api repos/o/r", env={"GITHUB_TOKEN": token}, timeout=90)
    assert res.rc == 0, res.describe()
    assert {r["authorization"] for r in requests_since(difc, mark)} == {f"token {token}"}


def test_stdin_and_exit_code_pass_through(awf, difc, token):
    mark = mark_of(difc)
    script = ("echo '{\"title\":\"from stdin\"}' | gh api -X POST repos/o/r/issues --input -; "
              "echo RC1=$?; gh api repos/o/missing; echo RC2=$?")
    res = awf(difc_args(difc), script, env={"GH_TOKEN": token}, timeout=90)
    assert res.rc == 0, res.describe()
    assert '"got": "{\\"title\\":\\"from stdin\\"}\\n"' in res.stdout or \
        '"got":"{\\"title\\":\\"from stdin\\"}\\n"' in res.stdout, res.stdout
    assert "RC1=0" in res.stdout
    assert "RC2=1" in res.stdout, res.describe()  # gh's own exit code for an HTTP 404
    assert "HTTP 404" in res.stderr
    posts = [r for r in requests_since(difc, mark) if r["method"] == "POST"]
    assert posts and posts[0]["body"].startswith('{"title":"from stdin"}')


def test_refused_subcommands_exit_nonzero_and_are_logged(awf, difc, token):
    mark = mark_of(difc)
    script = ("gh auth status; echo RC=$?; gh config set editor vi; echo RC=$?; "
              "gh alias set x 'api user'; echo RC=$?; gh extension install o/gh-x; echo RC=$?; "
              "gh --repo o/r ext list; echo RC=$?")
    res = awf(difc_args(difc), script, env={"GH_TOKEN": token}, timeout=90)
    assert res.rc == 0, res.describe()
    assert res.stdout.split() == ["RC=1"] * 5, res.describe()
    for name in ("auth", "config", "alias", "extension", "ext"):
        assert f"gh: Subcommand '{name}' is not permitted" in res.stderr, res.describe()
    denied = [r for r in access_records(res) if r["event"] == "exec_denied"]
    assert [r["args"][0] if r["args"][0] != "--repo" else r["args"][2] for r in denied] == \
        ["auth", "config", "alias", "extension", "ext"], denied
    # Only the start-up probe reached the DIFC proxy.
    assert [r["path"] for r in requests_since(difc, mark)] == ["/api/v3/rate_limit"]


def test_agent_cannot_set_the_protected_variables(awf, difc, token, vnet):
    """A raw /exec with GH_HOST, GH_TOKEN, SSL_CERT_FILE and GH_CONFIG_DIR in its env, and the
    same variables in the client's own environment: gh still reaches the DIFC proxy with the
    real token. GET /health answers as AWF's."""
    mark = mark_of(difc)
    body = json.dumps({"args": ["api", "repos/o/r"], "cwd": "/", "stdin": None,
                       "env": {"GH_HOST": "evil.test", "GH_TOKEN": "agent-token",
                               "GITHUB_TOKEN": "agent-token", "SSL_CERT_FILE": "/dev/null",
                               "GH_CONFIG_DIR": "/tmp", "GH_REPO": "o/r"}})
    script = (f"curl -sS --noproxy '*' http://127.0.0.1:11000/health; echo; "
              f"curl -sS --noproxy '*' -X POST --data-binary @- http://127.0.0.1:11000/exec "
              f"<<'EOF'\n{body}\nEOF\necho; "
              "GH_HOST=evil.test GH_TOKEN=agent-token gh api repos/o/r")
    res = awf(difc_args(difc), script, env={"GH_TOKEN": token}, timeout=90)
    assert res.rc == 0, res.describe()
    lines = res.stdout.splitlines()
    assert json.loads(lines[0]) == {"status": "ok", "service": "cli-proxy"}
    answer = json.loads(lines[1])
    assert answer["exitCode"] == 0 and json.loads(answer["stdout"])["full_name"] == "o/r", answer
    seen = requests_since(difc, mark)
    assert len(seen) == 3, seen
    assert {r["authorization"] for r in seen} == {f"token {token}"}


def test_bad_requests_are_refused_with_awf_status_codes(awf, difc, token):
    script = ("for body in 'nope' '{\"args\":\"pr\"}' '{\"args\":[1]}'; do "
              "curl -s -o /dev/null -w '%{http_code} ' --noproxy '*' -X POST -d \"$body\" "
              "http://127.0.0.1:11000/exec; done; "
              "head -c 1100000 /dev/zero | tr '\\0' a > /tmp/big; "
              "curl -s -o /dev/null -w '%{http_code} ' --noproxy '*' -X POST --data-binary @/tmp/big "
              "http://127.0.0.1:11000/exec; "
              "curl -s -o /dev/null -w '%{http_code}' --noproxy '*' http://127.0.0.1:11000/other")
    res = awf(difc_args(difc), script, env={"GH_TOKEN": token}, timeout=90)
    assert res.stdout.split() == ["400", "400", "400", "413", "404"], res.describe()
    errors = [r for r in access_records(res) if r["event"] == "exec_error"]
    assert len(errors) == 4, errors


def test_probe_failure_fails_the_run_before_the_command(awf, difc, token):
    res = awf(["--difc-proxy-host", "localhost:18999", "--difc-proxy-ca-cert", difc["ca"]],
              "echo COMMAND-RAN", env={"GH_TOKEN": token, "AWF_CLI_PROXY_LIVENESS_ATTEMPTS": "2"},
              timeout=90)
    assert res.rc != 0, res.describe()
    assert "COMMAND-RAN" not in res.stdout
    assert "Fatal error: --difc-proxy-host localhost:18999: the DIFC proxy did not answer" in \
        res.stderr, res.describe()
    assert token not in res.stderr


def test_gh_aw_host_name_reaches_the_proxy_published_on_localhost(awf, difc, token):
    """gh-aw passes the DIFC proxy's container name and publishes it on 127.0.0.1:18443; its
    invocation also withholds GH_TOKEN from --env-all, which awf's executor still uses."""
    mark = mark_of(difc)
    res = awf(["--difc-proxy-host", f"awmg-cli-proxy:{PORT}", "--difc-proxy-ca-cert", difc["ca"],
               "--env-all", "--exclude-env", "GH_TOKEN"], "gh api repos/o/r",
              env={"GH_TOKEN": token}, timeout=90)
    assert res.rc == 0 and '"full_name": "o/r"' in res.stdout, res.describe()
    assert {r["authorization"] for r in requests_since(difc, mark)} == {f"token {token}"}
    res = awf(["--difc-proxy-host", "awmg-cli-proxy:18999", "--difc-proxy-ca-cert", difc["ca"]],
              "true", env={"GH_TOKEN": token, "AWF_CLI_PROXY_LIVENESS_ATTEMPTS": "1"})
    assert res.rc == 1 and "publish it there" in res.stderr, res.describe()


def test_untrusted_certificate_fails_the_probe(awf, difc, token, vnet):
    """Control for the CA: the vnet's own CA does not sign the DIFC proxy's certificate."""
    res = awf(["--difc-proxy-host", f"localhost:{PORT}", "--difc-proxy-ca-cert", vnet.ca_path],
              "echo COMMAND-RAN", env={"GH_TOKEN": token, "AWF_CLI_PROXY_LIVENESS_ATTEMPTS": "1"},
              timeout=90)
    assert res.rc != 0 and "COMMAND-RAN" not in res.stdout, res.describe()
    assert "Fatal error:" in res.stderr and "certificate" in res.stderr, res.describe()


def test_missing_token_or_ca_file_is_a_usage_error(awf, difc, vnet):
    res = awf(difc_args(difc), "true")
    assert res.rc == 1
    assert "Fatal error: --difc-proxy-host needs the GitHub token in awf's environment " \
           "(GH_TOKEN or GITHUB_TOKEN)" in res.stderr, res.describe()
    res = awf(["--difc-proxy-host", f"localhost:{PORT}", "--difc-proxy-ca-cert",
               os.path.join(vnet.run_dir, "no-such-ca.crt")], "true", env={"GH_TOKEN": "t"})
    assert res.rc == 1 and "--difc-proxy-ca-cert" in res.stderr and "not a readable PEM" in \
        res.stderr, res.describe()


def test_no_token_in_the_sandbox_or_the_logs(awf, difc, token):
    """Every GitHub token variable, also asked for with --env-all and -e: none is in the
    command's environment, any process's /proc environ, the files it sees, awf's own environ
    (read from outside while the command runs) or awf's logs. The control: the DIFC proxy's
    log holds the token, so the scan finds it where it is."""
    env = {name: f"{token}-{name}" for name in TOKEN_VARS}
    env["GH_TOKEN"] = token
    script = ("env; cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n'; "
              f"grep -rlD skip {token} /tmp /run /etc \"$HOME\" 2>/dev/null | head; "
              "gh api repos/o/r; sleep 3")
    mark = mark_of(difc)
    p = awf.popen(difc_args(difc) + ["--env-all", "-e", f"GH_TOKEN={token}"], script, env=env,
                  stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    awf_environ = b""
    while time.monotonic() < deadline and p.poll() is None:
        try:
            with open(f"/proc/{p.pid}/environ", "rb") as f:
                awf_environ = f.read()
        except OSError:
            pass
        if mark_of(difc) > mark + 200:  # the command's call arrived: awf is serving
            break
        time.sleep(0.2)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err.decode()
    assert b"GH_TOKEN=" in awf_environ and token.encode() not in awf_environ
    texts = {"stdout": out.decode("latin-1"), "stderr": err.decode("latin-1")}
    texts.update(files_text(p.logs_dir))
    leaks = [name for name, text in texts.items() if token in text]
    assert leaks == [], leaks
    assert '"full_name": "o/r"' in texts["stdout"]
    with open(difc["log"]) as f:
        assert token in f.read()


def test_without_the_proxy_gh_is_the_hosts_and_no_url_is_set(awf):
    res = awf([], "command -v gh; echo URL=${AWF_CLI_PROXY_URL:-unset}")
    assert res.rc == 0, res.describe()
    assert res.stdout.split() == [GH, "URL=unset"]


@pytest.fixture
def tiny_disk(vnet):
    path = os.path.join(vnet.run_dir, f"tiny-{uuid.uuid4().hex[:8]}")
    os.makedirs(path)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k,mode=0755", "tmpfs", path], check=True)
    yield path
    subprocess.run(["umount", "-l", path], check=False)


def test_no_gh_call_without_its_record(awf, difc, token, tiny_disk):
    """The logs on a 16 KiB tmpfs, gh calls with 3 KB arguments: once access.jsonl cannot take
    a call's exec_start line, the call is refused (503, the client says why) and never reaches
    the DIFC proxy. Every call the proxy saw has its record."""
    pad = "X-Pad:" + "a" * 3000
    script = ("for i in $(seq 1 8); do gh api repos/o/r -H " + pad + " >/dev/null; "
              "echo RC=$?; done")
    mark = mark_of(difc)
    res = awf(difc_args(difc), script, env={"GH_TOKEN": token}, logs_dir=tiny_disk, timeout=120)
    codes = res.stdout.split()
    assert "RC=0" in codes and "RC=1" in codes, res.describe()
    assert "the CLI proxy cannot write its access log (No space left on device)" in res.stderr
    calls = [r for r in requests_since(difc, mark) if r["path"] == "/api/v3/repos/o/r"]
    with open(os.path.join(tiny_disk, "cli-proxy-logs", "access.jsonl"), "rb") as f:
        starts = [l for l in f.read().splitlines() if b'"event":"exec_start"' in l]
    assert len(calls) == codes.count("RC=0") == len(starts), (len(calls), codes, len(starts))


def test_executor_runs_gh_as_the_sudo_user_with_its_own_environment(awf, vnet, difc, token):
    """Under sudo (SUDO_UID/SUDO_GID), gh runs as that user, in awf's private directory, with an
    environment built from nothing: a stub gh first on awf's PATH prints what it got (the real
    gh cannot show it). awf's other variables (AWF_TEST_MARK) do not reach it."""
    stub_dir = os.path.join(vnet.run_dir, f"stub-gh-{uuid.uuid4().hex[:8]}")
    os.makedirs(stub_dir)
    os.chmod(stub_dir, 0o755)
    stub = os.path.join(stub_dir, "gh")
    with open(stub, "w") as f:
        f.write("#!/bin/sh\necho \"uid=$(id -u) gid=$(id -g) cwd=$(pwd) "
                "token=${GH_TOKEN:+set}${GH_ENTERPRISE_TOKEN:+,enterprise}\"\n"
                "env | grep -v -e '^GH_TOKEN=' -e '^GH_ENTERPRISE_TOKEN=' | sort\n")
    os.chmod(stub, 0o755)
    res = awf(difc_args(difc), "gh api repos/o/r",
              env={"GH_TOKEN": token, "SUDO_UID": "4242", "SUDO_GID": "4343",
                   "AWF_TEST_MARK": "1", "GITHUB_REPOSITORY": "o/r",
                   "PATH": stub_dir + ":" + V.SAFE_PATH})
    assert res.rc == 0, res.describe()
    first, *env_lines = res.stdout.splitlines()
    assert first.startswith("uid=4242 gid=4343 cwd=/tmp/awf-gh-"), first
    assert first.endswith("token=set,enterprise"), first
    env = dict(line.split("=", 1) for line in env_lines if "=" in line)
    home = first.split("cwd=")[1].split()[0]
    assert env["GH_HOST"] == f"localhost:{PORT}"
    assert env["GH_REPO"] == "o/r"
    assert env["HOME"] == home and env["GH_CONFIG_DIR"] == home + "/config"
    assert env["SSL_CERT_FILE"] == env["GIT_SSL_CAINFO"] == home + "/ca-bundle.pem"
    assert "AWF_TEST_MARK" not in env and "SUDO_UID" not in env, env
    assert token not in res.stdout
    assert not os.path.exists(home), "gh's directory outlives the run"


def test_sigkilled_awf_leaves_gh_directory_to_the_next_run(awf, difc, token):
    """awf's gh directory (/tmp/awf-gh-<pid>-*) cannot be removed by a SIGKILLed awf; the next
    run with the CLI proxy removes it. A directory of a live awf stays."""
    def homes():
        return {n for n in os.listdir("/tmp") if n.startswith("awf-gh-")}

    before = homes()
    p = awf.popen(difc_args(difc), "sleep 30", env={"GH_TOKEN": token})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (homes() - before):
        time.sleep(0.1)
    left = homes() - before
    assert len(left) == 1 and next(iter(left)).startswith(f"awf-gh-{p.pid}-"), left
    live = awf.popen(difc_args(difc), "sleep 30", env={"GH_TOKEN": token})
    while time.monotonic() < deadline and len(homes() - before) < 2:
        time.sleep(0.1)
    os.kill(p.pid, signal.SIGKILL)
    p.wait(timeout=10)
    assert left <= homes(), "the SIGKILLed run's directory is already gone (control)"
    res = awf(difc_args(difc), "true", env={"GH_TOKEN": token})
    assert res.rc == 0, res.describe()
    now = homes()
    assert not (left & now), now
    assert any(n.startswith(f"awf-gh-{live.pid}-") for n in now), now
    os.killpg(live.pid, signal.SIGTERM)
    live.communicate(timeout=30)
    assert homes() <= before
