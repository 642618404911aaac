"""Topology peers (--topology-attach NAME): a Docker container the command reaches by name, as
gh-aw's MCP gateway `awmg-mcpg`. A real dockerd runs in the vnet's host namespace (where awf
runs; docker_host.py); nothing is pulled, the image is busybox-static imported from a local
root filesystem. Tests that need the daemon skip when it cannot start here; the refusals that
need no daemon (an unreachable or hung socket, a tcp:// host) run everywhere."""

from __future__ import annotations

import os
import shutil
import socket
import threading

import pytest

import docker_host as D
import vnet as V

ALLOW = ["--allow-domains", "allowed.test"]
PEER = "awmg-mcpg"
PEER80 = "awf-peer80"
CURL = "curl -sS --max-time 10"


@pytest.fixture(scope="module")
def docker(vnet):
    yield from D.serving_gateway(vnet, PEER)


def attach(docker, *names: str) -> list[str]:
    args = [*ALLOW, "--docker-host", docker.host]
    for name in names or (PEER,):
        args += ["--topology-attach", name]
    return args


def peer_records(r, **kw) -> list[dict]:
    return [x for x in r.audit if x.get("kind") == "peer" and all(x.get(k) == v for k, v in kw.items())]


def assert_never_blocked(r, docker):
    """The peer is allowed on purpose: no denial names it or its address."""
    for x in r.audit:
        if x.get("action") == "deny":
            assert x.get("name") not in (PEER, docker.peer_address), x
    assert "Firewall blocked" not in r.stderr, r.describe()


def assert_fatal(r, *fragments: str):
    assert r.rc == 1, r.describe()
    fatal = [l for l in r.stderr_lines if l.startswith("Fatal error: ")]
    assert len(fatal) == 1, r.describe()
    for fragment in fragments:
        assert fragment in fatal[0], r.describe()
    assert r.last_stderr_line == "Process exiting with code: 1", r.describe()
    assert "ran" not in r.stdout, r.describe()
    # Refused before anything was created: not even the log files.
    assert not os.path.exists(os.path.join(r.logs_dir, "audit.jsonl")), r.describe()
    assert not os.path.exists(os.path.join(r.logs_dir, "access.log")), r.describe()


# ------------------------------------------------------------------------------ control
def test_control_the_container_serves_in_the_host_namespace(vnet, docker):
    """Without awf: the published port on the host's loopback, the exposed one at the address."""
    p = vnet.host_run(["curl", "-sS", "--max-time", "5", "http://127.0.0.1:8080/"])
    assert p.returncode == 0 and D.PAGE in p.stdout, p.stderr
    p = vnet.host_run(["curl", "-sS", "--max-time", "5", f"http://{docker.peer_address}:8081/"])
    assert p.returncode == 0 and D.PAGE in p.stdout, p.stderr


# ------------------------------------------------------------------------------ reaching the peer
def test_peer_by_name_with_the_proxy_environment(awf, docker):
    """As gh-aw's agent does it: HTTP_PROXY is set, the peer is in NO_PROXY, curl goes direct."""
    script = f'echo "NO_PROXY=$NO_PROXY"; echo "no_proxy=$no_proxy"; {CURL} http://{PEER}:8080/'
    r = awf(attach(docker), ["bash", "-c", script])
    assert r.rc == 0, r.describe()
    assert D.PAGE in r.stdout, r.describe()
    for var in ("NO_PROXY", "no_proxy"):
        line = next(l for l in r.stdout.splitlines() if l.startswith(var + "="))
        assert PEER in line.split("=", 1)[1].split(","), line
    records = peer_records(r, name=PEER, action="allow")
    assert len(records) == 1, r.describe()
    assert records[0]["dest"] == "127.0.0.1:8080", records[0]  # its published port
    assert records[0].get("bytes_down", 0) > len(D.PAGE), records[0]
    lines = [a for a in r.access_for(PEER) if a.get("squid_status") == "TCP_TUNNEL"]
    assert lines and lines[0]["dest"] == "127.0.0.1:8080", r.describe()
    assert_never_blocked(r, docker)


def test_peer_by_name_without_any_proxy(awf, docker):
    r = awf(attach(docker), ["bash", "-c", f"{CURL} --noproxy '*' http://{PEER}:8080/"])
    assert r.rc == 0 and D.PAGE in r.stdout, r.describe()
    assert peer_records(r, name=PEER, action="allow"), r.describe()


