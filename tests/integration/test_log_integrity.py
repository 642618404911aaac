"""Log integrity: where a run's logs go when no --proxy-logs-dir is given, and which run
`awf logs` shows without --source.

The default is a private store in the invoking user's HOME (~/.awf/logs/<run>/, 0700, files
0600), which the command can neither see nor write, even when it runs as that very user. `awf
logs` reads the user's latest run from there only: a planted /tmp/awf-logs-* directory (the old
default, which the command could write) or anything in the store that awf did not create for
the user never replaces the real record. Each test has a control: the same probe against a
place the command does reach (the old /tmp location, ~/.local, which the HOME view binds
read-write), or the planted logs read with --source, which shows they are valid logs."""

from __future__ import annotations

import json
import os
import pwd
import re
import shlex
import shutil
import stat
import subprocess
import time

import pytest

import vnet as V
from conftest import AWF_BIN

FUTURE = "29991231T000000.000Z-00000000"  # an awf-shaped run name that sorts after any real one
RUN_NAME = re.compile(r"^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8}$")


@pytest.fixture
def store_user(nonce):
    """A throwaway user with a HOME (and a ~/.local, which the HOME view binds read-write).
    awf runs as root with SUDO_UID: the user is the invoking user and the command's user."""
    if shutil.which("useradd", path=V.SAFE_PATH) is None:
        pytest.skip("useradd missing")
    name = f"awfli{nonce[:8]}"
    home = f"/home/{name}"
    V.run(["useradd", "-M", "-U", "-d", home, "-s", "/bin/sh", name])
    try:
        pw = pwd.getpwnam(name)
        os.makedirs(os.path.join(home, ".local/state"))
        for path in (home, f"{home}/.local", f"{home}/.local/state"):
            os.chown(path, pw.pw_uid, pw.pw_gid)
        os.chmod(home, 0o755)
        yield {"name": name, "home": home, "uid": pw.pw_uid, "gid": pw.pw_gid,
               "store": f"{home}/.awf/logs"}
    finally:
        V.run(["userdel", name], check=False)
        V.run(["groupdel", name], check=False)
        shutil.rmtree(home, ignore_errors=True)


def sudo_env(user: dict) -> dict:
    return {"SUDO_UID": str(user["uid"]), "SUDO_GID": str(user["gid"]), "SUDO_USER": user["name"]}


def awf_run(vnet, user: dict, script: str, *args: str, env: dict | None = None):
    """awf (root, for the sudo user) with no --proxy-logs-dir, running `script` in bash."""
    argv = vnet.host_cmd([AWF_BIN, "--dns-servers", V.DNS4, "-d", "allowed.test", *args,
                          "--", "bash", "-c", script])
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=vnet.run_dir,
                          env=V.clean_env({**(sudo_env(user) if user else {}), **(env or {})}))


def logs_dir_of(r) -> str:
    m = re.search(r"^awf: logs in (\S+)$", r.stderr, re.M)
    assert m, r.stderr
    return m.group(1)


def awf_logs(user: dict, *args: str) -> subprocess.CompletedProcess:
    """`awf logs` as `sudo awf logs` by the user (files only: outside the namespaces)."""
    return subprocess.run([AWF_BIN, "logs", *args], capture_output=True, text=True, timeout=20,
                          env={"PATH": V.SAFE_PATH, **sudo_env(user)})


def json_hosts(p: subprocess.CompletedProcess) -> list[tuple[str, str]]:
    assert p.returncode == 0, p.stderr
    return [(e["host"], e["action"]) for e in map(json.loads, p.stdout.splitlines())]


def denied_run(vnet, user: dict, host: str = "blocked.test") -> str:
    """One run that is denied `host`; returns its log directory."""
    r = awf_run(vnet, user, shlex.join(vnet.curl_args("-o", "/dev/null", f"https://{host}/")))
    assert r.returncode != 0 and f"  - {host}" in r.stderr, r.stderr
    return logs_dir_of(r)


