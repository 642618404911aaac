"""Confinement, black-box: what the command cannot do (privileges, seccomp, other namespaces),
what it cannot see (host processes, secrets in awf's environment, credentials in HOME, host IPC
sockets) and what it cannot exhaust (cgroup memory and process limits).

Each test runs the real awf binary and asserts that an attack fails; probes that need exact
system calls are small Python scripts (ctypes) written to the world-readable scratch dir and run
inside the sandbox as an unprivileged user. Nothing here sends a packet anywhere: the only
sockets are Unix sockets and the sandbox's own loopback."""

from __future__ import annotations

import json
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time

import pytest

import vnet as V

EXIT_LINE = "Process exiting with code: {}"
NOT_ENFORCED = "--memory-limit and --pids-limit are not enforced"
SETPRIV_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def write_script(vnet, name: str, source: str) -> str:
    path = os.path.join(vnet.scratch_dir, name)
    with open(path, "w") as f:
        f.write(source)
    os.chmod(path, 0o644)
    return path


def status_fields(out: str) -> dict:
    fields = {}
    for line in out.splitlines():
        k, sep, v = line.partition(":")
        if sep:
            fields[k.strip()] = v.strip()
    return fields


# ============================================================================ privileges, seccomp
def test_no_capabilities_no_new_privs_seccomp(awf):
    r = awf(["-d", "allowed.test"], ["bash", "-c", "id -u; cat /proc/self/status"])
    assert r.rc == 0, r.describe()
    uid = r.stdout.splitlines()[0]
    assert uid.isdigit() and int(uid) != 0, r.describe()
    fields = status_fields(r.stdout)
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(fields[cap], 16) == 0, f"{cap}={fields.get(cap)}" + r.describe()
    assert fields.get("NoNewPrivs") == "1", r.describe()
    assert fields.get("Seccomp") == "2", r.describe()  # filter mode


ESCAPE_COMMANDS = {
    "unshare-net": "unshare -n true",
    "unshare-user": "unshare -U -r true",
    "mount-tmpfs": "mkdir -p /tmp/awfit-mnt-$$ && mount -t tmpfs x /tmp/awfit-mnt-$$",
    "nsenter-init": "nsenter -t 1 -n true",
    "chroot": "chroot / true",
    "ip-link-add": "ip link add d0 type dummy",
    "ip-route-add": "ip route add 10.0.0.0/8 dev lo",
}


@pytest.mark.parametrize("name", sorted(ESCAPE_COMMANDS))
def test_escape_commands_fail(awf, name):
    cmd = ESCAPE_COMMANDS[name]
    r = awf(["-d", "allowed.test"], ["bash", "-c", f"{cmd}; echo rc=$?; rmdir /tmp/awfit-mnt-$$ 2>/dev/null; true"])
    assert r.rc == 0, r.describe()
    m = re.search(r"^rc=(\d+)$", r.stdout, re.M)
    assert m and int(m.group(1)) != 0, f"{cmd!r} succeeded" + r.describe()


