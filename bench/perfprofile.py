"""The `profile` workload: where awf's time goes. cpu-clock samples of awf (perf record, call
chains bucketed by system call), and exact system-call counts per unit of work for awf and Squid
(perf trace -s), in three scenarios. Writes bench/results/profile*.txt."""

from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import shutil
import signal
import subprocess
from collections import Counter

import knobs as K
import servers as S
from runner import measure
from workloads import Bench, tunnel_cmd, wrk_cmd

SCENARIOS = ("http32", "tunnels", "connect_plain")


def scenario(b: Bench, name: str, t: str, secs: int) -> list:
    if name == "http32":
        return wrk_cmd(b.net, t, 32, secs)
    if name == "tunnels":
        return tunnel_cmd(b.net, t, "--concurrency", K.TUNNEL_CONCURRENCY, "--duration", secs,
                          "--path", "/1k")
    return ["sh", "-c", " ; ".join(
        shlex.join(["curl", "-sS", "-o", "/dev/null", "-x", S.proxy_url(t), "--proxytunnel",
                    f"http://{K.NAME}/bulk"]) for _ in range(5))]


def units(name: str, out: str) -> tuple[int, str]:
    """(number of units of work, unit name) done by a scenario's load generator."""
    if name == "http32":
        m = re.search(r'BENCHJSON .*"requests":(\d+)', out)
        return (int(m.group(1)) if m else 0), "request"
    if name == "tunnels":
        m = re.search(r'"ok":(\d+)', out)
        return (int(m.group(1)) if m else 0), "tunnel"
    return 5 * K.BULK_MIB, "MiB"


def perf_hooks(b: Bench, argv_for_pid, target: str):
    """on_start/on_end callbacks of a measurement that attach perf to the proxy and stop it."""
    state = {}

    def start(p):
        pid = p.pid if S.is_awf(target) else S.proxy_pids(b.net, target)[0]
        state["perf"] = subprocess.Popen(argv_for_pid(pid), stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, start_new_session=True)

    def end(p):
        perf = state.get("perf")
        if perf:
            perf.send_signal(signal.SIGINT)
            try:
                perf.wait(timeout=30)
            except subprocess.TimeoutExpired:
                perf.kill()
                perf.wait()
    return start, end


def sample_awf(b: Bench, name: str, secs: int) -> list[str]:
    """perf record of awf during one scenario; the report's lines."""
    data = b.net.dir / f"perf-{name}.data"
    start, end = perf_hooks(b, lambda pid: ["perf", "record", "-g", "-e", "cpu-clock", "-F", "499",
                                            "-p", str(pid), "-o", str(data)], "awf")
    cmd = scenario(b, name, "awf", secs)
    rc, out, err, cpu = measure(b.net, "awf", cmd, timeout=120, on_start=start, on_end=end)
    n, unit = units(name, out)
    if not data.exists():
        b.err("profile", "awf", f"{name}: no perf data (rc={rc}) {err[-300:]}")
        return []
    script = K.run(["perf", "script", "-i", data, "-F", "ip,sym,dso"], check=False, timeout=300).stdout
    cats, dsos, total = summarize_perf_script(script)
    total = max(total, 1)
    K.log(f"  profile {name}: {total} samples; top: " +
          ", ".join(f"{k} {100 * c / total:.0f}%" for k, c in cats.most_common(3)))
    return [f"== {name}: {shlex.join(map(str, cmd))[:140]}",
            f"awf: {cpu or 0:.2f} s CPU for {n} {unit}s "
            f"({(cpu or 0) * 1e6 / max(n, 1):.1f} µs per {unit}); {total} samples (cpu-clock, 499 Hz)",
            "-- samples by leaf DSO:",
            *[f"  {100 * c / total:5.1f}%  {k}" for k, c in dsos.most_common(5)],
            "-- samples by system call (kernel samples under a syscall) or else leaf function:",
            *[f"  {100 * c / total:5.1f}%  {k}" for k, c in cats.most_common(22)]]


def count_syscalls(b: Bench, name: str, t: str, secs: int) -> list[str]:
    """perf trace -s of proxy `t` during one scenario: system calls per unit of work."""
    trace = b.net.dir / f"trace-{name}-{t}.txt"
    start, end = perf_hooks(b, lambda pid: ["perf", "trace", "-s", "-p", str(pid), "-o", str(trace)], t)
    rc, out, err, cpu = measure(b.net, t, scenario(b, name, t, secs), timeout=180,
                                on_start=start, on_end=end)
    n, unit = units(name, out)
    counts = parse_perf_trace_summary(trace.read_text(errors="replace") if trace.exists() else "")
    if not counts or not n:
        b.err("profile", t, f"{name}: no syscall summary (rc={rc})")
        return []
    tot = sum(counts.values())
    K.log(f"  profile {name} {t}: {tot / n:.1f} syscalls per {unit}")
    return [f"-- {t}: system calls per {unit} (perf trace -s; {n} {unit}s, "
            f"tracing slows the proxy down): {tot / n:.1f} in all",
            "   " + ", ".join(f"{k} {c / n:.2f}" for k, c in counts.most_common(12))]


LIBC = "/lib/x86_64-linux-gnu/libc.so.6"


