"""--enable-host-access, --allow-host-ports, the `localhost` keyword and --enable-dlp.

awf runs in the vnet's host namespace, so a service on that namespace's 127.0.0.1:<port> plays
the host's service that `host.docker.internal:<port>` reaches from the sandbox.
"""

from __future__ import annotations

import os
import subprocess

import pytest

import vnet as V

HOST = "host.docker.internal"
GATEWAY = "172.17.0.1"
HOST_PORTS = (80, 3000, 3001)
TOKEN = "ghp_" + "a1B2c3D4e5F6g7H8i9J0" + "k1L2m3N4o5P6"  # 36 characters after the prefix
ANTHROPIC_LABEL = "sk-ant-api03-" + "abcdefghijklmnopqrstuvwxyz0123456789"


@pytest.fixture(scope="module")
def host_services(vnet):
    procs = [vnet.start_host_service(port) for port in HOST_PORTS]
    try:
        yield vnet
    finally:
        for proc in procs:
            vnet.stop_host_service(proc)


def marks(vnet) -> dict:
    return {port: vnet.host_mark(port) for port in HOST_PORTS}


def host_seen(vnet, mark: dict, port: int, path: str | None = None) -> list[dict]:
    return [r for r in vnet.host_requests(port, mark[port])
            if path is None or str(r.get("path", "")).endswith(path)]


def host_records(res, **kw) -> list[dict]:
    return [r for r in res.audit if r.get("name") == HOST and r.get("kind") != "dns"
            and all(r.get(k) == v for k, v in kw.items())]


HOST_ACCESS = ["--enable-host-access", "--allow-host-ports", "3000", "-d", "allowed.test"]


def test_explicit_proxy_reaches_the_host_service(awf, host_services, nonce):
    vnet = host_services
    mark = marks(vnet)
    res = awf(HOST_ACCESS, awf.curl("-i", f"http://{HOST}:3000/explicit-{nonce}"))
    assert res.rc == 0, res
    assert "200 OK" in res.stdout, res
    origin = res.origin
    assert origin.get("origin") == "127.0.0.1" and origin.get("port") == "3000", res
    assert host_seen(vnet, mark, 3000, f"/explicit-{nonce}"), res
    recs = host_records(res, kind="http", transport="explicit", action="allow")
    assert recs, res
    assert recs[0]["dest"] == "127.0.0.1:3000", res
    assert recs[0]["reason"] == "host access (--enable-host-access)", res
    assert any(a["dest"] == "127.0.0.1:3000" and a["status"] == 200
               for a in res.access_for(HOST)), res


def test_connect_tunnel_to_a_host_port_carries_plain_http(awf, host_services, nonce):
    vnet = host_services
    mark = marks(vnet)
    res = awf(HOST_ACCESS, awf.curl("--proxytunnel", f"http://{HOST}:3000/tunnel-{nonce}"))
    assert res.rc == 0, res
    assert res.origin.get("port") == "3000", res
    assert host_seen(vnet, mark, 3000, f"/tunnel-{nonce}"), res
    recs = host_records(res, kind="connect", action="allow")
    assert recs and recs[0]["dest"] == "127.0.0.1:3000", res


def test_transparent_host_port_through_dns_and_the_gateway_address(awf, host_services, nonce):
    vnet = host_services
    mark = marks(vnet)
    vmark = vnet.mark()
    cmd = (f"getent hosts {HOST}; "
           f"dig +short +time=2 +tries=1 AAAA {HOST} @127.0.0.1; echo aaaa-done; "
           f"curl -sS --max-time 10 --noproxy '*' http://{HOST}:3000/transparent-{nonce}")
    res = awf(HOST_ACCESS, cmd)
    assert res.rc == 0, res
    lines = res.stdout.splitlines()
    assert lines[0].split()[0] == GATEWAY, res
    assert lines[1] == "aaaa-done", res  # AAAA: no data
    assert res.origin.get("origin") == "127.0.0.1" and res.origin.get("port") == "3000", res
    assert host_seen(vnet, mark, 3000, f"/transparent-{nonce}"), res
    recs = host_records(res, kind="host", transport="transparent", action="allow")
    assert recs and recs[0]["dest"] == "127.0.0.1:3000", res
    assert recs[0]["url"] == f"{HOST}:3000", res
    dns = [r for r in res.audit if r.get("kind") == "dns" and r.get("name") == HOST]
    assert any(r.get("qtype") == "A" and r.get("rcode") == "NOERROR" and GATEWAY in r["reason"]
               for r in dns), res
    # Answered locally: the name never reached the upstream DNS server.
    assert not [q for q in vnet.dns_queries(vmark) if HOST in q.get("name", "")], res


