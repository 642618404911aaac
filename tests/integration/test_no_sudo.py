"""awf as gh-aw runs it today: plain `awf` as the runner user, no sudo (and, for the file
ownership, the legacy `sudo -E awf`). Unprivileged user namespaces that the host disables or
restricts are named with their fix; every file awf writes belongs to the invoking user; an
explicit --memory-limit/--pids-limit is enforced (in a delegated cgroup) or refused; the command
always has a writable HOME.

Host sysctls are never changed: user.max_user_namespaces is set to 0 in a user namespace the
test creates (the limit is per namespace), and the other switches are simulated by files
mounted over /proc/sys/kernel in a mount namespace of the test's own."""

from __future__ import annotations

import os
import re
import shutil
import stat

import pytest

import vnet as V
from test_confinement import FORK_BOMB  # one fork bomb for every limit test

NOBODY = 65534
SETPRIV = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups"]
EXIT_1 = "Process exiting with code: 1"
SUDO_UID, SUDO_GID = 12345, 23456
# /sys/fs/cgroup as the test runner sees it (`ip netns exec` remounts /sys without cgroups).
HOST_MOUNTS = ["nsenter", f"--mount=/proc/{os.getpid()}/ns/mnt", "--wd=.", "--"]  # keeps the cwd (the workspace)

# Runs argv[1:] as uid/gid 65534 in a user namespace whose own user.max_user_namespaces is 0
# (root of that namespace may set it; it limits only namespaces created inside it).
NO_USERNS = r'''
import ctypes, os, sys
CLONE_NEWUSER = 0x10000000
libc = ctypes.CDLL(None, use_errno=True)
ready_r, ready_w = os.pipe()
child = os.fork()
if child == 0:  # still in the parent namespace, with root's rights there: writes the maps
    os.read(ready_r, 1)
    parent = os.getppid()
    for name in ("uid_map", "gid_map"):
        with open(f"/proc/{parent}/{name}", "w") as f:
            f.write("0 0 1\n65534 65534 1\n")
    os._exit(0)
if libc.unshare(CLONE_NEWUSER) != 0:
    sys.exit("unshare: " + os.strerror(ctypes.get_errno()))
os.write(ready_w, b"x")
os.waitpid(child, 0)
with open("/proc/sys/user/max_user_namespaces", "w") as f:
    f.write("0")
os.setgroups([])
os.setresgid(65534, 65534, 65534)
os.setresuid(65534, 65534, 65534)
os.execvp(sys.argv[1], sys.argv[1:])
'''

# In a mount namespace of its own: shows argv[1]=argv[2] pairs (until "--") as the only files
# of /proc/sys/kernel; with "deny-sethostname" first, sethostname(2) then fails with EPERM (a
# user namespace that grants nothing, as under AppArmor's restriction). Then runs the rest.
# (A sandbox cannot get past its /proc mount under this fake: the kernel refuses a new proc in
# a user namespace while a proc directory is covered. Both refusals come before that.)
FAKE_KERNEL = r'''
import ctypes, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNS, MS_REC, MS_PRIVATE = 0x20000, 0x4000, 0x40000
def check(rc, what):
    if rc != 0:
        sys.exit(what + ": " + os.strerror(ctypes.get_errno()))
args = sys.argv[1:]
deny = args[0] == "deny-sethostname"
if deny:
    args = args[1:]
split = args.index("--")
pairs, command = args[:split], args[split + 1:]
if pairs:
    check(libc.unshare(CLONE_NEWNS), "unshare")
    check(libc.mount(b"none", b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None),
          "mount private")
    check(libc.mount(b"tmpfs", b"/proc/sys/kernel", b"tmpfs", ctypes.c_ulong(0), b"mode=0755"),
          "mount tmpfs")
    for name, value in zip(pairs[::2], pairs[1::2]):
        with open("/proc/sys/kernel/" + name, "w") as f:
            f.write(value + "\n")
if deny:
    # seccomp: sethostname (x86_64: 170, aarch64: 161) -> EPERM, everything else allowed.
    nr = {"x86_64": 170, "aarch64": 161}[os.uname().machine]
    prog = [(0x20, 0, 0, 0), (0x15, 0, 1, nr), (0x06, 0, 0, 0x00050000 | 1),
            (0x06, 0, 0, 0x7fff0000)]
    raw = b"".join(struct.pack("HBBI", *ins) for ins in prog)
    buf = ctypes.create_string_buffer(raw)
    fprog = struct.pack("HxxxxxxQ", len(prog), ctypes.addressof(buf))
    ul = ctypes.c_ulong
    check(libc.prctl(38, ul(1), ul(0), ul(0), ul(0)), "no_new_privs")
    check(libc.prctl(22, ul(2), ctypes.c_char_p(fprog), ul(0), ul(0)), "seccomp")
os.execvp(command[0], command)
'''


