"""Running one load generator for one target and measuring the proxy's CPU time while it runs.

The command runs under wrap.sh, which prints a marker before and after it and then waits (at
most 5 s) for a release file: the harness reads the proxy's utime+stime at both markers, so
awf's own start and exit are not counted, only the load."""

from __future__ import annotations

import os
import select
import shlex
import shutil
import signal
import subprocess
import time

import knobs as K
import servers as S
from knobs import V
from network import BenchNet

WRAPPER = """#!/bin/sh
# wrap.sh RELEASE CMD...: markers around CMD, then wait (bounded) for the harness's release file
rel=$1; shift
echo "@@BENCH-START"
"$@"
rc=$?
echo "@@BENCH-END $rc"
i=0
while [ ! -e "$rel" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i+1)); done
exit $rc
"""


def wrapper(net: BenchNet) -> str:
    f = net.dir / "wrap.sh"
    if not f.exists():
        f.write_text(WRAPPER)
        os.chmod(f, 0o755)
    return str(f)


class Measurement:
    """One run: the process, its output lines, the CPU seconds between the markers."""

    def __init__(self, net: BenchNet, target: str, cmd: list, timeout: float, cpu: bool,
                 on_start, on_end, awf_args, env=None):
        self.net, self.target, self.cpu = net, target, cpu
        self.on_start, self.on_end = on_start, on_end
        self.logs = net.new_logs_dir(target) if S.is_awf(target) else None
        self.release = net.dir / f"release-{time.monotonic_ns()}"
        self.cmd = [wrapper(net), self.release, *cmd]
        self.errf = open(net.dir / "last-stderr", "w+")
        self.p = subprocess.Popen(S.argv(net, target, self.cmd, self.logs, awf_args),
                                  stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=self.errf, env=V.clean_env(env), start_new_session=True,
                                  preexec_fn=V._set_pdeathsig,
                                  # awf binds its working directory as the workspace: wrap.sh
                                  # and the release files there are in the sandbox's view
                                  # (its /tmp is private).
                                  cwd=net.dir)
        self.deadline = time.monotonic() + timeout
        self.out_lines: list[str] = []
        self.cpu0 = self.cpu_s = self.cmd_rc = None

    def proxy_cpu(self):
        return S.cpu_seconds(self.net, self.target, self.p)

    def on_line(self, line: str):
        if line.startswith("@@BENCH-START"):
            self.cpu0 = self.proxy_cpu() if self.cpu and self.target != "direct" else None
            if self.on_start:
                self.on_start(self.p)
        elif line.startswith("@@BENCH-END"):
            cpu1 = self.proxy_cpu() if self.cpu0 is not None else None
            if self.cpu0 is not None and cpu1 is not None:
                self.cpu_s = cpu1 - self.cpu0
            if self.on_end:
                self.on_end(self.p)
            self.release.touch()
            self.cmd_rc = int(line.split()[1]) if len(line.split()) > 1 else 0
            # The load is over: awf (or the plain wrapper) must now end promptly.
            self.deadline = min(self.deadline, time.monotonic() + K.EXIT_GRACE)
        else:
            self.out_lines.append(line)

    def read_all(self):
        """Raw reads (no Python-side buffering): a marker is seen the moment it is written."""
        fd, pending, eof = self.p.stdout.fileno(), b"", False
        while not eof:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired(self.cmd, 0)
            ready, _, _ = select.select([fd], [], [], min(left, 1.0))
            if not ready:
                continue
            data = os.read(fd, 65536)
            eof = not data
            pending += data
            *lines, pending = pending.split(b"\n")
            if eof and pending:
                lines.append(pending)
            for raw in lines:
                self.on_line(raw.decode("utf-8", "replace") + "\n")

    def note_hang(self):
        """The measurement is complete, but awf did not exit after its command ended: keep
        the measurement, kill awf, and put the hang on the record."""
        state = "?"
        try:
            with open(f"/proc/{self.p.pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            pass
        self.net.exit_hangs.append(f"{self.target}: {shlex.join(map(str, self.cmd[2:]))[:120]} "
                                   f"(awf state {state}, CPU {self.proxy_cpu() or 0:.1f} s)")
        K.log(f"  warning: {self.target} did not exit within {K.EXIT_GRACE} s after its command "
              f"ended (process state {state}); killed")

    def wait(self) -> int | None:
        try:
            self.read_all()
            return self.p.wait(timeout=max(1.0, self.deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            if self.cmd_rc is not None and S.is_awf(self.target):
                self.note_hang()
            try:
                os.killpg(self.p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.p.wait()
            return self.cmd_rc if S.is_awf(self.target) else None
        finally:
            self.p.stdout.close()
            self.release.unlink(missing_ok=True)

    def stderr(self) -> str:
        self.errf.seek(0)
        err = self.errf.read()
        self.errf.close()
        return err


def measure(net: BenchNet, target: str, cmd: list, timeout: float, cpu: bool = True,
            on_start=None, on_end=None, logs_check=None, awf_args=(), env=None):
    """Run a load generator for `target` and, with `cpu`, the CPU time the proxy spent while
    it ran: (rc or None on timeout, stdout, stderr, proxy CPU seconds or None). `logs_check`
    gets awf's logs dir before it is removed; `env`: more variables for the proxy (awf)."""
    m = Measurement(net, target, cmd, timeout, cpu, on_start, on_end, awf_args, env)
    rc = m.wait()
    err = m.stderr()
    if m.logs and logs_check:
        logs_check(m.logs)
    if m.logs and not K.KEEP:
        shutil.rmtree(m.logs, ignore_errors=True)
    net.trim_logs()
    return rc, "".join(m.out_lines), err, m.cpu_s


def execute(net: BenchNet, target: str, cmd: list, timeout: float, **kw):
    """Run a load generator for `target`: (rc or None on timeout, stdout, stderr)."""
    rc, out, err, _ = measure(net, target, cmd, timeout, cpu=False, **kw)
    return rc, out, err