def test_docker_host_from_the_environment(awf, docker):
    r = awf([*ALLOW, "--topology-attach", PEER], ["bash", "-c", f"{CURL} http://{PEER}:8080/"],
            env={"DOCKER_HOST": docker.host})
    assert r.rc == 0 and D.PAGE in r.stdout, r.describe()


def test_exposed_port_without_publish_reaches_the_container_address(awf, docker):
    r = awf(attach(docker), ["bash", "-c", f"{CURL} http://{PEER}:8081/"])
    assert r.rc == 0 and D.PAGE in r.stdout, r.describe()
    records = peer_records(r, name=PEER, action="allow")
    assert records and records[0]["dest"] == f"{docker.peer_address}:8081", r.describe()


def test_peer_port_80_through_the_transparent_listener(awf, docker):
    """Port 80 has awf's wildcard listener: a connection to the peer's address is relayed to
    the peer, not judged as web traffic."""
    docker.docker("run", "-d", "--name", PEER80, "--network", "bridge",
                  "-p", "127.0.0.1:18080:80", D.IMAGE, D.BUSYBOX, "httpd", "-f", "-p", "80",
                  "-h", "/www")
    try:
        docker.wait_serving(18080)
        r = awf(attach(docker, PEER, PEER80),
                ["bash", "-c", f"{CURL} http://{PEER80}/ && {CURL} http://{PEER}:8080/"])
        assert r.rc == 0 and r.stdout.count(D.PAGE) == 2, r.describe()
        records = peer_records(r, name=PEER80, action="allow")
        assert records and records[0]["dest"] == "127.0.0.1:18080", r.describe()
        assert not [x for x in r.audit if x.get("kind") == "http"], r.describe()
    finally:
        docker.docker("rm", "-f", PEER80, check=False)


# ------------------------------------------------------------------------------ only the peer
def test_port_the_container_does_not_serve_is_refused_and_logged(awf, docker):
    script = f"{CURL} http://{PEER}:9999/; echo rc=$?"
    r = awf(attach(docker), ["bash", "-c", script])
    assert r.rc == 0 and "rc=7" in r.stdout, r.describe()  # refused at once
    url = f"{docker.peer_address}:9999"
    assert [x for x in r.audit if x.get("kind") == "blocked" and x.get("url") == url
            and x.get("action") == "deny"], r.describe()
    assert not peer_records(r), r.describe()


def test_peer_not_reachable_otherwise(awf, docker, vnet):
    """Not under another name, not through the host's published port, not by its address on a
    port it does not serve, and the name never leaves the host."""
    m = vnet.mark()
    script = (f"getent hosts {PEER}-2 || echo other-name:no; "
              f"{CURL} --noproxy '*' http://127.0.0.1:8080/; echo loopback=$?; "
              f"{CURL} --noproxy '*' http://{docker.peer_address}/; echo port80=$?")
    r = awf(attach(docker), ["bash", "-c", script])
    assert r.rc == 0, r.describe()
    assert "other-name:no" in r.stdout, r.describe()
    assert "loopback=7" in r.stdout, r.describe()  # the sandbox's own loopback
    assert D.PAGE not in r.stdout, r.describe()
    # Port 80 of its address: awf's transparent HTTP, where a raw address is not allowed.
    assert [x for x in r.audit if x.get("kind") == "http" and x.get("action") == "deny"
            and x.get("name") == docker.peer_address], r.describe()
    assert not [q for q in vnet.dns_names_seen(m) if PEER in q], vnet.dns_names_seen(m)


def test_name_resolves_with_getent_and_dig(awf, docker, vnet):
    m = vnet.mark()
    script = (f"getent hosts {PEER}; grep -i {PEER} /etc/hosts; "
              f"dig +time=3 +tries=1 +short {PEER}; "
              f"dig +time=3 +tries=1 AAAA {PEER} | grep -o 'status: [A-Z]*'; "
              f"dig +time=3 +tries=1 +short AAAA {PEER}; head -1 /etc/hosts")
    r = awf(attach(docker), ["bash", "-c", script])
    assert r.rc == 0, r.describe()
    lines = r.stdout.splitlines()
    assert lines[0].split() == [docker.peer_address, PEER], r.describe()
    assert f"{docker.peer_address} {PEER}" in lines, r.describe()
    assert lines.count(docker.peer_address) == 1, r.describe()  # dig A
    assert "status: NOERROR" in lines, r.describe()             # AAAA: no data, not an error
    with open("/etc/hosts") as f:
        first = f.readline().strip()
    assert lines[-1] == first, r.describe()  # the host's entries are kept
    dns = [x for x in r.audit if x.get("kind") == "dns" and x.get("name") == PEER]
    assert {x.get("qtype") for x in dns} >= {"A", "AAAA"}, r.describe()
    assert all(x.get("action") == "allow" for x in dns), dns
    assert not [q for q in vnet.dns_names_seen(m) if PEER in q], vnet.dns_names_seen(m)
    assert_never_blocked(r, docker)