def helper(vnet, name: str, source: str) -> str:
    path = os.path.join(vnet.scratch_dir, name)
    with open(path, "w") as f:
        f.write(source)
    return path


def says(r, message: str) -> bool:
    """Whether a line of awf's stderr ends with `message` (whatever prefix awf's error
    lines carry: "awf: error: " or AWF's "Fatal error: ")."""
    return any(line.endswith(message) for line in r.stderr_lines)


def assert_refused_cleanly(r, logs: str, marker: str):
    assert r.rc == 1, r.describe()
    assert r.last_stderr_line == EXIT_1, r.describe()
    assert not os.path.exists(marker), "the command ran" + r.describe()
    assert not os.path.exists(logs), "awf left its log directory behind" + r.describe()


# ============================================================================ 1. user namespaces
def test_max_user_namespaces_zero_is_named_with_the_fix(awf, vnet, nonce):
    if shutil.which("setpriv", path=V.SAFE_PATH) is None:
        pytest.skip("setpriv missing")
    script = helper(vnet, f"no-userns-{nonce}.py", NO_USERNS)
    logs = os.path.join(vnet.scratch_dir, f"no-userns-logs-{nonce}")
    marker = os.path.join(vnet.scratch_dir, f"no-userns-ran-{nonce}")
    r = awf(["-d", "allowed.test"], ["touch", marker], logs_dir=logs, prefix=[V.PY, script])
    assert says(r, "cannot create the sandbox: unprivileged user namespaces are disabled "
                "(user.max_user_namespaces=0); run awf with sudo, or allow them: "
                "sudo sysctl -w user.max_user_namespaces=15000"), r.describe()
    assert "No space left on device" not in r.stderr, r.describe()
    assert_refused_cleanly(r, logs, marker)


def test_debian_switch_is_named_with_the_fix(awf, vnet, nonce):
    script = helper(vnet, f"fake-kernel-{nonce}.py", FAKE_KERNEL)
    logs = os.path.join(vnet.scratch_dir, f"debian-logs-{nonce}")
    marker = os.path.join(vnet.scratch_dir, f"debian-ran-{nonce}")
    r = awf(["-d", "allowed.test"], ["touch", marker], logs_dir=logs,
            prefix=[V.PY, script, "unprivileged_userns_clone", "0", "--", *SETPRIV])
    assert says(r, "cannot create the sandbox: unprivileged user namespaces are disabled "
                "(kernel.unprivileged_userns_clone=0); run awf with sudo, or allow them: "
                "sudo sysctl -w kernel.unprivileged_userns_clone=1"), r.describe()
    assert_refused_cleanly(r, logs, marker)


def test_apparmor_restriction_is_named_with_both_fixes(awf, vnet, nonce):
    """Ubuntu's restriction lets the clone succeed; the namespace then grants nothing."""
    script = helper(vnet, f"fake-kernel-{nonce}.py", FAKE_KERNEL)
    logs = os.path.join(vnet.scratch_dir, f"apparmor-logs-{nonce}")
    marker = os.path.join(vnet.scratch_dir, f"apparmor-ran-{nonce}")
    r = awf(["-d", "allowed.test"], ["touch", marker], logs_dir=logs,
            prefix=[V.PY, script, "deny-sethostname", "apparmor_restrict_unprivileged_userns", "1",
                    "--", *SETPRIV])
    assert says(r, "cannot create the sandbox: unprivileged user namespaces are restricted by "
                "AppArmor (kernel.apparmor_restrict_unprivileged_userns=1: sethostname: Operation "
                "not permitted); run awf with sudo, or allow them for awf: an AppArmor profile "
                "for awf with the `userns,` rule (docs/security.md), or sudo sysctl -w "
                "kernel.apparmor_restrict_unprivileged_userns=0"), r.describe()
    assert_refused_cleanly(r, logs, marker)
    # Control: the same denial without that sysctl is not blamed on AppArmor.
    r = awf(["-d", "allowed.test"], ["touch", marker], logs_dir=logs + "-control",
            prefix=[V.PY, script, "deny-sethostname", "--", *SETPRIV])
    assert r.rc == 1 and r.last_stderr_line == EXIT_1, r.describe()
    assert ("cannot create the sandbox: unprivileged user namespaces are not permitted here "
            "(the namespace grants no privileges: sethostname: Operation not permitted; "
            ) in r.stderr, r.describe()
    assert "AppArmor" not in r.stderr, r.describe()
    assert not os.path.exists(marker), "the command ran" + r.describe()