def planted_logs(vnet, path: str) -> None:
    """Genuine logs of a run that only reached allowed.test, at `path` (what a forger copies)."""
    argv = vnet.host_cmd([AWF_BIN, "--dns-servers", V.DNS4, "-d", "allowed.test",
                          "--proxy-logs-dir", path, "--",
                          *vnet.curl_args("-o", "/dev/null", "https://allowed.test/planted")])
    r = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=vnet.run_dir,
                       env=V.clean_env())
    assert r.returncode == 0, r.stderr


def mode(path: str) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


# ----------------------------------------------------------------------------------- the store
def test_default_run_dir_is_private_and_read_back(vnet, store_user):
    logs = denied_run(vnet, store_user)
    home, uid = store_user["home"], store_user["uid"]
    assert os.path.dirname(logs) == store_user["store"] and RUN_NAME.match(os.path.basename(logs)), logs
    for d in (f"{home}/.awf", store_user["store"], logs):
        assert mode(d) == 0o700 and os.lstat(d).st_uid == uid, (d, oct(mode(d)))
    files = sorted(os.listdir(logs))
    assert files == ["access.log", "audit.jsonl", "policy-manifest.json"], files
    for f in files:
        st = os.lstat(os.path.join(logs, f))
        assert st.st_uid == uid and stat.S_IMODE(st.st_mode) & 0o077 == 0, (f, oct(st.st_mode))
    # `awf logs` (no --source) shows this run: the real denial.
    assert ("blocked.test", "deny") in json_hosts(awf_logs(store_user, "--format", "json"))


def test_explicit_logs_dir_is_as_before(vnet, store_user):
    """Control: a named --proxy-logs-dir (what gh-aw passes) keeps its modes, and the store is
    not used."""
    logs = os.path.join(vnet.scratch_dir, f"explicit-{store_user['name']}")
    r = awf_run(vnet, store_user, "true", "--proxy-logs-dir", logs)
    assert r.returncode == 0 and "awf: logs in" not in r.stderr, r.stderr
    for f in ("access.log", "audit.jsonl", "policy-manifest.json"):
        assert mode(os.path.join(logs, f)) == 0o644, f
    assert not os.path.exists(f"{store_user['home']}/.awf")


def probe(dirs: dict[str, str], read: str) -> str:
    """For each labelled directory: how many entries the command lists, and whether it can
    plant a run there; then whether it can read `read`."""
    lines = []
    for label, d in dirs.items():
        q = shlex.quote(d)
        lines.append(f'echo "list:{label}=$(ls -A {q} 2>/dev/null | wc -l)"')
        lines.append(f"mkdir {q}/{FUTURE} 2>/dev/null && echo plant:{label}")
    lines.append(f"cat {shlex.quote(read)} >/dev/null 2>&1 && echo read:store")
    return "; ".join(lines)


def test_command_cannot_see_or_write_the_store(vnet, store_user, nonce):
    """The command runs as the store's owner: only the view keeps it out, also through a -v
    mount of the whole HOME (where it also tries to move the store aside)."""
    real = denied_run(vnet, store_user)
    home, store = store_user["home"], store_user["store"]
    # (The old default, /tmp/awf-logs-*, is out of reach anyway now: /tmp is private.)
    controls = {"xdg": f"{home}/.local/state/awf"}
    for d in controls.values():
        os.makedirs(d)
        open(os.path.join(d, "access.log"), "w").close()
        os.chown(d, store_user["uid"], store_user["gid"])
    try:
        script = probe({"store": store, "mounted": "/h/.awf/logs", **controls},
                       f"{real}/audit.jsonl")
        script += f"; mv /h/.awf /h/moved-{nonce} 2>/dev/null && echo moved; true"
        r = awf_run(vnet, store_user, script, "-v", f"{home}:/h:rw")
        out = r.stdout
        assert r.returncode == 0, r.stderr
        assert "list:store=0" in out and "list:mounted=0" in out, out
        assert "plant:store" not in out and "plant:mounted" not in out, out
        assert "read:store" not in out and "moved" not in out, out
        # Control: ~/.local/state (XDG's default) is in the command's reach.
        assert "list:xdg=1" in out and "plant:xdg" in out, out
        assert sorted(os.listdir(store)) == sorted([os.path.basename(real), os.path.basename(logs_dir_of(r))])
        assert not os.path.exists(f"{home}/moved-{nonce}")
    finally:
        for d in controls.values():
            shutil.rmtree(d, ignore_errors=True)


