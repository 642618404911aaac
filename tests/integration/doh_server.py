#!/usr/bin/python3
"""A DNS-over-HTTPS (RFC 8484) responder for the --dns-over-https tests (stdlib only).

Runs inside the vnet's internet namespace (started by start_doh_server below): HTTPS/1.1 with
keep-alive and the vnet's server certificate (run_dir/server.pem: its SANs cover other.test and
203.0.113.11 among others) on the given addresses and port. It answers the vnet's test zone
itself, with the same records as the vnet's authoritative DNS server (vnet.dns_answer), so a
query that reaches it never reaches that server.

    POST <path>            body: a DNS query (Content-Type application/dns-message)
    GET  <path>?dns=<b64>  the query base64url-encoded (RFC 8484 GET form)

Every query is appended to run_dir/doh-queries-<port>.jsonl:
    {"kind": "query", "method", "path", "content_type", "id", "name", "type", "rcode",
     "client", "conn"}   (conn: a per-connection number, to see keep-alive at work)
plus {"kind": "tls", "conn", "sni"} per handshake and {"kind": "tls-error", "error"} per
failed one. `--status N` answers every request with HTTP N instead (text/plain); `--mode close`
closes the connection after each answer without announcing it (a server dropping an idle
keep-alive connection); `--mode hang` never answers.
"""

from __future__ import annotations

import argparse
import base64
import itertools
import json
import os
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vnet as V  # noqa: E402

DEFAULT_PORT = 9443


def log_path(run_dir: str, port: int) -> str:
    return os.path.join(run_dir, f"doh-queries-{port}.jsonl")


def ready_path(run_dir: str, port: int) -> str:
    return os.path.join(run_dir, f"doh-{port}.ready")


# ---------------------------------------------------------------------------- test side
def start_doh_server(vnet: V.VNet, port: int = DEFAULT_PORT, addrs=("0.0.0.0", "::"),
                     status: int | None = None, mode: str = "normal") -> subprocess.Popen:
    """Starts the responder in the vnet's internet namespace; stop it with
    vnet.stop_host_service(proc)."""
    argv = ["ip", "netns", "exec", vnet.inet_ns, V.PY, os.path.abspath(__file__),
            "--run-dir", vnet.run_dir, "--port", str(port)]
    for a in addrs:
        argv += ["--addr", a]
    if status is not None:
        argv += ["--status", str(status)]
    argv += ["--mode", mode]
    return vnet.start_service(argv, ready_path(vnet.run_dir, port), f"DoH server on port {port}")


def doh_mark(vnet: V.VNet, port: int = DEFAULT_PORT) -> int:
    return vnet._mark(log_path(vnet.run_dir, port))


def doh_records(vnet: V.VNet, mark: int = 0, port: int = DEFAULT_PORT) -> list[dict]:
    return vnet._read_since(log_path(vnet.run_dir, port), mark)


# ---------------------------------------------------------------------------- server side
class DohHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    server_version = "awf-test-doh"

    def log_message(self, *args):
        pass

    def _answer(self, query: bytes, content_type: str):
        srv: DohServer = self.server  # type: ignore[assignment]
        rec = {"kind": "query", "method": self.command, "path": self.path,
               "content_type": content_type, "client": self.client_address[0],
               "conn": getattr(self.connection, "awf_conn", None)}
        if len(query) >= 2:
            rec["id"] = int.from_bytes(query[:2], "big")
        if srv.status is not None:
            srv.log.write({**rec, "status": srv.status})
            return self._send(srv.status, b"not today\n", "text/plain")
        if srv.mode == "hang":
            srv.log.write({**rec, "hang": True})
            time.sleep(30)
            self.close_connection = True
            return
        reply, info = V.dns_answer(query, max_udp=None)
        srv.log.write({**rec, **info})
        if reply is None:
            return self._send(400, b"not a DNS query\n", "text/plain")
        self._send(200, reply, "application/dns-message")

    def _send(self, status: int, body: bytes, ctype: str):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "max-age=0")
        self.end_headers()
        self.wfile.write(body)
        if self.server.mode == "close":  # type: ignore[attr-defined]
            self.close_connection = True

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if 0 < length <= 65535 else b""
        self._answer(body, self.headers.get("Content-Type") or "")

    def do_GET(self):
        qs = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        encoded = (qs.get("dns") or [""])[0]
        try:
            query = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        except ValueError:
            query = b""
        self._answer(query, "")


class DohServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, family, log, ssl_ctx, status, mode):
        self.address_family = family
        self.log = log
        self.ssl_ctx = ssl_ctx
        self.status = status
        self.mode = mode
        self.conns = itertools.count(1)
        super().__init__(addr, DohHandler)

    def server_bind(self):
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        socketserver.TCPServer.server_bind(self)  # no getfqdn(): no name lookups at all
        self.server_name, self.server_port = "doh", self.server_address[1]

    def finish_request(self, request, client_address):
        request.settimeout(15)
        conn = next(self.conns)
        try:
            tls = self.ssl_ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.log.write({"kind": "tls-error", "client": client_address[0], "conn": conn,
                            "error": str(e)[:200]})
            return
        tls.awf_conn = conn
        self.log.write({"kind": "tls", "client": client_address[0], "conn": conn,
                        "sni": getattr(tls, "awf_sni", None)})
        try:
            tls.settimeout(60)
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        pass


def serve(run_dir: str, port: int, addrs: list[str], status: int | None, mode: str):
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    d = Path(run_dir)
    log = V._JsonLog(log_path(run_dir, port))
    os.chmod(log_path(run_dir, port), 0o644)

    ctx = V.server_tls_context(d)
    servers = []
    for addr in addrs:
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        servers.append(DohServer((addr, port), fam, log, ctx, status, mode))
    for s in servers:
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.5},
                         daemon=True).start()
    Path(ready_path(run_dir, port)).write_text(f"{os.getpid()}\n")
    while True:
        time.sleep(3600)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="doh_server.py", description=__doc__.splitlines()[0])
    ap.add_argument("--run-dir", required=True)
    ap.add_argument("--port", type=int, default=DEFAULT_PORT)
    ap.add_argument("--addr", action="append", help="listen address (repeatable; "
                    "default 0.0.0.0 and ::)")
    ap.add_argument("--status", type=int, help="answer every request with this HTTP status")
    ap.add_argument("--mode", choices=["normal", "close", "hang"], default="normal")
    a = ap.parse_args(argv)
    serve(a.run_dir, a.port, a.addr or ["0.0.0.0", "::"], a.status, a.mode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