def test_transparent_port_80_and_443_use_host_and_sni(awf, host_services, nonce):
    vnet = host_services
    mark = marks(vnet)
    cmd = (f"curl -sS --max-time 10 --noproxy '*' http://{HOST}/port80-{nonce}; "
           f"curl -sS --max-time 10 http://{HOST}/explicit80-{nonce}")
    res = awf(["--enable-host-access"], cmd)
    assert res.rc == 0, res
    assert host_seen(vnet, mark, 80, f"/port80-{nonce}"), res
    assert host_seen(vnet, mark, 80, f"/explicit80-{nonce}"), res
    transparent = host_records(res, kind="http", transport="transparent", action="allow")
    assert transparent and transparent[0]["dest"] == "127.0.0.1:80", res
    # TLS on 443: nothing listens on the host's 443 here, so the handshake fails after awf
    # allowed and dialled 127.0.0.1:443 (a refused connect, logged with the reason).
    res = awf(["--enable-host-access"],
              f"curl -sS --max-time 10 --noproxy '*' https://{HOST}/ ; true")
    tls = host_records(res, kind="tls")
    assert tls and "host access" in tls[0]["reason"], res
    assert "127.0.0.1" in tls[0]["reason"], res  # connect to 127.0.0.1: Connection refused


def test_port_outside_the_allowed_set_is_denied(awf, host_services, nonce):
    vnet = host_services
    mark = marks(vnet)
    cmd = (f"curl -sS -x \"$HTTPS_PROXY\" -o /dev/null -w '%{{http_code}}\\n' http://{HOST}:3001/explicit-{nonce}; "
           f"curl -sS --max-time 5 --noproxy '*' http://{HOST}:3001/transparent-{nonce}; "
           "echo rc=$?")
    res = awf(HOST_ACCESS, cmd)
    lines = res.stdout.splitlines()
    assert lines[0] == "403", res
    assert "rc=7" in res.stdout, res  # connection refused at once
    assert not host_seen(vnet, mark, 3001), res
    denied = host_records(res, kind="http", action="deny")
    assert denied and "port 3001 of the host is not open" in denied[0]["reason"], res
    assert denied[0].get("dest") == "-:-", res
    # The refused connection is logged by the blocked-attempt watch.
    blocked = [r for r in res.audit if r.get("kind") == "blocked" and
               r.get("url") == f"{GATEWAY}:3001"]
    assert blocked, res


def test_without_the_flag_the_host_name_gets_no_special_treatment(awf, host_services, nonce):
    vnet = host_services
    mark = marks(vnet)
    cmd = (f"curl -sS -x \"$HTTPS_PROXY\" -o /dev/null -w '%{{http_code}}\\n' http://{HOST}:3000/a-{nonce}; "
           f"curl -sS -x \"$HTTPS_PROXY\" -o /dev/null -w '%{{http_code}}\\n' http://{HOST}/b-{nonce}")
    # Not in the allowlist: denied by the policy.
    res = awf(["-d", "allowed.test"], cmd)
    assert res.stdout.split() == ["403", "403"], res
    assert all(r["action"] == "deny" for r in host_records(res)), res
    # In the allowlist but no --enable-host-access: an ordinary name (resolved upstream,
    # where it does not exist), never the host's loopback.
    res = awf(["-d", f"allowed.test,{HOST}"], cmd +
              f"; curl -sS --max-time 5 --noproxy '*' http://{HOST}:3000/; echo rc=$?")
    codes = res.stdout.split()
    assert codes[0] == "403" and codes[1] in ("502", "403"), res
    assert "rc=0" not in res.stdout, res
    assert not any(host_seen(vnet, mark, p) for p in HOST_PORTS), res
    assert all(r.get("dest") == "-:-" for r in host_records(res)), res


def test_localhost_keyword_warns_and_opens_the_dev_ports(awf, host_services, nonce):
    vnet = host_services
    mark = marks(vnet)
    res = awf(["-d", "localhost,allowed.test"],
              awf.curl(f"http://{HOST}:3000/localhost-{nonce}"))
    assert res.rc == 0, res
    assert "awf: warning: 'localhost' in --allow-domains gives the command access to " \
           "services on the host's ports" in res.stderr, res
    assert host_seen(vnet, mark, 3000, f"/localhost-{nonce}"), res


