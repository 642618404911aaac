"""The kernel's files in the sandbox (issue 14, round 3): with `--user root` the command is uid 0
without capabilities, which is enough to write /proc/sys (kernel.core_pattern runs a program as
the host's root at the next crash) and to open the host's devices by their modes. Each test tries
the attack against the real binary and has a control showing the probe works without awf (the
test process is the host's root). /dev is the sandbox's own, and terminals still work."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import shlex
import signal
import subprocess
import termios
import time

import pytest

import vnet as V
from conftest import AWF_BIN

ALLOW = ["-d", "allowed.test"]
ROOT = [*ALLOW, "--user", "root"]

# Opens each path for writing (writes nothing) and prints path=ok or path=<errno name>.
OPEN_FOR_WRITE = (
    "import errno, os, sys\n"
    "for path in sys.argv[1:]:\n"
    "    try:\n"
    "        os.close(os.open(path, os.O_WRONLY))\n"
    "        print(path + '=ok')\n"
    "    except OSError as e:\n"
    "        print(path + '=' + errno.errorcode[e.errno])\n"
)

HOST_DEVICES = ["/dev/userfaultfd", "/dev/kmsg", "/dev/net/tun", "/dev/fuse",
                "/dev/loop-control", "/dev/vsock"]


def results(out: str) -> dict:
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def test_root_cannot_write_kernel_knobs(awf):
    paths = [p for p in ("/proc/sys/kernel/core_pattern", "/proc/sysrq-trigger",
                         "/proc/sys/kernel/modprobe", "/proc/sys/vm/drop_caches")
             if os.path.exists(p)]  # sysrq and modprobe are missing from some kernels
    assert "/proc/sys/kernel/core_pattern" in paths
    # Control: uid 0 opens them for writing by file mode on the host.
    control = subprocess.run(["python3", "-c", OPEN_FOR_WRITE, *paths], capture_output=True,
                             text=True, timeout=30)
    assert set(results(control.stdout).values()) == {"ok"}, control

    r = awf(ROOT, ["python3", "-c", OPEN_FOR_WRITE, *paths])
    assert r.rc == 0, r.describe()
    assert results(r.stdout) == {p: "EROFS" for p in paths}, r.describe()
    # Reading stays possible (tools read sysctls).
    r = awf(ROOT, "cat /proc/sys/kernel/ostype; id -u")
    assert r.stdout.split() == ["Linux", "0"], r.describe()


# Prints mountpoint=ro|rw for each /proc mount point asked for (from mountinfo, the view's own).
MOUNT_MODES = (
    "import sys\n"
    "modes = {}\n"
    "for line in open('/proc/self/mountinfo'):\n"
    "    f = line.split()\n"
    "    modes[f[4]] = 'ro' if 'ro' in f[5].split(',') else 'rw'\n"
    "for path in sys.argv[1:]:\n"
    "    print(path + '=' + modes.get(path, 'not-a-mount'))\n"
)
KNOBS = ["/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs"]


def test_proc_knobs_are_read_only_mounts(awf):
    present = [p for p in KNOBS if os.path.exists(p)]
    r = awf(ROOT, ["python3", "-c", MOUNT_MODES, *present])
    assert r.rc == 0, r.describe()
    assert results(r.stdout) == {p: "ro" for p in present}, r.describe()
    r = awf(ROOT, "echo 0 > /proc/irq/default_smp_affinity")
    assert "Read-only file system" in r.stderr, r.describe()


def test_kernel_memory_and_keys_are_masked(awf):
    masked = ["/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/sched_debug"]
    present = [p for p in masked if os.path.exists(p)]  # kcore is missing from some kernels
    # Control: the host's root reads them.
    readable = []
    for path in present:
        with open(path, "rb") as f:
            if f.read(64):
                readable.append(path)
    assert readable, "none of the masked files has content on the host"
    probe = "for f in " + " ".join(present) + "; do echo $f=$(head -c 64 $f 2>/dev/null | wc -c); done"
    r = awf(ROOT, probe)
    assert r.rc == 0, r.describe()
    assert results(r.stdout) == {p: "0" for p in present}, r.describe()
    r = awf(ROOT, f"echo x > {present[0]} 2>&1; echo rc=$?")
    assert "rc=1" in r.stdout, r.describe()


def test_host_devices_are_absent(awf):
    on_host = [d for d in HOST_DEVICES if os.path.exists(d)]
    assert on_host, "the host has none of the probed devices"
    # Control: the host's root opens them for writing.
    control = subprocess.run(["python3", "-c", OPEN_FOR_WRITE, "/dev/kmsg"], capture_output=True,
                             text=True, timeout=30)
    assert results(control.stdout) == {"/dev/kmsg": "ok"}, control

    r = awf(ROOT, ["python3", "-c", OPEN_FOR_WRITE, *on_host])
    assert r.rc == 0, r.describe()
    assert results(r.stdout) == {d: "ENOENT" for d in on_host}, r.describe()
    r = awf(ROOT, "ls -A /dev | sort | tr '\\n' ' '")
    assert r.stdout.split() == sorted(["fd", "full", "null", "ptmx", "pts", "random", "shm",
                                       "stderr", "stdin", "stdout", "tty", "urandom",
                                       "zero"]), r.describe()


def test_userfaultfd_device_gives_nothing(awf):
    # seccomp denies the system call; the device would have handed one out anyway.
    probe = ("import fcntl, os\n"
             "try:\n"
             "    fd = os.open('/dev/userfaultfd', os.O_RDWR)\n"
             "    print('uffd=open')\n"
             "except OSError as e:\n"
             "    print('uffd=' + os.strerror(e.errno))\n")
    r = awf(ROOT, ["python3", "-c", probe])
    assert "uffd=No such file or directory" in r.stdout, r.describe()


def test_the_minimal_dev_works(awf):
    script = (
        "echo discard > /dev/null && echo null=ok; "
        "echo zero=$(head -c 8 /dev/zero | od -An -tx1 | tr -d ' '); "
        "echo random=$(head -c 16 /dev/urandom | wc -c)$(head -c 16 /dev/random | wc -c); "
        "echo x > /dev/full 2>/dev/null || echo full=ENOSPC; "
        "echo fd=$(readlink /dev/fd) stdin=$(readlink /dev/stdin); "
        "echo stderr=$(readlink /dev/stderr); "
        "echo shm > /dev/shm/awf-probe && echo shm=$(cat /dev/shm/awf-probe); "
        "python3 -c 'import os, pty; m, s = pty.openpty(); os.write(m, b\"ping\\n\"); "
        "print(\"pty=\" + os.ttyname(s) + \":\" + os.read(s, 5).decode().strip())'"
    )
    for args in (ALLOW, ROOT):
        r = awf(args, script)
        assert r.rc == 0, r.describe()
        got = results(r.stdout)
        assert got["null"] == "ok" and got["zero"] == "0000000000000000", r.describe()
        assert got["random"] == "1616" and got["full"] == "ENOSPC", r.describe()
        assert "fd=/proc/self/fd stdin=/proc/self/fd/0" in r.stdout, r.describe()
        assert got["stderr"] == "/proc/self/fd/2" and got["shm"] == "shm", r.describe()
        assert got["pty"].startswith("/dev/pts/") and got["pty"].endswith(":ping"), r.describe()


def _run_on_terminal(argv: list[str], timeout: float = 60) -> tuple[int, str]:
    """Runs argv with a new pty as its controlling terminal and stdio; returns (rc, output)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, bytes([24, 0, 80, 0, 0, 0, 0, 0]))

    def controlling_terminal():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    p = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=V.clean_env(),
                         preexec_fn=controlling_terminal)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.5)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: every slave end is closed
                break
            if not chunk:
                break
            out += chunk
        elif p.poll() is not None:
            break
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
    rc = p.wait()
    os.close(master)
    return rc, out.decode(errors="replace").replace("\r", "")


