"""The workloads that measure a cost rather than traffic (README "Workloads" 6-8): the proxy's
RSS idle and with N idle TLS tunnels, awf's startup overhead, the policy engine."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import subprocess
import time

import knobs as K
import servers as S
from knobs import V
from workloads import Bench, tunnel_cmd


# ---- memory (RSS idle and with N idle TLS tunnels) ---------------------------------------
def read_holder(p: subprocess.Popen) -> dict:
    """The holder's JSON line, printed once its tunnels are up (at most 60 s)."""
    line, deadline = "", time.monotonic() + 60
    while time.monotonic() < deadline:
        rl, _, _ = select.select([p.stdout], [], [], 0.5)
        if rl:
            line = p.stdout.readline()
            if line.startswith("{") or not line:
                break
        elif p.poll() is not None:
            break
    if not line.startswith("{"):
        tail = p.stderr.read()[-500:] if p.poll() is not None else ""
        raise RuntimeError(f"holder gave no result: rc={p.poll()} {tail}")
    return json.loads(line)


def hold(b: Bench, t: str, n: int) -> tuple[int, int]:
    """Start a holder with n tunnels; return (proxy RSS KiB, tunnels held)."""
    net = b.net
    release = net.dir / f"release-{time.monotonic_ns()}"
    cmd = tunnel_cmd(net, t, "--hold", n, "--warm", 1, "--release-file", release,
                     "--hold-max", 60, "--concurrency", 32)
    logs = net.new_logs_dir(t) if S.is_awf(t) else None
    p = subprocess.Popen(S.argv(net, t, cmd, logs), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=V.clean_env(), start_new_session=True, preexec_fn=V._set_pdeathsig,
                         cwd=net.dir)  # the workspace: see runner.py
    try:
        r = read_holder(p)
        time.sleep(0.5)  # let the proxy settle (buffers released, timers run)
        rss = S.rss_kib(S.proxy_pids(net, t, p))
        if r["errors"]:
            raise RuntimeError(f"holder: {r['errors']} tunnels failed ({r['first_error']}), "
                               f"{r['held']} held; proxy RSS {rss} KiB")
        return rss, r["held"]
    finally:
        release.touch()
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        release.unlink(missing_ok=True)
        if logs and not K.KEEP:
            shutil.rmtree(logs, ignore_errors=True)


def w_memory(b: Bench):
    for rep in range(K.MEM_REPS):
        for t in b.targets(with_direct=False, rep=rep):
            if t in S.START:  # a fresh instance: RSS not inflated by earlier load
                S.restart(b.net, t)
            for n, key in ((0, "rss_idle_mib"), (K.HOLD_TUNNELS, "rss_tunnels_mib")):
                try:
                    rss, held = hold(b, t, n)
                except Exception as e:
                    b.err(key, t, str(e))
                    continue
                b.add(key, t, rss / 1024)
                K.log(f"  memory rep {rep + 1}/{K.MEM_REPS} {t:10s} {held:5d} idle tunnels: "
                      f"RSS {rss / 1024:.1f} MiB")


# ---- startup overhead (hyperfine) ----------------------------------------------------------
def startup_commands(b: Bench) -> dict[str, str]:
    """hyperfine's commands by sample key: `true`, a bare sandbox, awf with one rule and awf
    with gh-aw's structured config (AWF v0.28) of 1,000 allowed domains."""
    logs = b.net.new_logs_dir("startup")
    config = b.net.dir / "awf-config-1000.json"
    config.write_text(json.dumps({
        "$schema": "https://github.com/github/gh-aw-firewall/releases/download/v0.28.20/"
                   "awf-config.schema.json",
        "network": {"allowDomains": [f"d{i}.example.test" for i in range(1000)],
                    "isolation": True},
        "container": {"imageTag": "0.28.20"},
        "logging": {"proxyLogsDir": str(logs)}}))
    cmds = {"true": "true", "unshare": "unshare -n -m -p -f true"}
    for t in b.awfs():
        awf, suffix = S.awf_binary(t), ("_before" if t == "awf-before" else "")
        cmds["awf" + suffix] = f"{awf} --proxy-logs-dir {logs} --allow-domains x -- true"
        cmds["awf_config1000" + suffix] = f"{awf} --config {config} --log-level warn -- true"
    return cmds


def w_startup(b: Bench):
    out = b.net.dir / "hyperfine.json"
    cmds = startup_commands(b)
    r = K.run(b.net.host_cmd(["hyperfine", "-N", "--style", "basic", "--warmup", "5", "--runs",
                              str(K.STARTUP_RUNS), "--export-json", str(out), *cmds.values()]),
              check=False, timeout=600)
    if r.returncode != 0:
        b.err("startup_ms", "awf", f"hyperfine failed: {r.stderr[-600:]}")
        return
    res = json.loads(out.read_text())["results"]
    for key, item in zip(cmds, res):
        b.add("startup_ms", key, item["median"] * 1000)
        b.extra.setdefault("startup_runs_ms", {})[key] = [x * 1000 for x in item["times"]]
        K.log(f"  startup {key:21s} median {item['median'] * 1000:.2f} ms")


# ---- policy engine (Google Benchmark) -------------------------------------------------------
def policy_sample(b: Bench, bench: dict):
    """One benchmark of policy_bench's JSON as a sample (CPU time: robust against a busy
    machine)."""
    if bench.get("error_occurred"):
        b.err("policy", "awf", f"{bench['name']}: {bench.get('error_message')}")
        return
    m = re.fullmatch(r"BM_(\w+)/(\d+)", bench.get("run_name", bench["name"]))
    if not m:
        return
    kind, n = m.group(1), int(m.group(2))
    ms = bench["cpu_time"] * {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[bench["time_unit"]]
    if kind == "Build":
        b.add(f"policy_build_{n}_ms", "awf", ms)
    else:
        b.add(f"policy_{'hit' if kind == 'LookupHit' else 'miss'}_{n}_ns", "awf", ms * 1e6)


def w_policy(b: Bench):
    """Policy::build and Policy::decide of the source tree (policy_bench links awf_policy):
    there is no "before" column here."""
    out = b.net.dir / "policy.json"
    reps = max(3, K.REPS) if not K.QUICK else 1
    r = K.run([K.TOOLS_DIR / "policy_bench", "--benchmark_format=json", f"--benchmark_out={out}",
               f"--benchmark_repetitions={reps}", "--benchmark_report_aggregates_only=true",
               f"--benchmark_min_time={0.05 if K.QUICK else 0.3}"], check=False, timeout=900)
    if r.returncode != 0 or not out.exists():
        b.err("policy", "awf", f"policy_bench failed: {r.stderr[-600:]}")
        return
    data = json.loads(out.read_text())
    b.extra["policy_context"] = data.get("context", {})
    for bench in data["benchmarks"]:
        # With repetitions, the median aggregate; with one run, the run itself.
        if reps > 1 and bench.get("aggregate_name") != "median":
            continue
        if reps == 1 and bench.get("run_type", "iteration") != "iteration":
            continue
        policy_sample(b, bench)
    for k in sorted(x for x in b.samples if x.startswith("policy_")):
        K.log(f"  {k}: {b.samples[k]['awf'][0]:.3f}")