# ============================================================================ 2. file ownership
def owners_below(top: str) -> dict[str, tuple[int, int]]:
    found = {}
    for root, dirs, files in os.walk(top):
        for name in [*dirs, *files]:
            path = os.path.join(root, name)
            st = os.lstat(path)
            found[os.path.relpath(path, top)] = (st.st_uid, st.st_gid)
    return found


def output_args(top: str) -> tuple[list[str], str]:
    logs = os.path.join(top, "logs", "run")
    args = ["-d", "allowed.test", "--audit-dir", os.path.join(top, "audit", "run"),
            "--work-dir", os.path.join(top, "work"), "--keep-containers",
            "--session-state-dir", os.path.join(top, "state", "copilot")]
    return args, logs


def test_files_belong_to_the_sudo_user(awf, vnet, nonce):
    top = os.path.join(vnet.scratch_dir, f"sudo-out-{nonce}")
    os.makedirs(top)  # root's, as a directory awf did not create
    # A directory that exists and belongs to someone else keeps its owner.
    existing = os.path.join(top, "audit")
    os.makedirs(existing)
    args, logs = output_args(top)
    r = awf(args, ["sh", "-c", "id -u"], logs_dir=logs,
            env={"SUDO_UID": str(SUDO_UID), "SUDO_GID": str(SUDO_GID)})
    assert r.rc == 0 and r.stdout.strip() == str(SUDO_UID), r.describe()
    found = owners_below(top)
    for path in ("logs", "logs/run", "logs/run/access.log", "logs/run/audit.jsonl",
                 "logs/run/policy-manifest.json", "audit/run", "audit/run/policy-manifest.json",
                 "audit/run/awf-config.json", "work", "work/policy-manifest.json",
                 "work/awf-config.json", "state", "state/copilot"):
        assert found.get(path) == (SUDO_UID, SUDO_GID), f"{path}: {found.get(path)}" + r.describe()
    assert found["audit"] == (0, 0), found
    assert os.lstat(top).st_uid == 0
    # Everything else awf wrote there too (nothing is root's but the two directories above).
    assert {p for p, o in found.items() if o != (SUDO_UID, SUDO_GID)} == {"audit"}, found


def test_existing_files_are_not_taken_over(awf, vnet, nonce):
    """A file that exists keeps its owner, and a symlink planted in its place is not followed."""
    top = os.path.join(vnet.scratch_dir, f"sudo-existing-{nonce}")
    logs = os.path.join(top, "logs")
    os.makedirs(logs)
    with open(os.path.join(logs, "access.log"), "w"):
        pass
    target = os.path.join(top, "victim")
    with open(target, "w") as f:
        f.write("untouched\n")
    os.symlink(target, os.path.join(logs, "audit.jsonl"))
    r = awf(["-d", "allowed.test"], ["true"], logs_dir=logs,
            env={"SUDO_UID": str(SUDO_UID), "SUDO_GID": str(SUDO_GID)})
    assert r.rc == 1, r.describe()
    assert os.lstat(os.path.join(logs, "access.log")).st_uid == 0
    st = os.lstat(target)
    assert (st.st_uid, open(target).read()) == (0, "untouched\n")


def test_files_belong_to_the_unprivileged_user(awf, vnet, nonce):
    if shutil.which("setpriv", path=V.SAFE_PATH) is None:
        pytest.skip("setpriv missing")
    top = os.path.join(vnet.scratch_dir, f"user-out-{nonce}")
    os.makedirs(top)
    os.chown(top, NOBODY, NOBODY)
    args, logs = output_args(top)
    r = awf(args, ["true"], logs_dir=logs, prefix=SETPRIV)
    assert r.rc == 0, r.describe()
    found = owners_below(top)
    assert len(found) == 14, found
    assert all(o == (NOBODY, NOBODY) for o in found.values()), found