TERMINAL_PROBE = ("test -t 0 && test -t 1 && echo term=stdio; echo size=$(stty size); "
                  "echo via-dev-tty > /dev/tty && echo term=devtty; echo name=$(tty)")


def test_tty_mode_keeps_the_terminal(vnet):
    # Control: the probe on the terminal without awf.
    rc, out = _run_on_terminal(vnet.host_cmd(["bash", "-c", TERMINAL_PROBE]))
    assert "term=stdio" in out and "size=24 80" in out and "term=devtty" in out, out

    logs = vnet.new_logs_dir("tty")
    argv = vnet.awf_argv(AWF_BIN, [*ALLOW, "--tty"], ["bash", "-c", TERMINAL_PROBE], logs)
    rc, out = _run_on_terminal(argv)
    assert rc == 0, out
    assert "term=stdio" in out and "size=24 80" in out, out
    assert "via-dev-tty" in out and "term=devtty" in out, out
    # Its node is the host's devpts, not in the view: bound at /dev/console, where ttyname()
    # finds it. No other host terminal is there.
    assert "name=/dev/console" in out, out
    rc, out = _run_on_terminal(vnet.awf_argv(AWF_BIN, [*ALLOW, "--tty"],
                                             ["bash", "-c", "echo pts=$(ls -A /dev/pts)"], logs))
    assert re.search(r"^pts=ptmx$", out, re.M), out


SETPRIV_NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def test_rootless_view_is_the_same(vnet, nonce):
    """awf started by an unprivileged user: the sandbox in a user namespace gets the same /dev
    (bound devices, its own devpts) and read-only knobs."""
    logs = os.path.join(vnet.scratch_dir, f"rootless-view-{nonce}")  # awf (as 65534) creates it
    paths = [p for p in KNOBS if os.path.exists(p)]
    script = (f"python3 -c {shlex.quote(MOUNT_MODES)} {' '.join(paths)}; "
              "echo devs=$(ls -A /dev | tr '\\n' ,); echo x > /dev/null && echo null=ok; "
              "python3 -c 'import os, pty; m, s = pty.openpty(); print(\"pty=\" + os.ttyname(s))'")
    r = vnet.awf_run(AWF_BIN, ALLOW, ["bash", "-c", script], logs_dir=logs, prefix=SETPRIV_NOBODY)
    assert r.rc == 0, r.describe()
    got = results(r.stdout)
    assert {p: got[p] for p in paths} == {p: "ro" for p in paths}, r.describe()
    assert got["devs"] == "fd,full,null,ptmx,pts,random,shm,stderr,stdin,stdout,tty,urandom,zero,", \
        r.describe()
    assert got["null"] == "ok" and got["pty"].startswith("/dev/pts/"), r.describe()
