"""AWF v0.28's structured config file (--config) and command line, black-box: gh-aw's profiles,
JSON/YAML/stdin, precedence, closed-world errors, every AWF flag name, runtimes, mistyped
subcommands and the "Fatal error:" lines gh-aw's retry looks for.

Every refusal also proves the command did not run (a marker file it would have created).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

import vnet as V

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "gh-aw")
MIRROR = "/work/.mirror/github+gh-aw-firewall/repo"
EXIT_LINE = re.compile(r"^Process exiting with code: (-?\d+)\s*$")
DEBUG_LINE = re.compile(r"awf: \d+ allow and \d+ block rules")


# ---------------------------------------------------------------------------------- helpers
def fixture(name: str) -> dict:
    with open(os.path.join(FIXTURES, name)) as f:
        return json.load(f)


def write(vnet, name: str, text: str) -> str:
    path = os.path.join(vnet.scratch_dir, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return path


def runnable(vnet, nonce, profile: str, allow=("allowed.test",)) -> dict:
    """A gh-aw profile made runnable here: vnet domains, no topology peers (no Docker here),
    output directories under the scratch directory."""
    cfg = fixture(profile)
    net = cfg.setdefault("network", {})
    net["allowDomains"] = list(allow)
    net.pop("topologyAttach", None)
    logging = cfg.setdefault("logging", {})
    logging["auditDir"] = os.path.join(vnet.scratch_dir, f"audit-{nonce}")
    if "sessionStateDir" in logging:
        logging["sessionStateDir"] = os.path.join(vnet.scratch_dir, f"session-{nonce}")
    return cfg


def curl_code(awf_, url: str) -> str:
    return f"{' '.join(awf_.curl('-o', '/dev/null', '-w', '%{http_code}', max_time=10))} {url}"


def reach(awf_) -> str:
    return (f"echo allowed=$({curl_code(awf_, 'https://allowed.test/')});"
            f" echo other=$({curl_code(awf_, 'https://other.test/')})")


def assert_allowlist(r, allowed="allowed", denied="other"):
    assert r.rc == 0, r.describe()
    assert f"{allowed}=200" in r.stdout, r.describe()
    assert f"{denied}=200" not in r.stdout, r.describe()


def assert_fatal(r, *needles):
    """exit 1, a 'Fatal error: ' line holding every needle, the exit line last."""
    assert r.rc == 1, r.describe()
    fatal = [line for line in r.stderr_lines if line.startswith("Fatal error: ")]
    assert len(fatal) == 1, r.describe()
    for needle in needles:
        assert needle in fatal[0], f"{needle!r} not in {fatal[0]!r}" + r.describe()
    m = EXIT_LINE.match(r.last_stderr_line)
    assert m and int(m.group(1)) == 1, r.describe()


def refused(awf, vnet, nonce, args, *needles, input=None):
    marker = os.path.join(vnet.scratch_dir, f"ran-{nonce}")
    r = awf(args, ["touch", marker], input=input)
    assert_fatal(r, *needles)
    assert not os.path.exists(marker), "the command ran despite the error" + r.describe()
    return r


def notices(r) -> list[str]:
    return [line for line in r.stderr_lines
            if re.match(r"awf: \S+ (has no effect in awf|is not yet built in awf): ", line)]


# ------------------------------------------------------------------------- gh-aw profiles
def test_default_profile_from_a_file(awf, vnet, nonce):
    cfg = runnable(vnet, nonce, "default-strict.json")
    path = write(vnet, f"awf-config-{nonce}.json", json.dumps(cfg))
    r = awf(["--config", path], reach(awf))
    assert_allowlist(r)
    # One notice per key awf does not act on, naming the key (apiProxy.models and the budgets
    # are honoured).
    lines = notices(r)
    for key in ["container.imageTag"]:
        assert sum(1 for line in lines if f"config.{key} " in line) == 1, key + r.describe()
    for key in ["apiProxy.models", "apiProxy.maxRuns", "apiProxy.maxAiCredits",
                "apiProxy.maxCacheMisses", "apiProxy.enableTokenSteering"]:
        assert not any(f"config.{key} " in line for line in lines), key + r.describe()
    assert sum(1 for line in r.stderr_lines
               if "config.container.containerRuntime gvisor: awf provides Linux namespaces"
               in line) == 1, r.describe()
    assert os.path.isfile(os.path.join(cfg["logging"]["auditDir"], "policy-manifest.json")), \
        r.describe()


def test_default_profile_from_stdin(awf, vnet, nonce):
    cfg = runnable(vnet, nonce, "default-strict.json")
    r = awf(["--config", "-"], reach(awf), input=json.dumps(cfg).encode())
    assert_allowlist(r)


def test_gh_aw_command_line(awf, vnet, nonce):
    """AWF-COMPAT §1: the whole default invocation gh-aw emits, with its config file."""
    temp = os.path.join(vnet.scratch_dir, f"runner-temp-{nonce}")
    workspace = os.path.join(vnet.scratch_dir, f"workspace-{nonce}")
    for d in (temp, workspace):
        os.makedirs(d)
        os.chmod(d, 0o755)
    cfg = runnable(vnet, nonce, "default-strict.json")
    path = write(vnet, f"awf-config-{nonce}.json", json.dumps(cfg))
    args = ["--config", path, "--container-workdir", workspace,
            "--mount", f"{temp}:{temp}:ro", "--mount", f"{temp}:/host{temp}:ro",
            "--tty", "--env-all",
            "--exclude-env", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "--exclude-env", "ACTIONS_ID_TOKEN_REQUEST_URL", "--exclude-env", "ANTHROPIC_API_KEY",
            "--exclude-env", "GH_TOKEN", "--exclude-env", "GITHUB_MCP_SERVER_TOKEN",
            "--log-level", "info", "--skip-pull"]  # --difc-proxy-*: test_cli_proxy.py
    r = awf(args, ["/bin/bash", "-c", f"pwd; test -d /host{temp} && echo mounted; " + reach(awf)])
    assert_allowlist(r)
    assert r.stdout.startswith(workspace + "\n") and "mounted" in r.stdout, r.describe()
    lines = notices(r)
    assert sum(1 for line in lines if line.startswith("awf: --skip-pull ")) == 1, r.describe()


def test_copilot_profile_keeps_session_state(awf, vnet, nonce):
    cfg = runnable(vnet, nonce, "copilot-session-state.json")
    path = write(vnet, f"awf-config-{nonce}.json", json.dumps(cfg))
    r = awf(["--config", path], reach(awf))
    assert_allowlist(r)
    assert not any("sessionStateDir" in line for line in notices(r)), r.describe()


def test_legacy_profile_with_host_access(awf, vnet, nonce):
    cfg = runnable(vnet, nonce, "legacy-host-access.json")
    # gh-aw lists the job's service ports (5432, 6379 in the fixture); as AWF, they bypass the
    # dangerous-ports list, with a warning each.
    path = write(vnet, f"awf-config-{nonce}.json", json.dumps(cfg))
    r = awf(["--config", path], reach(awf))
    assert_allowlist(r)
    for port in ("5432", "6379"):
        assert any(line.startswith(f"awf: warning: --allow-host-service-ports opens port {port} ")
                   for line in r.stderr_lines), r.describe()
    assert any(line.startswith("awf: config.security.legacySecurity has no effect in awf: ")
               for line in r.stderr_lines), r.describe()


def test_full_default_fixture_passes_the_config_checks(awf, vnet, nonce):
    """The fixture as gh-aw writes it (topology peers included): whatever a later step says of
    the peers (there is no Docker here), the file itself is accepted."""
    cfg = fixture("default-strict.json")
    cfg["logging"]["auditDir"] = os.path.join(vnet.scratch_dir, f"audit-{nonce}")
    path = write(vnet, f"awf-config-{nonce}.json", json.dumps(cfg))
    r = awf(["--config", path], ["true"])
    assert "--config" not in "\n".join(l for l in r.stderr_lines if l.startswith("Fatal")), \
        r.describe()


def test_cloud_hypervisor_profile_is_refused(awf, vnet, nonce):
    path = write(vnet, f"awf-config-{nonce}.json", json.dumps(fixture("cloud-hypervisor.json")))
    refused(awf, vnet, nonce, ["--config", path],
            "config.container.containerRuntime cloud-hypervisor asks for a microVM",
            "not a VM")


@pytest.mark.parametrize("runtime", ["cloud-hypervisor", "nvx"])
def test_microvm_runtime_flag_is_refused(awf, vnet, nonce, runtime):
    refused(awf, vnet, nonce, ["--container-runtime", runtime, "--cloud-hypervisor-vcpus", "2"],
            f"--container-runtime {runtime} asks for a microVM")


@pytest.mark.parametrize("runtime,says", [
    ("docker", "its own namespace sandbox"), ("gvisor", "not gVisor's user-space kernel"),
    ("sbx", "not Docker sbx's microVM")])
def test_other_runtimes_run_with_one_line(awf, runtime, says):
    r = awf(["--container-runtime", runtime], ["echo", "ran"])
    assert r.rc == 0 and r.stdout == "ran\n", r.describe()
    assert sum(1 for line in r.stderr_lines if says in line) == 1, r.describe()


def test_unknown_runtime_lists_the_valid_ones(awf, vnet, nonce):
    refused(awf, vnet, nonce, ["--container-runtime", "runc"],
            "expected docker, gvisor, sbx, cloud-hypervisor or nvx")


def test_cloud_hypervisor_flags_alone_give_a_notice(awf):
    r = awf(["--cloud-hypervisor-vcpus", "4", "--cloud-hypervisor-preview"], ["echo", "ran"])
    assert r.rc == 0 and r.stdout == "ran\n", r.describe()
    assert len([l for l in notices(r) if "awf runs no microVM" in l]) == 2, r.describe()


# ------------------------------------------------------------------------------ syntaxes
@pytest.mark.parametrize("name", ["cfg.yaml", "cfg.yml", "cfg"])
def test_yaml_config(awf, vnet, nonce, name):
    path = write(vnet, f"{nonce}-{name}",
                 "# gh-aw writes JSON; people write YAML\n"
                 "$schema: https://example.invalid/awf-config.schema.json\n"
                 "network:\n  allowDomains:\n    - allowed.test\n"
                 "logging:\n  logLevel: debug\n")
    r = awf(["--config", path], reach(awf))
    assert_allowlist(r)
    assert DEBUG_LINE.search(r.stderr), r.describe()


def test_json_file_must_be_json(awf, vnet, nonce):
    path = write(vnet, f"cfg-{nonce}.json", "network:\n  allowDomains: [allowed.test]\n")
    refused(awf, vnet, nonce, ["--config", path], "not valid JSON")


# ---------------------------------------------------------------------------- precedence
def test_command_line_list_replaces_the_files(awf, vnet, nonce):
    path = write(vnet, f"cfg-{nonce}.json", json.dumps({
        "network": {"allowDomains": ["other.test"]}, "logging": {"logLevel": "debug"}}))
    r = awf(["--config", path, "-d", "allowed.test", "--log-level", "error"], reach(awf))
    assert_allowlist(r)
    assert not DEBUG_LINE.search(r.stderr), r.describe()


def test_config_alone_applies_its_list(awf, vnet, nonce):
    path = write(vnet, f"cfg-{nonce}.json", json.dumps({"network": {"allowDomains": ["other.test"]}}))
    r = awf(["--config", path], reach(awf))
    assert_allowlist(r, allowed="other", denied="allowed")


def test_mounts_on_the_command_line_replace_container_mounts(awf, vnet, nonce):
    a = os.path.join(vnet.scratch_dir, f"mnt-a-{nonce}")
    b = os.path.join(vnet.scratch_dir, f"mnt-b-{nonce}")
    for d in (a, b):
        os.makedirs(d)
        os.chmod(d, 0o755)
    path = write(vnet, f"cfg-{nonce}.json", json.dumps({
        "network": {"allowDomains": ["allowed.test"]},
        "container": {"mounts": [f"{a}:/cfg-mount:ro"]}}))
    r = awf(["--config", path, "--mount", f"{b}:/cli-mount:ro"],
            "test -d /cli-mount && echo cli; test -d /cfg-mount && echo cfg; true")
    assert r.rc == 0 and "cli" in r.stdout and "cfg" not in r.stdout, r.describe()


def test_empty_list_unsets(awf, vnet, nonce):
    path = write(vnet, f"cfg-{nonce}.json", json.dumps({"network": {"allowDomains": []}}))
    r = awf(["--config", path], reach(awf))
    assert r.rc == 0, r.describe()
    assert "allowed=200" not in r.stdout and "other=200" not in r.stdout, r.describe()
    assert "all network access is denied" in r.stderr, r.describe()


def test_single_value_flag_given_twice_last_wins(awf):
    r = awf(["-d", "allowed.test", "--log-level", "debug", "--log-level", "error"],
            ["echo", "ran"])
    assert r.rc == 0 and r.stdout == "ran\n", r.describe()
    assert not DEBUG_LINE.search(r.stderr), r.describe()
    r = awf(["-d", "allowed.test", "--log-level", "error", "--log-level", "debug"],
            ["echo", "ran"])
    assert r.rc == 0 and DEBUG_LINE.search(r.stderr), r.describe()


# ------------------------------------------------------------------------------- refusals
@pytest.mark.parametrize("cfg,needle", [
    ({"network": {"foo": 1}}, "config.network.foo is not supported"),
    ({"network": {"allowDomains": ["allowed.test"]}, "colour": "blue"},
     "config.colour is not supported"),
    ({"apiProxy": {"targets": {"openai": {"port": 443}}}},
     "config.apiProxy.targets.openai.port is not supported"),
    ({"network": {"allowDomains": "allowed.test"}},
     "config.network.allowDomains must be a list"),
    ({"container": {"pidsLimit": "many"}}, "config.container.pidsLimit must be a whole number"),
    ({"container": {"containerRuntime": "runc"}},
     "config.container.containerRuntime must be docker, gvisor, sbx, cloud-hypervisor or nvx"),
    ({"logging": {"logLevel": "loud"}}, "config.logging.logLevel must be debug, info, warn or error"),
    ({"apiProxy": {"maxRuns": 0}}, "config.apiProxy.maxRuns must be at least 1"),
    ({"network": {"topologyAttach": ["peer"]}},
     "config.network.topologyAttach needs config.network.isolation: true"),
], ids=["unknown-key", "unknown-section", "unknown-nested", "wrong-type", "not-integer",
        "bad-runtime-enum", "bad-level-enum", "below-minimum", "cross-rule"])
def test_config_refusals(awf, vnet, nonce, cfg, needle):
    path = write(vnet, f"cfg-{nonce}.json", json.dumps(cfg))
    refused(awf, vnet, nonce, ["--config", path], f"--config '{path}'", needle)


def test_config_refusal_from_stdin(awf, vnet, nonce):
    refused(awf, vnet, nonce, ["--config", "-"], "config.network.foo is not supported",
            input=b'{"network": {"foo": true}}')


@pytest.mark.parametrize("args,needle", [
    (["--allow-host-ports", "80"], "--allow-host-ports needs --enable-host-access"),
    (["--no-such-flag"], "unknown option '--no-such-flag'"),
    (["--alow-domains", "allowed.test"], "did you mean --allow-domains?"),
    (["--no-enable-api-proxy"], "--no-enable-api-proxy is not allowed"),
    (["--rate-limit-rpm", "0"], "--rate-limit-rpm '0': expected a positive whole number"),
    (["--difc-proxy-host", "awmg-cli-proxy"], "--difc-proxy-host 'awmg-cli-proxy': expected HOST:PORT"),
], ids=["needs-host-access", "unknown", "typo", "no-api-proxy", "rate-limit", "difc-host"])
def test_usage_errors_are_fatal_errors(awf, vnet, nonce, args, needle):
    r = refused(awf, vnet, nonce, args, needle)
    assert "Run 'awf --help' for usage." in r.stderr_lines, r.describe()
    assert "awf: error" not in r.stderr, r.describe()


def test_missing_value_in_awf_words(awf):
    r = awf(["--log-level"], None)
    assert_fatal(r, "--log-level needs a value")
    assert "required" not in r.stderr and "missing" not in r.stderr, r.describe()


# --------------------------------------------------------------------- every AWF flag name
FALLBACK_FLAGS = """
--config <path> -d, --allow-domains <domains> --allow-domains-file <path> --ruleset-file <path>
--block-domains <domains> --block-domains-file <path> --ssl-bump --allow-urls <urls>
-b, --build-local --agent-image <value> --image-registry <registry> --image-tag <tag> --skip-pull
--docker-host <socket> --docker-host-path-prefix <prefix> --container-runtime <runtime>
--cloud-hypervisor-preview --cloud-hypervisor-binary <path> --cloud-hypervisor-kernel <path>
--cloud-hypervisor-rootfs <path> --cloud-hypervisor-supervisor <path>
--cloud-hypervisor-vcpus <count> --cloud-hypervisor-memory-mib <mib>
--cloud-hypervisor-api-timeout-ms <ms> --cloud-hypervisor-binary-sha256 <digest>
--cloud-hypervisor-virtiofsd-sha256 <digest> --cloud-hypervisor-kernel-sha256 <digest>
--cloud-hypervisor-rootfs-sha256 <digest> --cloud-hypervisor-supervisor-sha256 <digest>
-e, --env <KEY=VALUE> --env-all --exclude-env <name> --env-file <path>
-v, --mount <host_path:container_path[:mode]> --container-workdir <dir> --memory-limit <limit>
--pids-limit <limit> --tty --dns-servers <servers> --dns-over-https [resolver-url]
--upstream-proxy <url> --enable-host-access --network-isolation --no-network-isolation
--topology-attach <name> --allow-host-ports <ports> --allow-host-service-ports <ports>
--enable-dind --legacy-security --security-mode <mode> --enable-dlp --enable-api-proxy
--no-enable-api-proxy --copilot-api-target <host> --openai-api-target <host>
--openai-base-url-env <name> --openai-api-base-path <path> --anthropic-api-target <host>
--anthropic-api-base-path <path> --openai-api-auth-header <name> --anthropic-api-auth-header <name>
--gemini-api-target <host> --gemini-api-base-path <path> --vertex-api-target <host>
--vertex-api-base-path <path> --anthropic-auto-cache --anthropic-cache-tail-ttl <5m|1h>
--rate-limit-rpm <n> --rate-limit-rph <n> --rate-limit-bytes-pm <n> --no-rate-limit
--max-model-multiplier <model:multiplier,...> --max-model-multiplier-cap <number>
--max-permission-denied <number> --max-cache-misses <number> --enable-token-steering
--difc-proxy-host <host:port> --difc-proxy-ca-cert <path> --log-level <level>
-k, --keep-containers --agent-timeout <minutes> --work-dir <dir> --proxy-logs-dir <path>
--audit-dir <path> --session-state-dir <path> --diagnostic-logs --reflect
"""
FLAG_RE = re.compile(r"(?:-[a-zA-Z], )?(--[a-z][a-z0-9-]*)( <[^>]*>| \[[^\]]*\])?")


def awf_flags() -> list[tuple[str, bool]]:
    """(flag, takes a value) for every AWF v0.28 flag: from the upstream sources when the
    mirror is here, else the list above (AWF v0.28's cli-options.ts)."""
    text = FALLBACK_FLAGS
    try:
        source = subprocess.run(["git", "-C", MIRROR, "show", "HEAD:src/cli-options.ts"],
                                capture_output=True, text=True, timeout=30)
        if source.returncode == 0:
            text = "\n".join(re.findall(r"['`]((?:-[a-zA-Z], )?--[a-z][^'`]*)['`]", source.stdout))
    except (OSError, subprocess.SubprocessError):
        pass
    flags = {}
    for m in FLAG_RE.finditer(text):
        flags.setdefault(m.group(1), bool(m.group(2)))
    return sorted(flags.items())


SAMPLES = {
    "--config": None, "--container-runtime": "docker", "--log-level": "info",
    "--mount": "/tmp:/awf-sample:ro", "--env": "A=1", "--dns-servers": V.DNS4,
    "--dns-over-https": "https://doh.test/dns-query", "--upstream-proxy": "http://127.0.0.1:9",
    "--allow-host-ports": None, "--anthropic-cache-tail-ttl": "5m", "--security-mode": "strict",
    "--difc-proxy-host": None, "--max-model-multiplier": "m:2",
    "--agent-timeout": "5", "--memory-limit": "6g", "--pids-limit": "1000",
    "--container-workdir": "/tmp", "--openai-base-url-env": "MY_URL",
    "--allow-domains": "allowed.test", "--block-domains": "blocked.test",
    "--allow-urls": "https://allowed.test/x/*", "--exclude-env": "X",
}


@pytest.mark.parametrize("flag,takes_value", awf_flags(), ids=lambda v: str(v))
def test_every_awf_flag_is_known(awf, vnet, flag, takes_value):
    args = ["-d", "allowed.test", flag]
    if takes_value:
        value = SAMPLES.get(flag, "1")
        if value is None:
            pytest.skip(f"{flag} is exercised elsewhere")
        args.append(value)
    r = awf(args, ["true"], timeout=30)
    assert "unknown option" not in r.stderr, r.describe()
    assert "not expected" not in r.stderr, r.describe()


@pytest.mark.parametrize("args", [["-b"], ["-k"], ["-v", "/tmp:/awf-sample:ro"], ["-e", "A=1"]],
                         ids=["-b", "-k", "-v", "-e"])
def test_awf_short_flags_are_known(awf, args):
    r = awf(["-d", "allowed.test", *args], ["echo", "ran"])
    assert r.rc == 0 and r.stdout == "ran\n", r.describe()


# ------------------------------------------------------------------- mistyped subcommands
def awf_plain(vnet, *words, timeout=30):
    """awf WORDS with nothing before them (the fixture would add flags first)."""
    return subprocess.run(vnet.host_cmd([os.environ.get("AWF_BIN", V.DEFAULT_AWF_BIN), *words]),
                          capture_output=True, text=True, timeout=timeout,
                          env=V.clean_env(None), cwd=vnet.scratch_dir)


@pytest.mark.parametrize("words,hint", [
    (["log"], "did you mean 'awf logs'?"),
    (["polcy", "explain", "allowed.test"], "did you mean 'awf policy'?"),
    (["logs-summary"], "did you mean 'awf logs summary'?"),
    (["completion", "zhs"], "did you mean 'awf completion zsh'?"),
    (["completion", "bsh"], "did you mean 'awf completion bash'?"),
], ids=["log", "polcy", "logs-summary", "completion-zhs", "completion-bsh"])
def test_mistyped_subcommand_is_refused(vnet, words, hint):
    r = awf_plain(vnet, *words)
    assert r.returncode == 1, r
    lines = r.stderr.splitlines()
    assert lines[0].startswith("Fatal error: ") and hint in lines[0], r
    assert EXIT_LINE.match(lines[-1]), r


def test_command_after_double_dash_always_runs(awf):
    r = awf(["-d", "allowed.test"], ["log"])
    assert r.rc == 127 and "did you mean" not in r.stderr, r.describe()


def test_plain_command_not_near_a_subcommand_runs(vnet):
    r = awf_plain(vnet, "ls", "/")
    logs = re.search(r"^awf: logs in (/\S+/\.awf/logs/\S+)$", r.stderr, re.M)
    if logs:
        shutil.rmtree(logs.group(1), ignore_errors=True)
    assert r.returncode == 0 and "did you mean" not in r.stderr, r
    assert "proc" in r.stdout.split(), r


# -------------------------------------------------------------------------------- version
def test_version_names_the_awf_interface(vnet):
    r = awf_plain(vnet, "--version")
    assert r.returncode == 0, r
    assert re.fullmatch(r"awf \d+\.\d+\.\d+\S* \(AWF v0\.28 interface\)\n", r.stdout), r