# ============================================================================ 3. resource limits
def test_explicit_limit_refused_without_a_cgroup(awf, vnet, nonce):
    if shutil.which("setpriv", path=V.SAFE_PATH) is None:
        pytest.skip("setpriv missing")
    logs = os.path.join(vnet.scratch_dir, f"limit-refused-{nonce}")
    marker = os.path.join(vnet.scratch_dir, f"limit-ran-{nonce}")
    r = awf(["-d", "allowed.test", "--memory-limit", "2g"], ["touch", marker], logs_dir=logs,
            prefix=SETPRIV)
    assert says(r, "--memory-limit 2g cannot be enforced: awf is not running as root (run awf "
                "with sudo, or in a cgroup delegated to your user with the memory and pids "
                "controllers, e.g. systemd-run --user --scope -p Delegate=yes awf ...; or leave "
                "the limit out)"), r.describe()
    assert_refused_cleanly(r, logs, marker)
    r = awf(["-d", "allowed.test", "--pids-limit", "100"], ["touch", marker], logs_dir=logs,
            prefix=SETPRIV)
    assert ": --pids-limit 100 cannot be enforced: " in r.stderr, r.describe()
    assert_refused_cleanly(r, logs, marker)


class DelegatedCgroup:
    """A cgroup the test (as root) hands to uid 65534, as a systemd delegation would, and a
    prefix that moves awf's shell into it before it becomes 65534."""

    def __init__(self, nonce: str):
        self.dirs: list[str] = []
        name = f"awf-test-deleg-{nonce}"
        root = "/sys/fs/cgroup"
        if os.path.exists(os.path.join(root, "cgroup.controllers")):  # v2
            enabled = open(os.path.join(root, "cgroup.subtree_control")).read().split()
            if not {"memory", "pids"} <= set(enabled):
                pytest.skip("cgroup v2 without the memory and pids controllers at the root")
            top = os.path.join(root, name)
            leaf = os.path.join(top, "shell")
            os.mkdir(top)
            self.dirs.append(top)
            with open(os.path.join(top, "cgroup.subtree_control"), "w") as f:
                f.write("+memory +pids")
            os.mkdir(leaf)
            self.dirs.insert(0, leaf)
            for d in (top, leaf):
                self.give(d, ["cgroup.procs", "cgroup.subtree_control", "cgroup.threads"])
            self.procs = [os.path.join(leaf, "cgroup.procs")]
        else:  # v1: the memory and pids hierarchies, below the test's own cgroups
            own = dict((l.split(":")[1], l.split(":", 2)[2]) for l in
                       open("/proc/self/cgroup").read().splitlines())
            self.procs = []
            for controller in ("memory", "pids"):
                if controller not in own or not os.path.isdir(os.path.join(root, controller)):
                    pytest.skip(f"no cgroup v1 {controller} hierarchy")
                d = os.path.join(root, controller) + own[controller].rstrip("/") + "/" + name
                os.mkdir(d)
                self.dirs.append(d)
                self.give(d, ["cgroup.procs", "tasks"])
                self.procs.append(os.path.join(d, "cgroup.procs"))

    @staticmethod
    def give(d: str, files: list[str]):
        os.chown(d, NOBODY, NOBODY)
        for f in files:
            if os.path.exists(os.path.join(d, f)):
                os.chown(os.path.join(d, f), NOBODY, NOBODY)

    def prefix(self) -> list[str]:
        moves = " && ".join(f"echo $$ > {p}" for p in self.procs)
        return [*HOST_MOUNTS, "sh", "-c", f'{moves} && exec "$@"', "sh", *SETPRIV]

    def remove(self):
        for d in self.dirs:  # leaves first; awf removed its own run cgroup
            try:
                os.rmdir(d)
            except OSError:
                pass


@pytest.fixture
def delegated(nonce):
    if shutil.which("nsenter", path=V.SAFE_PATH) is None:
        pytest.skip("nsenter missing")
    cg = DelegatedCgroup(nonce)
    try:
        yield cg
    finally:
        cg.remove()




def test_rootless_limits_enforced_in_a_delegated_cgroup(awf, vnet, nonce, delegated):
    logs = os.path.join(vnet.scratch_dir, f"deleg-logs-{nonce}")
    script = helper(vnet, f"deleg-forks-{nonce}.py", FORK_BOMB)
    os.chmod(script, 0o644)
    r = awf(["--log-level", "debug", "-d", "allowed.test", "--pids-limit", "40"], [V.PY, script],
            logs_dir=logs, prefix=delegated.prefix(), timeout=120)
    assert r.rc == 0, r.describe()
    m = re.search(r"started=(\d+) refused=(\d+)", r.stdout)
    assert m and int(m.group(1)) < 40 and int(m.group(2)) > 150, r.describe()
    assert re.search(r"awf: the sandbox hit its process limit \(--pids-limit 40\)", r.stderr), \
        r.describe()
    run_dirs = re.findall(r"awf: limits: .*\(cgroup v[12] (\S+)(?: and (\S+))?\)", r.stderr)
    assert run_dirs, r.describe()
    for d in [d for pair in run_dirs for d in pair if d]:
        assert os.path.dirname(d) in delegated.dirs, (d, delegated.dirs)
        assert not os.path.exists(d), f"cgroup {d} left behind"

    hog = "x = b'x' * (256 << 20); print('allocated', len(x))"
    r = awf(["-d", "allowed.test", "--memory-limit", "64m"], [V.PY, "-c", hog], logs_dir=logs,
            prefix=delegated.prefix(), timeout=120)
    assert "allocated" not in r.stdout, r.describe()
    assert r.rc in (137, 1), r.describe()
    if r.rc == 137:
        assert re.search(r"awf: the sandbox hit its memory limit \(--memory-limit 64m\)",
                         r.stderr), r.describe()