# Each probe prints the errno a system call failed with (0 when it succeeded). Syscall numbers
# are x86_64's.
SYSCALL_PROBE = r'''
import ctypes, errno, fcntl, json, os, socket, termios
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
out = {}

def sys(name, nr, *args):
    ctypes.set_errno(0)
    rc = libc.syscall(ctypes.c_long(nr), *[ctypes.c_long(a) if isinstance(a, int) else a for a in args])
    if rc == 0 and name.startswith("clone"):
        os._exit(0)                 # a child that should never have been born
    if rc > 0 and name.startswith("clone"):
        os.waitpid(rc, 0)
    out[name] = ctypes.get_errno() if rc < 0 else 0

def sock(name, *args):
    try:
        socket.socket(*args).close()
        out[name] = 0
    except OSError as e:
        out[name] = e.errno

CLONE_NEWUSER, CLONE_NEWNET, CLONE_NEWNS, SIGCHLD = 0x10000000, 0x40000000, 0x20000, 17
sys("unshare_user", 272, CLONE_NEWUSER)
sys("unshare_net", 272, CLONE_NEWNET)
sys("clone_newuser", 56, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)
sys("clone_newns", 56, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0)
sys("clone3", 435, 0, 0)
sys("mount", 165, b"none", b"/tmp", b"tmpfs", 0, 0)
sys("umount2", 166, b"/proc", 2)
sys("pivot_root", 155, b"/", b"/")
sys("chroot", 161, b"/")
sys("setns", 308, os.open("/proc/self/ns/net", os.O_RDONLY), 0)
sys("bpf", 321, 5, 0, 0)
sys("perf_event_open", 298, 0, 0, -1, -1, 0)
sys("keyctl", 250, 0, -3, 0)
sys("add_key", 248, b"user", b"awf", b"x", 1, -3)
sys("userfaultfd", 323, 0)
sys("io_uring_setup", 425, 1, ctypes.create_string_buffer(120))
sys("process_vm_readv", 310, os.getpid(), 0, 0, 0, 0, 0)
sys("open_by_handle_at", 304, -100, 0, 0)
sys("init_module", 175, 0, 0, b"")
sys("kexec_load", 246, 0, 0, 0, 0)
sys("reboot", 169, 0, 0, 0, 0)
sys("swapoff", 168, b"/x")
fd = os.open("/dev/null", os.O_RDONLY)
try:
    fcntl.ioctl(fd, termios.TIOCSTI, b"x")
    out["tiocsti"] = 0
except OSError as e:
    out["tiocsti"] = e.errno

# ptrace(PTRACE_ATTACH) of our own child: allowed by the kernel's uid rules, denied by seccomp.
child = os.fork()
if child == 0:
    import time
    time.sleep(30)
    os._exit(0)
sys("ptrace_attach", 101, 16, child, 0, 0)
os.kill(child, 9)
os.waitpid(child, 0)

sock("af_packet", socket.AF_PACKET, socket.SOCK_RAW, 0)
sock("inet_raw_icmp", socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
sock("inet6_raw", socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
sock("inet_raw_nonblock", socket.AF_INET, socket.SOCK_RAW | socket.SOCK_NONBLOCK, socket.IPPROTO_UDP)
sock("inet_sock_packet", socket.AF_INET, 10, 0)
sock("netlink_audit", socket.AF_NETLINK, socket.SOCK_RAW, 9)
sock("netlink_netfilter", socket.AF_NETLINK, socket.SOCK_RAW, 12)
sock("netlink_generic", socket.AF_NETLINK, socket.SOCK_RAW, 16)
sock("vsock", 40, socket.SOCK_STREAM, 0)
sock("af_alg", 38, socket.SOCK_SEQPACKET, 0)
sock("netlink_route", socket.AF_NETLINK, socket.SOCK_RAW, 0)
sock("inet_stream", socket.AF_INET, socket.SOCK_STREAM, 0)
sock("inet6_dgram", socket.AF_INET6, socket.SOCK_DGRAM, 0)
sock("unix_stream", socket.AF_UNIX, socket.SOCK_STREAM, 0)
print(json.dumps(out))
'''

DENIED_EPERM = [
    "unshare_user", "unshare_net", "clone_newuser", "clone_newns", "mount", "umount2",
    "pivot_root", "chroot", "setns", "bpf", "perf_event_open", "keyctl", "add_key", "userfaultfd",
    "io_uring_setup", "process_vm_readv", "open_by_handle_at", "init_module", "kexec_load",
    "reboot", "swapoff", "tiocsti", "ptrace_attach", "af_packet", "inet_raw_icmp", "inet6_raw",
    "inet_raw_nonblock", "inet_sock_packet", "netlink_audit", "netlink_netfilter",
    "netlink_generic", "vsock", "af_alg",
]
ALLOWED_SOCKETS = ["netlink_route", "inet_stream", "inet6_dgram", "unix_stream"]