def test_localhost_keyword_leaves_the_dev_ports_to_the_command(awf, host_services, nonce):
    """The keyword's twelve ports are proxy-only: the command's own wildcard dev server binds."""
    vnet = host_services
    mark = marks(vnet)
    cmd = (
        "cd /tmp && python3 -m http.server --bind 0.0.0.0 3000 >/dev/null 2>/tmp/serve-err & "
        "for i in $(seq 50); do curl -s -o /dev/null --noproxy '*' http://127.0.0.1:3000/ && break; "
        "sleep 0.1; done; "
        "curl -sS --noproxy '*' -o /dev/null -w 'own=%{http_code}\\n' http://127.0.0.1:3000/; "
        f"curl -sS -x \"$HTTPS_PROXY\" -o /dev/null -w 'host=%{{http_code}}\\n' http://{HOST}:3000/kw-{nonce}; kill %1")
    res = awf(["-d", "localhost,allowed.test"], cmd)
    assert "own=200" in res.stdout and "host=200" in res.stdout, res
    assert host_seen(vnet, mark, 3000, f"/kw-{nonce}"), res


def test_command_keeps_its_own_loopback_port(awf, host_services, nonce):
    """With host port 3000 open, the command still serves 127.0.0.1:3000 itself."""
    vnet = host_services
    mark = marks(vnet)
    cmd = (
        "cd /tmp && python3 -m http.server --bind 127.0.0.1 3000 >/dev/null 2>&1 & "
        "for i in $(seq 50); do curl -s -o /dev/null --noproxy '*' http://127.0.0.1:3000/ && break; "
        "sleep 0.1; done; "
        "curl -sS --noproxy '*' -o /dev/null -w 'own=%{http_code}\\n' http://127.0.0.1:3000/; "
        f"curl -sS --noproxy '*' http://{HOST}:3000/host-{nonce}; kill %1")
    res = awf(HOST_ACCESS, cmd)
    assert "own=200" in res.stdout, res
    assert res.origin.get("port") == "3000" and res.origin.get("origin") == "127.0.0.1", res
    assert host_seen(vnet, mark, 3000, f"/host-{nonce}"), res


@pytest.mark.parametrize("args, message", [
    (["--enable-host-access", "--allow-host-ports", "22"], "22"),
    (["--enable-host-access", "--allow-host-ports", "3000-3400"], "3306"),
    (["--enable-host-access", "--allow-host-ports", "3000-"], "3000-"),
    (["--enable-host-access", "--allow-host-ports", "03000"], "03000"),
    (["--allow-host-ports", "3000"], "--enable-host-access"),
])
def test_bad_host_ports_exit_1(awf, args, message):
    res = awf(args, "true")
    assert res.rc == 1, res
    assert message in res.stderr, res


def test_wide_port_range_is_explicit_proxy_only(awf, host_services, nonce):
    vnet = host_services
    mark = marks(vnet)
    res = awf(["--enable-host-access", "--allow-host-ports", "2000-3005"],
              f"curl -sS -x \"$HTTPS_PROXY\" http://{HOST}:3001/wide-{nonce}; "
              f"curl -sS --max-time 5 --noproxy '*' http://{HOST}:3000/; echo rc=$?")
    assert "through the proxy only" in res.stderr, res
    assert host_seen(vnet, mark, 3001, f"/wide-{nonce}"), res
    assert "rc=7" in res.stdout, res  # no transparent listener for so many ports