def malloc_probe() -> bool:
    """A uprobe on libc's malloc (perf probe), added once; False when perf cannot add it."""
    listed = K.run(["perf", "probe", "-l"], check=False, timeout=60).stdout
    if "probe_libc:malloc" in listed:
        return True
    return K.run(["perf", "probe", "-x", LIBC, "malloc"], check=False, timeout=60).returncode == 0


def count_allocations(b: Bench, name: str, t: str, secs: int) -> list[str]:
    """Heap allocations and system calls per unit of work (perf stat with a uprobe on malloc).
    Counts, not times: the number does not move with the machine's load, so a before/after
    difference of one allocation per request shows up even on a busy machine (the uprobe
    slows awf down: the run's rates mean nothing)."""
    out_file = b.net.dir / f"allocs-{name}-{t}.csv"
    start, end = perf_hooks(b, lambda pid: ["perf", "stat", "-x,", "-e",
                                            "probe_libc:malloc,raw_syscalls:sys_enter",
                                            "-p", str(pid), "-o", str(out_file)], t)
    rc, out, err, _ = measure(b.net, t, scenario(b, name, t, secs), timeout=180,
                              on_start=start, on_end=end)
    n, unit = units(name, out)
    counts = {}
    for line in (out_file.read_text(errors="replace") if out_file.exists() else "").splitlines():
        fields = line.split(",")
        if len(fields) > 2 and fields[0].isdigit():
            counts[fields[2]] = int(fields[0])
    if not n or "probe_libc:malloc" not in counts:
        b.err("profile", t, f"{name}: no allocation count (rc={rc})")
        return []
    mallocs, syscalls = counts["probe_libc:malloc"] / n, counts.get("raw_syscalls:sys_enter", 0) / n
    K.log(f"  profile {name} {t}: {mallocs:.1f} mallocs, {syscalls:.1f} syscalls per {unit}")
    return [f"-- {t}: {mallocs:.1f} heap allocations and {syscalls:.1f} system calls per {unit} "
            f"(perf stat, uprobe on malloc; {n} {unit}s)"]


def w_profile(b: Bench):
    if "awf" not in b.available or not shutil.which("perf"):
        b.err("profile", "awf", "needs perf (linux-perf) and a working awf")
        return
    secs = max(K.DURATION, 3)
    K.RESULTS_DIR.mkdir(exist_ok=True)
    report = [f"# awf profile, {dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}, "
              f"load average {os.getloadavg()[0]:.2f} (bench/bench.py, workload 'profile')", ""]
    for name in SCENARIOS:
        lines = sample_awf(b, name, secs)
        if not lines:
            continue
        report += lines
        for t in [x for x in ("awf", "squid") if x in b.available]:
            report += count_syscalls(b, name, t, secs)
        if name != "connect_plain" and malloc_probe():
            for t in [x for x in K.AWF_TARGETS if x in b.available]:
                report += count_allocations(b, name, t, secs)
        report.append("")
    (K.RESULTS_DIR / K.profile_file()).write_text("\n".join(report) + "\n")
    K.log(f"wrote {K.RESULTS_DIR / K.profile_file()}")


def leaf_bucket(frames: list[tuple[str, str]]) -> str:
    """A sample inside a system call is counted under that call (the kernel's frames are
    reliable); any other sample under its leaf function."""
    names = [f.split("+0x")[0] for f, _ in frames]
    for pattern in (r"(?:__x64_sys_|__do_sys_|__se_sys_)(\w+)", r"_*sys_(\w+)"):
        sysname = next((m.group(1) for f in names if (m := re.fullmatch(pattern, f))), None)
        if sysname:
            return "syscall " + sysname
    if any(f in ("exit_to_user_mode_loop", "syscall_exit_to_user_mode") for f in names):
        return "kernel: scheduling on return from a syscall"
    if frames[0][1] == "[kernel.kallsyms]":
        where = "softirq" if any("softirq" in f for f in names) else "other"
        return f"kernel ({where}): {names[0]}"
    sym = re.sub(r"<.*>", "<>", frames[0][0].split("+0x")[0])
    return f"{frames[0][1]}: {sym[:100]}"


def summarize_perf_script(text: str):
    """Buckets `perf script -F ip,sym,dso` call chains (leaf_bucket). Returns (Counter by
    bucket, Counter by leaf DSO, number of samples)."""
    cats, dsos, total = Counter(), Counter(), 0
    for block in re.split(r"\n\s*\n", text):
        frames = []
        for line in block.strip().splitlines():
            m = re.match(r"\s*[0-9a-f]+\s+(.*)\s+\((.*)\)\s*$", line)
            if m:
                frames.append((m.group(1).strip(), os.path.basename(m.group(2))))
        if not frames:
            continue
        total += 1
        dsos[frames[0][1]] += 1
        cats[leaf_bucket(frames)] += 1
    return cats, dsos, total


def parse_perf_trace_summary(text: str) -> Counter:
    """Sums the per-thread tables of `perf trace -s` into a Counter: syscall -> calls."""
    counts = Counter()
    for line in text.splitlines():
        m = re.match(r"\s+([a-z_0-9]+)\s+(\d+)\s+\d+\s+[\d.]+\s", line)
        if m and m.group(1) != "syscall":
            counts[m.group(1)] += int(m.group(2))
    return counts