def test_seccomp_denies_escapes_with_eperm(awf, vnet, nonce):
    probe = write_script(vnet, f"syscalls-{nonce}.py", SYSCALL_PROBE)
    r = awf(["-d", "allowed.test"], [V.PY, probe])
    assert r.rc == 0, r.describe()
    got = json.loads(r.stdout.strip().splitlines()[-1])
    wrong = {k: got.get(k) for k in DENIED_EPERM if got.get(k) != 1}
    assert not wrong, f"not EPERM: {wrong}" + r.describe()
    # clone3 says ENOSYS, so that glibc falls back to clone, whose flags the filter sees.
    assert got["clone3"] == 38, r.describe()
    wrong = {k: got.get(k) for k in ALLOWED_SOCKETS if got.get(k) != 0}
    assert not wrong, f"denied: {wrong}" + r.describe()


def test_glibc_and_iproute_still_work(awf):
    """NETLINK_ROUTE stays allowed: `ip addr` reads, getaddrinfo(AI_ADDRCONFIG) resolves."""
    script = ("ip -o addr show lo; " + shlex.join([
        V.PY, "-c", "import socket; print('gai', socket.getaddrinfo('allowed.test', 443, "
        "type=socket.SOCK_STREAM, flags=socket.AI_ADDRCONFIG)[0][4][0])"]))
    r = awf(["-d", "allowed.test"], ["bash", "-c", script])
    assert r.rc == 0, r.describe()
    assert re.search(r"^\d+: lo\s+inet 127\.0\.0\.1/8", r.stdout, re.M), r.describe()
    assert re.search(r"^gai \S+$", r.stdout, re.M), r.describe()


INT80_PROBE = r'''
import ctypes, mmap, os
code = bytes([0xb8, 0x14, 0, 0, 0, 0xcd, 0x80, 0xc3])  # mov eax, 20 (i386 getpid); int 0x80; ret
buf = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
buf.write(code)
getpid32 = ctypes.CFUNCTYPE(ctypes.c_int)(ctypes.addressof(ctypes.c_char.from_buffer(buf)))
print("int80", getpid32(), os.getpid(), flush=True)
'''


def test_i386_syscalls_kill_the_process(awf, vnet, nonce):
    """A 64-bit process entering the kernel through the i386 ABI (int 0x80) would skip every
    rule of a native-only filter: the filter kills it instead (SIGSYS, status 159)."""
    probe = write_script(vnet, f"int80-{nonce}.py", INT80_PROBE)
    control = subprocess.run([V.PY, probe], capture_output=True, text=True, timeout=30)
    m = re.search(r"^int80 (-?\d+) (\d+)$", control.stdout, re.M)
    if control.returncode != 0 or not m or m.group(1) != m.group(2):
        pytest.skip(f"no i386 syscall emulation here: rc={control.returncode} {control.stdout!r}")
    r = awf(["-d", "allowed.test"], [V.PY, probe])
    assert r.rc == 128 + signal.SIGSYS, r.describe()
    assert "int80" not in r.stdout, r.describe()
    assert r.last_stderr_line == EXIT_LINE.format(128 + signal.SIGSYS), r.describe()


# ============================================================================ what it cannot see
def test_host_processes_invisible(awf):
    r = awf(["-d", "allowed.test"], ["bash", "-c", "ps -e -o pid=,comm="])
    assert r.rc == 0, r.describe()
    procs = [line.split(None, 1) for line in r.stdout.strip().splitlines()]
    names = [p[1] for p in procs]
    assert len(procs) <= 4, r.describe()
    assert procs[0] == ["1", "awf-sandbox"], r.describe()
    assert set(names) <= {"awf-sandbox", "bash", "ps"}, r.describe()


@pytest.mark.parametrize("extra", [[], ["--env-all"], ["--env-all", "-e", "GITHUB_TOKEN=x"]],
                         ids=["default", "env-all", "env-all-and-e"])
def test_secrets_in_awfs_environment_stay_out(awf, nonce, extra):
    secret = f"s3cr3t-{nonce}"
    script = ("cat /proc/1/environ 2>/dev/null | tr '\\0' '\\n'; echo; "
              "cat /proc/self/environ | tr '\\0' '\\n'; echo; env; echo SOCK=${SSH_AUTH_SOCK-unset}")
    token = f"ghp-secret-{nonce}"
    r = awf(["-d", "allowed.test", *extra], ["bash", "-c", script],
            env={"AWF_TEST_SECRET": secret, "GITHUB_TOKEN": token,
                 "SSH_AUTH_SOCK": f"/tmp/ssh-{nonce}/agent.1"})
    assert r.rc == 0, r.describe()
    # A secret name never passes, not in the init's environment either; other variables only
    # with --env-all.
    assert token not in r.stdout, r.describe()
    assert (secret in r.stdout) == ("--env-all" in extra), r.describe()
    assert "SOCK=unset" in r.stdout and "SSH_AUTH_SOCK" not in r.stdout.replace("SOCK=unset", ""), \
        r.describe()


