#!/usr/bin/python3
"""awf's benchmark harness: awf against direct access, HAProxy, Squid and tinyproxy (and, with
AWF_BEFORE / --awf-before, against an earlier awf binary), side by side.

Run it through bench/run.sh (installs, builds, then calls this file). Stdlib only; needs root.
The bench network is the integration tests' virtual internet (tests/integration/vnet.py) with
nginx as the origin: network.py. The servers and the awf launch: servers.py, runner.py. The
workloads: workloads.py, resources.py, perfprofile.py. The table: report.py. Knobs
(environment): knobs.py and README.md.

    bench.py [--awf-before PATH]   run the benchmarks (bench/run.sh builds everything first)
    bench.py net SECONDS           only bring the bench network up, for SECONDS (max 3600)
    bench.py cleanup-stale         remove namespaces/run dirs of harnesses that died
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
import time

import knobs as K
from knobs import V


def usage() -> int:
    print("usage: bench.py [--awf-before PATH] | net SECONDS | cleanup-stale "
          "(see bench/README.md)", file=sys.stderr)
    return 2


def parse_args(argv: list[str]) -> list[str] | None:
    """Takes --awf-before PATH out of argv (it overrides AWF_BEFORE); None on an unknown
    option."""
    rest = []
    it = iter(argv)
    for a in it:
        if a == "--awf-before" or a.startswith("--awf-before="):
            path = a.partition("=")[2] or next(it, "")
            if not (os.path.isfile(path) and os.access(path, os.X_OK)):
                print(f"bench.py: --awf-before {path!r}: not an executable file; give the path of "
                      "an earlier awf binary, e.g. --awf-before /path/to/old/awf", file=sys.stderr)
                raise SystemExit(2)
            K.set_awf_before(path)
        elif a.startswith("-"):
            return None
        else:
            rest.append(a)
    return rest


def check_knobs() -> bool:
    """The names in TARGETS and WORKLOADS, AWF_BEFORE, and the binaries run.sh builds."""
    known = {"TARGETS": (K.TARGETS, K.ALL_TARGETS + ["awf-before"]),
             "WORKLOADS": (K.WORKLOADS, K.ALL_WORKLOADS)}
    for knob, (given, names) in known.items():
        bad = [x for x in given if x not in names]
        if bad:
            print(f"bench.py: {knob}={','.join(given)}: unknown {', '.join(bad)}; "
                  f"choose from {','.join(names)}", file=sys.stderr)
            return False
    if K.AWF_BEFORE and not os.access(K.AWF_BEFORE, os.X_OK):
        print(f"bench.py: AWF_BEFORE={K.AWF_BEFORE}: not an executable file; give the path of "
              "an earlier awf binary", file=sys.stderr)
        return False
    if "awf-before" in K.TARGETS and not K.AWF_BEFORE:
        print("bench.py: TARGETS names awf-before but no earlier binary is given: set "
              "AWF_BEFORE=PATH or pass --awf-before PATH", file=sys.stderr)
        return False
    for tool in (K.AWF_BIN, K.TOOLS_DIR / "tunnel_rate", K.TOOLS_DIR / "policy_bench"):
        if not os.access(tool, os.X_OK):
            print(f"bench.py: {tool} missing: run bench/run.sh (it builds everything)", file=sys.stderr)
            return False
    return True


def bring_up():
    """The bench network and its servers; everything is removed on exit, signal or error."""
    import servers
    from network import BenchNet
    net = BenchNet()

    def on_signal(signum, frame):
        net.down()
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    net.up()  # vnet: also removes namespaces of dead harnesses, and registers an atexit down()
    servers.start_all(net)
    return net


def hold_network(seconds: float) -> int:
    """Debugging: the bench network alone, for SECONDS (max 1 h)."""
    net = bring_up()
    print(json.dumps({"host_ns": net.host_ns, "inet_ns": net.inet_ns, "dir": net.run_dir}),
          flush=True)
    try:
        time.sleep(min(seconds, 3600))
    finally:
        net.down()
    return 0


def bench() -> int:
    import report
    from workloads import Bench
    started = dt.datetime.now(dt.timezone.utc)
    info = report.machine()
    K.log(f"mode: {'QUICK' if K.QUICK else 'full'}, {K.REPS} repetition(s), wrk/tunnel runs "
          f"{K.DURATION} s, bulk {K.BULK_MIB} MiB, connections {K.CONNS}, targets {K.TARGETS}, "
          f"workloads {K.WORKLOADS}" + (f", before: {K.AWF_BEFORE}" if K.AWF_BEFORE else ""))
    net = bring_up()
    K.log(f"bench network up: {net.host_ns}, {net.inet_ns}, {net.run_dir}")
    b = Bench(net)
    try:
        b.run_all()
    finally:
        net.down()
    report.write_results(started, info, b)
    return 0


def main(argv: list[str]) -> int:
    if argv[1:2] == ["cleanup-stale"]:
        V.cleanup_stale(verbose=True)
        return 0
    args = parse_args(argv[1:])
    if args is None or (args and args[0] != "net") or len(args) > 2:
        return usage()
    if os.geteuid() != 0:
        print("bench.py: run as root (network namespaces)", file=sys.stderr)
        return 2
    if not check_knobs():
        return 2
    if args[:1] == ["net"]:
        return hold_network(float(args[1]) if len(args) > 1 else 600)
    return bench()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