# The command's own cgroup files belong to its uid in a rootless run: /sys must be read-only
# all the way down, or it could lift its limits.
RAISE_LIMIT = r'''
import os
for line in open("/proc/self/cgroup"):
    _, controllers, path = line.strip().split(":", 2)
    if controllers not in ("pids", ""):
        continue
    f = "/sys/fs/cgroup" + ("/pids" if controllers else "") + path + "/pids.max"
    if not os.path.exists(f):
        continue
    try:
        with open(f, "w") as out:
            out.write("100000")
        print("write=ok", f)
    except OSError as e:
        print("write=denied", e.errno)
'''


def test_rootless_command_cannot_lift_its_limits(awf, vnet, nonce, delegated):
    logs = os.path.join(vnet.scratch_dir, f"deleg-lift-{nonce}")
    r = awf(["-d", "allowed.test", "--pids-limit", "40"], [V.PY, "-c", RAISE_LIMIT],
            logs_dir=logs, prefix=delegated.prefix())
    assert r.rc == 0, r.describe()
    assert r.stdout.split() == ["write=denied", "30"], r.describe()  # EROFS


# ============================================================================ 4. HOME
HOME_SCRIPT = 'mkdir -p "$HOME/.npm" && touch "$HOME/x" && echo ok; echo "home=$HOME"; id -u'


def test_root_without_sudo_gets_a_writable_home(awf, vnet):
    existed = os.path.exists("/home/awf")
    r = awf(["-d", "allowed.test"], ["sh", "-c", HOME_SCRIPT], env={"SUDO_UID": "", "SUDO_GID": ""})
    assert r.rc == 0, r.describe()
    lines = r.stdout.split()
    assert lines == ["ok", "home=/home/awf", str(NOBODY)], r.describe()
    assert "/nonexistent" not in r.stdout
    assert os.path.exists("/home/awf") == existed, "the private HOME reached the host"


def test_private_home_is_fresh_each_run(awf, vnet):
    r = awf(["-d", "allowed.test"], ["sh", "-c", 'ls -A "$HOME" | wc -l; touch "$HOME/left"'],
            env={"SUDO_UID": "", "SUDO_GID": ""})
    assert r.rc == 0 and r.stdout.strip() == "0", r.describe()
    r = awf(["-d", "allowed.test"], ["sh", "-c", 'ls -A "$HOME" | wc -l'],
            env={"SUDO_UID": "", "SUDO_GID": ""})
    assert r.rc == 0 and r.stdout.strip() == "0", r.describe()


def test_rootless_user_without_home_gets_a_writable_home(awf, vnet, nonce):
    if shutil.which("setpriv", path=V.SAFE_PATH) is None:
        pytest.skip("setpriv missing")
    logs = os.path.join(vnet.scratch_dir, f"home-logs-{nonce}")
    r = awf(["-d", "allowed.test"], ["sh", "-c", HOME_SCRIPT], logs_dir=logs, prefix=SETPRIV)
    assert r.rc == 0, r.describe()
    assert r.stdout.split() == ["ok", "home=/home/awf", str(NOBODY)], r.describe()


def test_user_with_a_home_keeps_it(awf, vnet, nonce):
    """A user whose HOME exists keeps HOME as before (its view: writable, not the host's)."""
    script = f'mkdir -p "$HOME/.npm" && touch "$HOME/x-{nonce}" && echo ok; echo "home=$HOME"'
    r = awf(["-d", "allowed.test", "--user", "root"], ["sh", "-c", script])
    assert r.rc == 0, r.describe()
    assert r.stdout.split() == ["ok", "home=/root"], r.describe()
    assert not os.path.exists(f"/root/x-{nonce}"), "the command wrote to the host's HOME"