# ------------------------------------------------------------------------------ refusals
def test_missing_container_is_fatal(awf, docker, vnet):
    r = awf(attach(docker, "awf-no-such-peer"), ["bash", "-c", "echo ran"])
    assert_fatal(r, "--topology-attach awf-no-such-peer:", "no such container")


def test_stopped_container_is_fatal(awf, docker):
    name = "awf-stopped-peer"
    docker.docker("run", "-d", "--name", name, "--network", "bridge", D.IMAGE, D.BUSYBOX,
                  "sleep", "600")
    try:
        docker.docker("stop", "-t", "0", name)
        r = awf(attach(docker, PEER, name), ["bash", "-c", "echo ran"])
        assert_fatal(r, f"--topology-attach {name}:", "not running (status: exited)",
                     f"docker start {name}")
    finally:
        docker.docker("rm", "-f", name, check=False)


def test_unreachable_docker_socket_is_fatal(awf, vnet):
    missing = os.path.join(vnet.scratch_dir, "no-such-dir", "docker.sock")
    r = awf([*ALLOW, "--docker-host", f"unix://{missing}", "--topology-attach", PEER],
            ["bash", "-c", "echo ran"])
    assert_fatal(r, f"--topology-attach {PEER}:", "cannot reach the Docker daemon",
                 "No such file or directory", "--docker-host")


def test_tcp_docker_host_is_refused(awf):
    r = awf([*ALLOW, "--docker-host", "tcp://127.0.0.1:2375", "--topology-attach", PEER],
            ["bash", "-c", "echo ran"])
    assert_fatal(r, "unix socket only")


def test_hung_docker_daemon_is_fatal_after_the_timeout(awf, vnet, nonce):
    """A socket that accepts and never answers: awf gives up after its timeout."""
    path = os.path.join(vnet.scratch_dir, f"hung-{nonce}.sock")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(4)
    held = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        r = awf([*ALLOW, "--docker-host", f"unix://{path}", "--topology-attach", PEER],
                ["bash", "-c", "echo ran"], timeout=30)
        assert_fatal(r, "did not answer within 5 s")
        assert 4.5 < r.duration < 15, r.duration
    finally:
        stop.set()
        t.join()
        for c in held:
            c.close()
        server.close()
        os.unlink(path)


def test_invalid_peer_name_is_fatal(awf, vnet):
    r = awf([*ALLOW, "--docker-host", "unix:///nonexistent.sock", "--topology-attach", "../x"],
            ["bash", "-c", "echo ran"])
    assert_fatal(r, "--topology-attach ../x:", "not a container name")


def test_rootless_awf_reaches_the_peer(awf, docker, vnet, nonce):
    """gh-aw runs awf without sudo, as a user of the docker group: the sandbox is then in a
    user namespace, and the peer's listeners and names must work the same."""
    if shutil.which("setpriv", path=V.SAFE_PATH) is None:
        pytest.skip("setpriv missing")
    logs = os.path.join(vnet.scratch_dir, f"topology-rootless-{nonce}")
    mode = os.stat(docker.socket).st_mode & 0o777
    os.chmod(docker.socket, 0o666)  # what membership of the docker group grants
    try:
        r = awf(attach(docker), ["bash", "-c", f"id -u; {CURL} http://{PEER}:8080/"],
                logs_dir=logs, prefix=["setpriv", "--reuid=65534", "--regid=65534",
                                       "--clear-groups"])
    finally:
        os.chmod(docker.socket, mode)
    assert r.rc == 0, r.describe()
    assert r.stdout.splitlines()[0] == "65534" and D.PAGE in r.stdout, r.describe()
    assert peer_records(r, name=PEER, action="allow"), r.describe()