# ---------------------------------------------------------------------------------------- HOME
@pytest.fixture
def home_user(vnet, nonce):
    """A throwaway user whose HOME holds tool directories and credentials (removed afterwards)."""
    if shutil.which("useradd", path=V.SAFE_PATH) is None:
        pytest.skip("useradd missing")
    name = f"awfit{nonce[:8]}"
    home = f"/home/{name}"
    V.run(["useradd", "-M", "-U", "-d", home, "-s", "/bin/sh", name])
    other = f"/home/awfit-other-{nonce[:8]}"
    outside = os.path.join(vnet.scratch_dir, f"rclone-{nonce}.conf")
    try:
        pw = pwd.getpwnam(name)
        files = {
            ".ssh/id_rsa": "PRIVATE KEY", ".ssh/config": "Host x",
            ".aws/credentials": "aws_secret", ".gitconfig": "[user]", ".netrc": "machine x",
            ".git-credentials": "https://u:p@x", ".docker/config.json": "{}", ".npmrc": "//t",
            ".cache/x": "cache-ok",
            ".config/gh/hosts.yml": "oauth_token: gho_secret", ".config/gh/config.yml": "editor: vi",
            ".config/gcloud/legacy_credentials/me/adc.json": "gcloud_secret",
            ".claude/.credentials.json": "claude_secret", ".claude/settings.json": "{\"ok\": 1}",
            ".cargo/credentials.toml": "cargo_secret",
        }
        for rel, text in files.items():
            path = os.path.join(home, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        # A credential that is a symlink out of HOME: masked where it lands.
        with open(outside, "w") as f:
            f.write("rclone_secret")
        os.chmod(outside, 0o644)
        os.makedirs(os.path.join(home, ".config/rclone"))
        os.symlink(outside, os.path.join(home, ".config/rclone/rclone.conf"))
        os.makedirs(os.path.join(home, "project"))
        for root, dirs, fnames in os.walk(home):
            for n in dirs + fnames:
                os.lchown(os.path.join(root, n), pw.pw_uid, pw.pw_gid)
        os.chown(home, pw.pw_uid, pw.pw_gid)
        os.chmod(home, 0o755)
        os.chown(outside, pw.pw_uid, pw.pw_gid)
        # Another user's world-readable file.
        os.makedirs(other)
        with open(os.path.join(other, "public.txt"), "w") as f:
            f.write("other_user_data")
        os.chmod(os.path.join(other, "public.txt"), 0o644)
        yield {"name": name, "home": home, "uid": pw.pw_uid, "outside": outside, "other": other}
    finally:
        V.run(["userdel", name], check=False)
        V.run(["groupdel", name], check=False)
        shutil.rmtree(home, ignore_errors=True)
        shutil.rmtree(other, ignore_errors=True)
        if os.path.exists(outside):
            os.unlink(outside)


def test_home_is_deny_by_default(awf, home_user):
    u = home_user
    script = "; ".join([
        "echo HOME=$HOME",
        "echo home=$(ls -A $HOME | sort | tr '\\n' ,)",
        "for f in .ssh .ssh/id_rsa .aws .aws/credentials .gitconfig .netrc .git-credentials "
        ".docker .npmrc; do test -e $HOME/$f && echo present=$f; done",
        "echo cache=$(cat $HOME/.cache/x)",
        "echo ghcfg=$(cat $HOME/.config/gh/config.yml)",
        "echo claude_settings=$(cat $HOME/.claude/settings.json)",
        "for f in .config/gh/hosts.yml .claude/.credentials.json .cargo/credentials.toml "
        ".config/rclone/rclone.conf; do echo size:$f=$(wc -c < $HOME/$f); done",
        f"echo size:outside=$(wc -c < {shlex.quote(u['outside'])})",
        "echo legacy=$(ls -A $HOME/.config/gcloud/legacy_credentials | wc -l)",
        "echo x >> $HOME/.config/gh/hosts.yml 2>/dev/null; echo write_hosts=$?",
        "echo kept > $HOME/.cache/written; echo write_cache=$?",
        "echo gone > $HOME/scratch-file; echo write_home=$?",
        "echo homes=$(ls -A /home | tr '\\n' ,)",
        "echo root=$(ls -A /root 2>/dev/null | wc -l)",
        f"cat {shlex.quote(u['other'])}/public.txt 2>/dev/null; echo other_rc=$?",
    ])
    r = awf(["-d", "allowed.test", "--user", u["name"]], ["bash", "-c", script])
    assert r.rc == 0, r.describe()
    out = r.stdout
    assert f"HOME={u['home']}\n" in out, r.describe()
    assert "present=" not in out, r.describe()
    listed = set(re.search(r"^home=(.*)$", out, re.M).group(1).strip(",").split(","))
    assert listed <= {".cache", ".config", ".claude", ".cargo", "project", "scratch-file"}, r.describe()
    assert {".cache", ".config", ".claude", ".cargo"} <= listed, r.describe()
    assert "cache=cache-ok" in out and "ghcfg=editor: vi" in out, r.describe()
    assert 'claude_settings={"ok": 1}' in out, r.describe()
    for f in (".config/gh/hosts.yml", ".claude/.credentials.json", ".cargo/credentials.toml",
              ".config/rclone/rclone.conf", "outside"):
        assert f"size:{f}=0\n" in out, f + r.describe()
    for secret in ("gho_secret", "claude_secret", "cargo_secret", "rclone_secret", "gcloud_secret",
                   "PRIVATE KEY", "aws_secret", "other_user_data"):
        assert secret not in out, secret + r.describe()
    assert "legacy=0" in out, r.describe()
    assert re.search(r"^write_hosts=[1-9]", out, re.M), r.describe()
    assert "write_cache=0" in out and "write_home=0" in out, r.describe()
    assert out.count("homes=") == 1 and f"homes={u['name']},\n" in out, r.describe()
    assert "root=0" in out, r.describe()
    assert re.search(r"^other_rc=[1-9]", out, re.M), r.describe()
    # Tool directories read as the real ones; writes to them (a per-run layer) and to the rest
    # of the empty HOME vanish with the run (test_persistence.py has --persist-home-dir).
    assert not os.path.exists(os.path.join(u["home"], ".cache/written"))
    assert not os.path.exists(os.path.join(u["home"], "scratch-file"))
    with open(os.path.join(u["home"], ".config/gh/hosts.yml")) as f:
        assert f.read() == "oauth_token: gho_secret"
    assert open(u["outside"]).read() == "rclone_secret"


def test_workspace_inside_home_stays_writable(awf, home_user):
    u = home_user
    project = os.path.join(u["home"], "project")
    script = ("pwd; echo made > made.txt; echo rc=$?; "
              "test -e $HOME/.ssh && echo ssh-visible; wc -c < $HOME/.config/gh/hosts.yml")
    r = awf(["-d", "allowed.test", "--user", u["name"], "--container-workdir", project],
            ["bash", "-c", script], prefix=["env", "-C", project])
    assert r.rc == 0, r.describe()
    lines = r.stdout.splitlines()
    assert lines[0] == project and "rc=0" in lines, r.describe()
    assert "ssh-visible" not in r.stdout and lines[-1].strip() == "0", r.describe()
    with open(os.path.join(project, "made.txt")) as f:
        assert f.read() == "made\n"


def test_workspace_containing_home_is_not_bound(awf, home_user):
    u = home_user
    r = awf(["-d", "allowed.test", "--user", u["name"]],
            ["bash", "-c", "pwd; test -e $HOME/.ssh/id_rsa && echo key-visible; ls -A"],
            prefix=["env", "-C", u["home"]])
    assert r.rc == 0, r.describe()
    assert "key-visible" not in r.stdout and ".ssh" not in r.stdout, r.describe()
    assert f"the working directory {u['home']} contains HOME" in r.stderr, r.describe()


# ------------------------------------------------------------------------------------ host IPC
IPC_SERVER = r'''
import os, socket, sys, threading
abstract, path, tmux_dir = sys.argv[1], sys.argv[2], sys.argv[3]
socks = []
for addr in ("\0" + abstract, path, os.path.join(tmux_dir, "default")):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(addr)
    s.listen(8)
    socks.append(s)
os.chmod(path, 0o777)
print("ready", flush=True)
def serve(s):
    while True:
        c, _ = s.accept()
        c.sendall(b"host-ipc-reached\n")
        c.close()
for s in socks:
    threading.Thread(target=serve, args=(s,), daemon=True).start()
sys.stdin.read()
'''

IPC_CLIENT = r'''
import socket, sys
for name, addr in (("abstract", "\0" + sys.argv[1]), ("path", sys.argv[2]), ("tmux", sys.argv[3])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(5)
        s.connect(addr)
        print(name, "connected", s.recv(100).decode().strip())
    except OSError as e:
        print(name, "refused", e.errno)
'''


def test_host_ipc_sockets_unreachable(awf, vnet, nonce):
    abstract = f"awfit-abstract-{nonce}"
    path = f"/tmp/awfit-{nonce}.sock"
    tmux_dir = f"/tmp/tmux-awfit{nonce}"
    krb = f"/tmp/krb5cc_awfit{nonce}"
    shm = f"/dev/shm/awfit-{nonce}"
    server = write_script(vnet, f"ipc-server-{nonce}.py", IPC_SERVER)
    client = write_script(vnet, f"ipc-client-{nonce}.py", IPC_CLIENT)
    os.makedirs(tmux_dir, mode=0o777)
    os.chmod(tmux_dir, 0o777)
    with open(krb, "w") as f:
        f.write("kerberos_ticket")
    os.chmod(krb, 0o644)
    with open(shm, "w") as f:
        f.write("host_shm")
    os.chmod(shm, 0o644)
    # The listener runs in the vnet's host namespace, where awf runs (abstract sockets belong
    # to a network namespace).
    p = subprocess.Popen(vnet.host_cmd([V.PY, server, abstract, path, tmux_dir]), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        tmux_sock = os.path.join(tmux_dir, "default")
        # Control: from the host namespace every socket answers.
        control = vnet.host_run([V.PY, client, abstract, path, tmux_sock])
        assert control.stdout.count("connected host-ipc-reached") == 3, control.stdout + control.stderr
        script = "; ".join([
            shlex.join([V.PY, client, abstract, path, tmux_sock]),
            f"echo tmux_entries=$(ls -A {tmux_dir} | wc -l)",
            f"echo krb=$(cat {krb} 2>/dev/null | wc -c)",  # masked, or absent (private /tmp)
            f"test -e {shm} && echo shm-visible",
            "echo run_sockets=$(find /run /var/run/ -type s 2>/dev/null | wc -l)",
        ])
        # Also with /tmp itself as the workspace (bound read-write): still masked.
        for prefix in ([], ["env", "-C", "/tmp"]):
            r = awf(["-d", "allowed.test"], ["bash", "-c", script], prefix=prefix)
            assert r.rc == 0, r.describe()
            out = r.stdout
            assert "connected" not in out and "host-ipc-reached" not in out, r.describe()
            for name in ("abstract", "path", "tmux"):
                assert re.search(rf"^{name} refused \d+$", out, re.M), name + r.describe()
            assert "tmux_entries=0" in out and "krb=0" in out, r.describe()
            assert "shm-visible" not in out and "run_sockets=0" in out, r.describe()
    finally:
        p.stdin.close()
        p.terminate()
        p.wait(timeout=10)
        for f in (path, krb, shm):
            if os.path.exists(f):
                os.unlink(f)
        shutil.rmtree(tmux_dir, ignore_errors=True)


# ============================================================================ resource limits
# `ip netns exec` gives awf a fresh /sys without the cgroup mounts; these tests run awf in the
# vnet's network namespace but in the test runner's own mount namespace, where they are.
HOST_MOUNTS = ["nsenter", f"--mount=/proc/{os.getpid()}/ns/mnt", "--wd=.", "--"]  # keeps the cwd (the workspace)
LIMIT_RE = re.compile(r"awf: limits: memory (\S+), (\d+) processes \(cgroup (v[12]) (\S+)(?: and (\S+))?\)")


@pytest.fixture(scope="module")
def cgroups(vnet):
    """Skips when this host cannot enforce the limits (awf says why)."""
    if not os.path.isfile(os.environ.get("AWF_BIN", V.DEFAULT_AWF_BIN)):
        pytest.skip("awf binary missing")
    if shutil.which("nsenter", path=V.SAFE_PATH) is None:
        pytest.skip("nsenter missing")
    r = vnet.awf_run(os.environ.get("AWF_BIN", V.DEFAULT_AWF_BIN),
                     ["--log-level", "debug", "-d", "allowed.test"], ["true"], label="cgroup-probe",
                     prefix=HOST_MOUNTS)
    if NOT_ENFORCED in r.stderr:
        why = r.stderr.split(NOT_ENFORCED + ": ", 1)[1].splitlines()[0]
        pytest.skip(f"this host cannot enforce cgroup limits: {why}")
    assert LIMIT_RE.search(r.stderr), r.describe()


def cgroup_dirs(stderr: str) -> list[str]:
    m = LIMIT_RE.search(stderr)
    assert m, stderr
    return [d for d in (m.group(4), m.group(5)) if d]


FORK_BOMB = r'''
import subprocess
started, refused, procs = 0, 0, []
for _ in range(200):
    try:
        procs.append(subprocess.Popen(["sleep", "30"]))
        started += 1
    except OSError:
        refused += 1
print(f"started={started} refused={refused}", flush=True)
for p in procs:
    p.kill()
    p.wait()
'''


def test_fork_bomb_bounded_by_pids_limit(awf, vnet, nonce, cgroups):
    script = write_script(vnet, f"forks-{nonce}.py", FORK_BOMB)
    r = awf(["--log-level", "debug", "-d", "allowed.test", "--pids-limit", "50"], [V.PY, script],
            timeout=120, prefix=HOST_MOUNTS)
    assert r.rc == 0, r.describe()
    m = re.search(r"started=(\d+) refused=(\d+)", r.stdout)
    assert m, r.describe()
    started, refused = int(m.group(1)), int(m.group(2))
    assert started < 50 and refused > 150, r.describe()
    assert re.search(r"awf: the sandbox hit its process limit \(--pids-limit 50\): \d+ forks? "
                     r"(was|were) refused", r.stderr), r.describe()
    assert r.last_stderr_line == EXIT_LINE.format(0), r.describe()
    for d in cgroup_dirs(r.stderr):
        assert not os.path.exists(d), f"cgroup {d} left behind" + r.describe()


def test_fork_bomb_bounded_without_cgroup_mount(awf, vnet, nonce, cgroups):
    """`ip netns exec` gives awf a /sys without the cgroup mounts (the control shows it): awf
    mounts the hierarchies privately and the limit still holds, leaving nothing behind."""
    control = vnet.host_run(["stat", "-f", "-c", "%T", "/sys/fs/cgroup"], check=True)
    assert control.stdout.strip() not in ("cgroup2fs", "tmpfs"), control.stdout
    script = write_script(vnet, f"forks-nomount-{nonce}.py", FORK_BOMB)
    r = awf(["--log-level", "debug", "-d", "allowed.test", "--pids-limit", "50"], [V.PY, script],
            timeout=120)
    assert r.rc == 0, r.describe()
    m = re.search(r"started=(\d+) refused=(\d+)", r.stdout)
    assert m and int(m.group(1)) < 50 and int(m.group(2)) > 150, r.describe()
    assert "the sandbox hit its process limit (--pids-limit 50)" in r.stderr, r.describe()
    for d in cgroup_dirs(r.stderr):
        assert d.startswith("/sys/fs/cgroup/"), r.describe()
        assert not os.path.exists(d), f"cgroup {d} left behind" + r.describe()
    mounts = open("/proc/self/mountinfo").read()
    assert "/proc/self/fd" not in mounts and "awf-run-" not in mounts


def test_memory_hog_bounded_by_memory_limit(awf, cgroups):
    hog = "x = b'x' * (256 << 20); print('allocated', len(x))"
    r = awf(["--log-level", "debug", "-d", "allowed.test", "--memory-limit", "64m"],
            [V.PY, "-c", hog], timeout=120, prefix=HOST_MOUNTS)
    assert "allocated" not in r.stdout, r.describe()
    if r.rc == 137:  # the kernel's OOM killer (the usual outcome)
        assert re.search(r"awf: the sandbox hit its memory limit \(--memory-limit 64m\): \d+ "
                         r"process(es)? (was|were) killed", r.stderr), r.describe()
    else:  # the allocation itself failed
        assert r.rc == 1 and "MemoryError" in r.stderr, r.describe()
    assert r.last_stderr_line == EXIT_LINE.format(r.rc), r.describe()
    assert LIMIT_RE.search(r.stderr).group(1) == "64m", r.describe()
    for d in cgroup_dirs(r.stderr):
        assert not os.path.exists(d), f"cgroup {d} left behind" + r.describe()


def test_cgroup_of_killed_awf_removed_by_next_run(awf, cgroups):
    p = awf.popen(["--log-level", "debug", "-d", "allowed.test"],
                  ["bash", "-c", "echo ready; exec sleep 60"], prefix=HOST_MOUNTS)
    try:
        assert p.stdout.readline().strip() == b"ready"
        stderr = b""
        while not LIMIT_RE.search(stderr.decode(errors="replace")):
            chunk = os.read(p.stderr.fileno(), 4096)
            assert chunk, stderr
            stderr += chunk
        dirs = cgroup_dirs(stderr.decode())
        assert all(os.path.isdir(d) for d in dirs), dirs
        os.kill(p.pid, signal.SIGKILL)  # `ip netns exec` and nsenter exec: p.pid is awf
        p.wait(timeout=10)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    # Nobody could remove it; the sandbox dies with awf (parent-death signal), which empties it.
    deadline = time.monotonic() + 10
    while any(os.path.exists(os.path.join(d, "cgroup.procs")) and open(os.path.join(d, "cgroup.procs")).read().strip()
              for d in dirs) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(os.path.isdir(d) for d in dirs), dirs
    r = awf(["-d", "allowed.test"], ["true"], prefix=HOST_MOUNTS)
    assert r.rc == 0, r.describe()
    left = [d for d in dirs if os.path.exists(d)]
    assert not left, f"stale cgroups not removed: {left}" + r.describe()


@pytest.mark.parametrize("args,message", [
    (["--memory-limit", "5x"], "--memory-limit '5x': expected a size"),
    (["--memory-limit", "1m"], "--memory-limit '1m': must be at least 4m"),
    (["--memory-limit", ""], "--memory-limit '': expected a size"),
    (["--pids-limit", "0"], "--pids-limit '0': must be at least 2"),
    (["--pids-limit", "many"], "--pids-limit 'many': expected a number"),
])
def test_bad_limit_values_are_usage_errors(awf, args, message):
    r = awf(["-d", "allowed.test", *args], ["true"])
    assert r.rc == 1, r.describe()
    assert message in r.stderr, r.describe()
    assert r.last_stderr_line == EXIT_LINE.format(1), r.describe()


def test_limits_warning_when_not_root(awf, vnet, nonce):
    if shutil.which("setpriv", path=V.SAFE_PATH) is None:
        pytest.skip("setpriv missing")
    logs = os.path.join(vnet.scratch_dir, f"rootless-limits-{nonce}")
    r = awf(["-d", "allowed.test"], ["true"], logs_dir=logs, prefix=SETPRIV_NOBODY)
    assert r.rc == 0, r.describe()
    warnings = [l for l in r.stderr_lines if NOT_ENFORCED in l]
    assert warnings == [f"awf: warning: {NOT_ENFORCED}: awf is not running as root"], r.describe()