# ----------------------------------------------------------------------------------- discovery
def test_planted_tmp_dir_does_not_change_awf_logs(vnet, store_user, nonce):
    planted = f"/tmp/awf-logs-29991231T000000-{nonce}"
    planted_logs(vnet, planted)
    try:
        future = time.time() + 3600
        for path in (planted, f"{planted}/audit.jsonl", f"{planted}/access.log"):
            os.utime(path, (future, future))
        real = denied_run(vnet, store_user)
        hosts = json_hosts(awf_logs(store_user, "--format", "json"))
        assert ("blocked.test", "deny") in hosts and ("allowed.test", "allow") not in hosts, hosts
        listed = awf_logs(store_user, "--list")
        assert real in listed.stdout and planted not in listed.stdout, listed.stdout
        # Control: the planted directory holds valid logs (the old default would have shown them).
        assert ("allowed.test", "allow") in json_hosts(awf_logs(store_user, "--source", planted,
                                                                "--format", "json"))
    finally:
        shutil.rmtree(planted, ignore_errors=True)


def test_entries_awf_did_not_create_for_the_user_are_ignored(vnet, store_user, nonce):
    """In the store itself (which only root could reach): a directory of another owner, a
    symlink, and a directory not named as awf names runs, each with newer valid logs."""
    real = denied_run(vnet, store_user)
    store = store_user["store"]
    source = os.path.join(vnet.scratch_dir, f"planted-{nonce}")
    planted_logs(vnet, source)
    foreign = f"{store}/{FUTURE}"                       # root's, not the user's
    link = f"{store}/29991231T000000.001Z-00000001"     # a symlink to valid logs
    odd = f"{store}/zz-{nonce}"                         # the user's, but not an awf name
    shutil.copytree(source, foreign)
    os.symlink(source, link)
    shutil.copytree(source, odd)
    os.chown(odd, store_user["uid"], store_user["gid"])
    future = time.time() + 3600
    for path in (foreign, odd):
        os.utime(path, (future, future))
    hosts = json_hosts(awf_logs(store_user, "--format", "json"))
    assert ("blocked.test", "deny") in hosts and ("allowed.test", "allow") not in hosts, hosts
    listed = awf_logs(store_user, "--list").stdout
    assert real in listed and all(p not in listed for p in (foreign, link, odd)), listed
    for path in (foreign, link, odd):  # control: each holds logs --source reads
        assert ("allowed.test", "allow") in json_hosts(awf_logs(store_user, "--source", path,
                                                                "--format", "json")), path


def test_latest_run_wins_and_no_directory_is_reused(vnet, store_user):
    first = denied_run(vnet, store_user, "first-run.test")
    before = open(f"{first}/audit.jsonl").read()
    second = denied_run(vnet, store_user, "second-run.test")
    assert first != second and RUN_NAME.match(os.path.basename(second)), (first, second)
    assert open(f"{first}/audit.jsonl").read() == before, "the second run wrote into the first's"
    hosts = {host for host, _ in json_hosts(awf_logs(store_user, "--format", "json"))}
    assert "second-run.test" in hosts and "first-run.test" not in hosts, hosts
    assert sorted(os.listdir(store_user["store"])) == sorted(
        os.path.basename(d) for d in (first, second))


