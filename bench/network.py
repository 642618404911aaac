"""The bench network: the integration tests' virtual internet (tests/integration/vnet.py) with
nginx as the origin instead of the tests' Python origins, and the vnet's own DNS server.

    host ns  awfit-<pid>-host  veth 203.0.113.1/24, default route to the inet ns, nothing else:
             the proxies, awf and the load generators
    inet ns  awfit-<pid>-inet  veth 203.0.113.2/24, no route anywhere else:
             nginx on 198.51.100.10 (second.test) :80 and :443, DNS on 203.0.113.53

Run dir /tmp/awf-it-<pid>/ (the vnet's): its CA and server certificate, the bench's content,
every server's config and log, the awf logs of each run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import knobs as K
from knobs import V

# Per-namespace knobs for hundreds of thousands of short connections.
SYSCTLS = ["net.ipv4.ip_local_port_range=1024 65000", "net.ipv4.tcp_tw_reuse=1",
           "net.core.somaxconn=8192", "net.ipv4.tcp_max_syn_backlog=8192"]


class BenchNet(V.VNet):
    """VNet whose inet namespace runs only the vnet's DNS server; the bench's servers are
    started by servers.start_all() and registered here (spawn/stop), so that down() stops
    them before the vnet removes the namespaces."""

    def __init__(self):
        super().__init__()
        self.keep = K.KEEP
        self.dir = Path(self.run_dir)
        self.procs: dict[str, subprocess.Popen] = {}
        self.exit_hangs: list[str] = []  # awf runs that did not end after their command did

    @property
    def ca(self) -> str:
        return self.ca_path

    def _start_servers(self):
        """Called by VNet.up() once the namespaces exist."""
        for sub in ("www", "nginx", "squid", "tinyproxy", "haproxy"):
            (self.dir / sub).mkdir(mode=0o755)
        self._content()
        for ns in (self.host_ns, self.inet_ns):
            K.run(["ip", "netns", "exec", ns, "sysctl", "-q", "-w", *SYSCTLS])
        self.spawn("dns", self.inet_ns, [V.PY, __file__, "_dns", self.run_dir], 53, K.DNS4)

    def _content(self):
        www = self.dir / "www"
        (www / "1k").write_bytes((b"0123456789abcdef" * 64)[:1024])
        chunk = os.urandom(K.MIB)
        with open(www / "bulk", "wb") as f:
            for _ in range(K.BULK_MIB):
                f.write(chunk)
        # A streamed model answer (OpenAI chat completion chunks, usage in the last event),
        # served as text/event-stream for the API proxy workload.
        event = ('data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","model":'
                 '"gpt-5.4","choices":[{"index":0,"delta":{"content":"%s"}}]}\n\n' % ("x" * 64))
        events = event.encode() * (K.MIB // len(event))
        with open(www / "stream.sse", "wb") as f:
            for _ in range(K.API_MIB):
                f.write(events)
            f.write(b'data: {"choices":[],"usage":{"prompt_tokens":1000,"completion_tokens":'
                    b'200}}\n\ndata: [DONE]\n\n')
        for f in www.iterdir():
            os.chmod(f, 0o644)

    def spawn(self, key: str, ns: str, cmd: list, ready_port: int | None = None,
              ready_addr: str = "127.0.0.1") -> subprocess.Popen:
        """Start a server in `ns` (output in <key>.out) and wait until its port accepts."""
        out = open(self.dir / f"{key}.out", "ab")
        p = subprocess.Popen(["ip", "netns", "exec", ns, *map(str, cmd)], stdin=subprocess.DEVNULL,
                             stdout=out, stderr=out, env=V.clean_env(), start_new_session=True,
                             preexec_fn=V._set_pdeathsig)
        out.close()
        self.procs[key] = p
        deadline = time.monotonic() + 20
        while ready_port:
            r = K.run(["ip", "netns", "exec", ns, "bash", "-c",
                       f"exec 3<>/dev/tcp/{ready_addr}/{ready_port}"], check=False, timeout=5)
            if r.returncode == 0:
                break
            if p.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{key} did not start:\n" +
                                   (self.dir / f"{key}.out").read_text(errors="replace")[-3000:])
            time.sleep(0.1)
        return p

    def stop(self, key: str):
        p = self.procs.pop(key, None)
        if p is None:
            return
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait(timeout=5)

    def trim_logs(self):
        """The proxies' access logs grow by millions of lines per run: empty them between
        runs (every one is opened for appending)."""
        for f in ("squid/access.log", "tinyproxy/tinyproxy.log", "haproxy.out",
                  "dns-queries.jsonl"):
            try:
                os.truncate(self.dir / f, 0)
            except OSError:
                pass

    def down(self):
        for key in list(self.procs):
            try:
                self.stop(key)
            except Exception as e:
                K.log(f"stopping {key}: {e}")
        super().down()


def serve_dns(run_dir: str):
    """The DNS server process (inside the inet ns): the vnet's, IPv4 only, queries logged to the
    vnet's dns-queries.jsonl (trimmed between runs)."""
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    log = V._JsonLog(Path(run_dir) / "dns-queries.jsonl")
    V._serve_dns(K.DNS4, socket.AF_INET, log, [])
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    if sys.argv[1:2] == ["_dns"] and len(sys.argv) == 3:
        serve_dns(sys.argv[2])
    else:
        sys.exit("usage: network.py _dns RUN_DIR (started by the bench)")