def test_gh_aw_client_contract_command_line(awf, host_services, nonce, tmp_path):
    """gh-aw's launch line (DESIGN.md), minus --enable-api-proxy, reaches the host's port 80."""
    vnet = host_services
    mark = marks(vnet)
    runner_temp = os.path.join(vnet.scratch_dir, f"runner-{nonce}")
    os.makedirs(os.path.join(runner_temp, "gh-aw"))
    workspace = os.path.join(vnet.scratch_dir, f"ws-{nonce}")
    os.makedirs(workspace)
    logs = vnet.new_logs_dir("gh-aw")
    audit = os.path.join(vnet.run_dir, f"audit-{nonce}")
    args = [
        "--container-workdir", workspace,
        "--mount", f"{runner_temp}/gh-aw:{runner_temp}/gh-aw:ro",
        "--mount", f"{runner_temp}/gh-aw:/host{runner_temp}/gh-aw:ro",
        "--env-all", "--exclude-env", "SOME_SECRET",
        "--allow-domains", f"api.github.com,github.com,{HOST}",
        "--log-level", "info", "--proxy-logs-dir", logs, "--audit-dir", audit,
        "--enable-host-access", "--image-tag", "0.25.18", "--skip-pull",
    ]
    argv = vnet.awf_argv(awf.bin, args, ["/bin/bash", "-c",
                                         f"pwd; curl -sS http://{HOST}/mcp-{nonce}"], "")
    p = subprocess.run(argv, capture_output=True, env=V.clean_env({"SOME_SECRET": "x"}),
                       cwd=vnet.run_dir, timeout=60)
    res = vnet.collect(argv, p.returncode, p.stdout, p.stderr, 0.0, logs)
    assert res.rc == 0, res
    assert res.stdout.splitlines()[0] == workspace, res
    assert host_seen(vnet, mark, 80, f"/mcp-{nonce}"), res
    assert os.path.exists(os.path.join(audit, "awf-config.json")), res
    assert res.last_stderr_line == "Process exiting with code: 0", res


# ------------------------------------------------------------------------------------ DLP
def all_logs(res) -> str:
    text = ""
    for name in ("access.log", "audit.jsonl"):
        try:
            with open(os.path.join(res.logs_dir, name), errors="replace") as f:
                text += f.read()
        except FileNotFoundError:
            pass
    return text


def test_dlp_refuses_a_token_in_the_url_and_redacts_it(awf, vnet, nonce):
    mark = vnet.mark()
    url = f"http://allowed.test/dlp-{nonce}?token={TOKEN}&x=1"
    res = awf(["--enable-dlp", "-d", "allowed.test"],
              f"curl -sS -w '\\ncode=%{{http_code}}\\n' '{url}'; "
              f"curl -sS --max-time 10 --noproxy '*' -o /dev/null -w 'code=%{{http_code}}\\n' "
              f"'http://allowed.test/t-{nonce}/{TOKEN}'")
    assert res.stdout.count("code=403") == 2, res
    assert TOKEN not in res.stdout, res  # the 403 body does not echo it
    assert "--enable-dlp" in res.stdout, res
    assert not [r for r in vnet.origin_requests(mark) if nonce in str(r.get("path"))], res
    assert TOKEN not in all_logs(res), res
    denied = [r for r in res.audit if r.get("kind") == "http" and r.get("action") == "deny"]
    assert len(denied) == 2, res
    assert denied[0]["url"] == f"http://allowed.test/dlp-{nonce}?<redacted>", res
    assert denied[0]["reason"] == \
        "request carries a credential-shaped string (GitHub token); --enable-dlp", res
    assert denied[1]["transport"] == "transparent", res
    assert denied[1]["url"] == "http://allowed.test/<redacted>", res
    assert any(a["url"] == f"http://allowed.test/dlp-{nonce}?<redacted>" and a["status"] == 403
               for a in res.access), res


def test_dlp_refuses_a_credential_shaped_connect_host(awf, vnet, nonce):
    mark = vnet.mark()
    res = awf(["--enable-dlp", "-d", "allowed.test"],
              awf.curl("-o", "/dev/null", "-w", "code=%{http_code}\\n",
                       f"https://{ANTHROPIC_LABEL}.allowed.test/{nonce}"))
    assert res.rc != 0, res
    assert not reached_nonce(vnet, mark, nonce), res
    assert ANTHROPIC_LABEL not in all_logs(res), res
    assert ANTHROPIC_LABEL not in res.stderr, res
    denied = [r for r in res.audit if r.get("kind") == "connect"]
    assert denied and denied[0]["action"] == "deny", res
    assert "Anthropic API key" in denied[0]["reason"], res
    assert denied[0]["url"] == "<redacted>:443", res


def reached_nonce(vnet, mark, nonce):
    return [r for r in vnet.origin_requests(mark) if nonce in str(r.get("path"))]


def test_without_dlp_the_same_request_passes(awf, vnet, nonce):
    mark = vnet.mark()
    res = awf(["-d", "allowed.test"],
              awf.curl(f"http://allowed.test/nodlp-{nonce}?token={TOKEN}"))
    assert res.rc == 0, res
    assert reached_nonce(vnet, mark, nonce), res