# ------------------------------------------------------------------------------ refused stores
@pytest.mark.parametrize("how", ["group-writable", "foreign-owner"])
def test_store_others_can_write_is_refused(vnet, store_user, how):
    denied_run(vnet, store_user)
    top = f"{store_user['home']}/.awf"
    if how == "group-writable":
        os.chmod(top, 0o770)
    else:
        os.chown(top, 0, 0)
    r = awf_run(vnet, store_user, "echo ran")
    assert r.returncode != 0 and "ran" not in r.stdout, r
    assert top in r.stderr and "--proxy-logs-dir" in r.stderr, r.stderr
    p = awf_logs(store_user)
    assert p.returncode == 1 and "not private" in p.stderr, p.stderr


def test_home_in_tmp_is_refused(vnet, nonce):
    """A HOME in /tmp would put the store where the command can move it aside: refused, with
    the way out; control: the same run with --proxy-logs-dir works."""
    home = f"/tmp/awf-home-{nonce}"
    os.makedirs(home)
    try:
        r = awf_run(vnet, None, "echo ran", env={"HOME": home})
        assert r.returncode != 0 and "ran" not in r.stdout, r
        assert "--proxy-logs-dir" in r.stderr and f"{home}/.awf" in r.stderr, r.stderr
        assert not os.path.exists(f"{home}/.awf")
        logs = f"{home}/explicit"
        r = awf_run(vnet, None, "echo ran", "--proxy-logs-dir", logs, env={"HOME": home})
        assert r.returncode == 0 and r.stdout == "ran\n", r
    finally:
        shutil.rmtree(home, ignore_errors=True)


def test_rootless_run_keeps_its_logs_private(vnet, nonce):
    """awf started by an unprivileged user (65534; $HOME outside /tmp, which the host's read-only
    view shows): the same store, hidden from the command although the command is that user;
    `awf logs` by the user reads it."""
    if shutil.which("setpriv", path=V.SAFE_PATH) is None:
        pytest.skip("setpriv missing")
    nobody = 65534
    setpriv = ["setpriv", f"--reuid={nobody}", f"--regid={nobody}", "--clear-groups"]
    home = f"/var/lib/awf-it-home-{nonce}"  # outside /tmp, /var/tmp (private) and /home
    controls = {"visible": f"{home}/visible"}
    for d in (home, *controls.values()):
        os.makedirs(d)
        os.chown(d, nobody, nobody)
    for d in controls.values():
        open(os.path.join(d, "access.log"), "w").close()
    try:
        store = f"{home}/.awf/logs"
        script = "; ".join([shlex.join(vnet.curl_args("-o", "/dev/null", "https://blocked.test/")),
                            probe({"store": store, **controls}, f"{store}/x"), "true"])
        argv = vnet.host_cmd([*setpriv, AWF_BIN, "--dns-servers", V.DNS4, "-d", "allowed.test",
                              "--", "bash", "-c", script])
        r = subprocess.run(argv, capture_output=True, text=True, timeout=60, cwd=vnet.run_dir,
                           env=V.clean_env({"HOME": home, "SUDO_UID": "", "SUDO_GID": ""}))
        assert r.returncode == 0, r.stderr
        logs = logs_dir_of(r)
        assert os.path.dirname(logs) == store and mode(logs) == 0o700, logs
        assert os.lstat(logs).st_uid == nobody and mode(f"{logs}/audit.jsonl") == 0o600
        assert "list:store=0" in r.stdout and "plant:store" not in r.stdout, r.stdout
        # Control: the HOME is in the command's (read-only) view.
        assert "list:visible=1" in r.stdout, r.stdout
        p = subprocess.run([*setpriv, AWF_BIN, "logs", "--format", "json"], capture_output=True,
                           text=True, timeout=20, env={"PATH": V.SAFE_PATH, "HOME": home})
        assert ("blocked.test", "deny") in json_hosts(p)
    finally:
        for d in (home, *controls.values()):
            shutil.rmtree(d, ignore_errors=True)
