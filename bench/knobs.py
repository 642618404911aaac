"""The bench's settings (environment knobs, see README.md) and small shared helpers.

Every other module reads these as `K.NAME` at call time, so that bench.py can still change one
after parsing its command line (--awf-before)."""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The integration tests' virtual internet (namespaces, DNS, certificates, process helpers).
sys.path.insert(0, str(ROOT / "tests" / "integration"))
import vnet as V  # noqa: E402

BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
AWF_BIN = os.environ.get("AWF_BIN", str(ROOT / "build" / "src" / "cli" / "awf"))
AWF_BEFORE = os.environ.get("AWF_BEFORE", "")  # a second awf binary measured beside AWF_BIN
TOOLS_DIR = Path(os.environ.get("BENCH_TOOLS_DIR", str(ROOT / "build-bench" / "bench")))

# The origin: a name of the vnet's zone with an A record only (AAAA is NODATA), so that every
# proxy reaches nginx over IPv4 whatever its address preference.
NAME = "second.test"
ORIGIN4 = V.SECOND4
DNS4 = V.DNS4

QUICK = os.environ.get("QUICK", "0") not in ("", "0")
REPS = int(os.environ.get("REPS", "1" if QUICK else "5"))
DURATION = int(os.environ.get("DURATION", "2" if QUICK else "5"))  # wrk, tunnel_rate (s)
BULK_MIB = int(os.environ.get("BULK_MIB", "16" if QUICK else "100"))
# The streamed API response (SSE through awf's API proxy, usage accounting on): its size.
API_MIB = int(os.environ.get("API_MIB", "16" if QUICK else "64"))
CONNS = [int(c) for c in os.environ.get("CONNS", "32,256").split(",") if c.strip()]
TUNNEL_CONCURRENCY = int(os.environ.get("TUNNEL_CONCURRENCY", "64"))
HOLD_TUNNELS = int(os.environ.get("HOLD_TUNNELS", "200" if QUICK else "1000"))
MEM_REPS = int(os.environ.get("MEM_REPS", str(min(REPS, 3))))
STARTUP_RUNS = int(os.environ.get("STARTUP_RUNS", "10" if QUICK else "40"))
ALL_WORKLOADS = ["http", "connect", "bulk", "intercept", "api", "tunnels", "memory", "startup",
                 "policy", "profile"]
WORKLOADS = [w for w in os.environ.get("WORKLOADS", ",".join(ALL_WORKLOADS)).split(",") if w]
# Run order within a repetition, and the table's columns ("awf-before" only with AWF_BEFORE).
ALL_TARGETS = ["direct", "haproxy", "squid", "tinyproxy", "awf"]
TARGETS = [t for t in os.environ.get("TARGETS", ",".join(ALL_TARGETS)).split(",") if t]
KEEP = os.environ.get("BENCH_KEEP") == "1"
MIB = 1024 * 1024
EXIT_GRACE = 15  # seconds awf may take to exit once its command has ended
AWF_TARGETS = ("awf-before", "awf")


def set_awf_before(path: str):
    """Measure a second awf binary as the target "awf-before", just before "awf" in each
    repetition (same workloads, same machine state)."""
    global AWF_BEFORE
    AWF_BEFORE = path
    if path and "awf-before" not in TARGETS and "awf" in TARGETS:
        TARGETS.insert(TARGETS.index("awf"), "awf-before")


set_awf_before(AWF_BEFORE)


def columns() -> list[str]:
    """The table's target columns, in run order."""
    return [t for t in ALL_TARGETS[:-1] + list(AWF_TARGETS) if t != "awf-before" or AWF_BEFORE]


def result_stem() -> str:
    """A smoke test, a subset or a before/after run never replaces the last full run's results
    (nor a QUICK subset the last full smoke test's)."""
    full = set(ALL_WORKLOADS) <= set(WORKLOADS) and set(ALL_TARGETS) <= set(TARGETS)
    if AWF_BEFORE:
        return "quick-compare" if QUICK else "compare"
    if QUICK:
        return "quick" if full else "quick-partial"
    return "latest" if full else "partial"


def profile_file() -> str:
    stem = result_stem()
    return "profile.txt" if stem == "latest" else f"profile-{stem}.txt"


def log(msg: str):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(cmd, check=True, timeout=60, **kw):
    """vnet.run with every argument made a string (paths, numbers)."""
    return V.run([str(c) for c in cmd], check=check, timeout=timeout, **kw)


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None
