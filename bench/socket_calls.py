#!/usr/bin/env python3
"""The cost of the Unix socket rule on the request path (docs/security.md, "Unix sockets"):
microseconds per AF_UNIX connect (to a listener of the sandbox's own), per TCP connect to the
gateway (127.0.0.1:3128, the explicit proxy), per sendmsg on a socketpair (every sendmsg goes
to awf's supervisor, which sends it), per sendto to a Unix datagram socket by path and to a UDP
socket on the loopback, and per send (not trapped: the baseline), inside awf's sandbox; with the
rule (AWF_BIN) and, given AWF_BEFORE (an awf without it), without.

    sudo python3 bench/socket_calls.py                       # AWF_BIN=build/src/cli/awf
    sudo AWF_BEFORE=/path/to/old/awf python3 bench/socket_calls.py
    sudo AWF_BEFORE=... AWF_OLD=/path/to/an/earlier/awf/with/the/rule python3 ...  # 3 columns
    ROUNDS=5 COUNT=2000 ...                                  # defaults: 3 rounds of 1000

Runs on loopback inside the sandbox only (awf needs no network for it)."""

import json
import os
import statistics
import subprocess
import sys

PROBE = r'''
import json, os, socket, sys, time
count = int(sys.argv[1])
# Named per run, removed after it: an awf without a private /tmp shares (and sweeps) the host's.
run = os.urandom(6).hex()
path = f"/tmp/bench-{run}.sock"
dgram_path = f"/tmp/bench-dgram-{run}.sock"
server = socket.socket(socket.AF_UNIX)
server.bind(path)
server.listen(4096)
def per_call(op):
    start = time.perf_counter_ns()
    for _ in range(count):
        op()
    return (time.perf_counter_ns() - start) / count / 1000
def unix_connect():
    c = socket.socket(socket.AF_UNIX)
    c.connect(path)
    c.close()
    server.accept()[0].close()
def tcp_connect():
    c = socket.socket()
    c.connect(("127.0.0.1", 3128))
    c.close()
a, b = socket.socketpair()
def sendmsg():
    a.sendmsg([b"x"])
    b.recv(1)
def send():
    a.send(b"x")
    b.recv(1)
dgram_rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
dgram_rx.bind(dgram_path)
dgram_tx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
def sendto_unix_path():  # resolve, unix_diag dump, send to the file found
    dgram_tx.sendto(b"x", dgram_path)
    dgram_rx.recv(1)
udp_rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp_rx.bind(("127.0.0.1", 0))
udp_tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp_to = udp_rx.getsockname()
def sendto_udp():  # a destination, not a Unix one (a DNS query's shape)
    udp_tx.sendto(b"x", udp_to)
    udp_rx.recv(1)
def socket_only():  # what a connect costs besides the connect itself
    socket.socket(socket.AF_UNIX).close()
print(json.dumps({"unix_connect": per_call(unix_connect), "tcp_connect": per_call(tcp_connect),
                  "sendmsg": per_call(sendmsg), "sendto_unix_path": per_call(sendto_unix_path),
                  "sendto_udp": per_call(sendto_udp), "send": per_call(send),
                  "socket_close": per_call(socket_only)}))
os.unlink(path)
os.unlink(dgram_path)
'''


def measure(binary: str, count: int) -> dict:
    r = subprocess.run([binary, "-d", "bench.test", "--log-level", "error", "--",
                        "/usr/bin/python3", "-c", PROBE, str(count)],
                       capture_output=True, text=True, timeout=600)
    lines = [l for l in r.stdout.splitlines() if l.startswith("{")]
    if r.returncode != 0 or not lines:
        raise SystemExit(f"{binary}: rc={r.returncode}\n{r.stdout}\n{r.stderr}")
    return json.loads(lines[-1])


def main() -> int:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binaries = {}
    if os.environ.get("AWF_BEFORE"):
        binaries["before"] = os.environ["AWF_BEFORE"]
    if os.environ.get("AWF_OLD"):
        binaries["old"] = os.environ["AWF_OLD"]
    binaries["rule"] = os.environ.get("AWF_BIN", os.path.join(root, "build/src/cli/awf"))
    rounds, count = int(os.environ.get("ROUNDS", "3")), int(os.environ.get("COUNT", "1000"))
    runs: dict = {name: [] for name in binaries}
    for _ in range(rounds):  # interleaved: a load change hits every binary alike
        for name, binary in binaries.items():
            runs[name].append(measure(binary, count))
    medians = {name: {op: statistics.median(r[op] for r in rs) for op in rs[0]}
               for name, rs in runs.items()}
    costs = [n for n in medians if n != "before"] if "before" in medians else []
    print(f"{'us per call (median of ' + str(rounds) + ' x ' + str(count) + ')':<40}" +
          "".join(f"{n:>10}" for n in medians) + "".join(f"{n + ' cost':>12}" for n in costs))
    for op in medians["rule"]:
        row = f"{op:<40}" + "".join(f"{medians[n][op]:>10.1f}" for n in medians)
        row += "".join(f"{medians[n][op] - medians['before'][op]:>+12.1f}" for n in costs)
        print(row)
    return 0


if __name__ == "__main__":
    sys.exit(main())
