#!/usr/bin/python3
"""A stand-in for gh-aw's DIFC proxy in the GitHub CLI proxy tests (stdlib only).

HTTPS on 127.0.0.1:<port> of the vnet's host namespace (where awf's executor runs the real gh,
as GH_HOST=localhost:<port>), with a certificate for localhost signed by the test's own CA (the
file the test passes as --difc-proxy-ca-cert). Answers gh's GitHub Enterprise paths:

    GET  /api/v3/rate_limit      {"resources": {...}, "rate": {...}}
    GET  /api/v3/repos/o/r       {"full_name": "o/r", "id": 1}
    POST /api/v3/repos/o/r/issues echoes the body it got: {"number": 7, "got": <body text>}
    anything else                404 {"message": "Not Found"}

Every request is appended to <log> as one JSON line {"method", "path", "authorization",
"body"}; the log is mode 0600 (it holds the real token gh sent).

Tests use make_certs() and start() (test_cli_proxy.py, test_gh_aw_replay.py).
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LOCK = threading.Lock()
THIS_FILE = os.path.abspath(__file__)


def make_certs(directory: str) -> dict:
    """A CA and a certificate for localhost/127.0.0.1 it signs, in `directory`."""
    import vnet as V
    os.makedirs(directory, exist_ok=True)
    ca_key, ca, key, csr, cert, ext = (os.path.join(directory, n) for n in (
        "ca.key", "ca.crt", "server.key", "server.csr", "server.pem", "server.ext"))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    V.run(["openssl", "req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "2",
           "-subj", "/CN=awf test DIFC proxy CA", "-addext", "basicConstraints=critical,CA:TRUE",
           "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    V.run(["openssl", "req", "-new", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=localhost"])
    Path(ext).write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
                         "extendedKeyUsage=serverAuth\n")
    V.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
           "-out", cert, "-days", "2", "-extfile", ext])
    os.chmod(ca, 0o644)
    return {"ca": ca, "cert": cert, "key": key, "dir": directory,
            "log": os.path.join(directory, "requests.jsonl")}


def start(vnet, certs: dict, port: int):
    """Runs the server on 127.0.0.1:`port` of the vnet's host namespace; stop it with
    vnet.stop_host_service."""
    import vnet as V
    ready = os.path.join(certs["dir"], f"ready-{port}")
    return vnet.start_service(
        vnet.host_cmd([V.PY, THIS_FILE, "--port", str(port), "--cert", certs["cert"],
                       "--key", certs["key"], "--log", certs["log"], "--ready", ready]),
        ready, f"fake DIFC proxy on 127.0.0.1:{port}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--ready", required=True)
    args = ap.parse_args()
    fd = os.open(args.log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    log = os.fdopen(fd, "a", buffering=1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):  # quiet
            pass

        def answer(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def read_body(self) -> bytes:
            if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                data = b""
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        self.rfile.readline()
                        return data
                    data += self.rfile.read(size)
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def handle_any(self) -> None:
            body = self.read_body().decode("utf-8", "replace")
            with LOCK:
                log.write(json.dumps({"method": self.command, "path": self.path,
                                      "authorization": self.headers.get("Authorization"),
                                      "body": body}) + "\n")
            path = self.path.split("?")[0]
            if path == "/api/v3/rate_limit":
                self.answer(200, {"resources": {"core": {"limit": 5000, "remaining": 4999}},
                                  "rate": {"limit": 5000, "remaining": 4999}})
            elif path == "/api/v3/repos/o/r" and self.command == "GET":
                self.answer(200, {"full_name": "o/r", "id": 1})
            elif path == "/api/v3/repos/o/r/issues" and self.command == "POST":
                self.answer(201, {"number": 7, "got": body})
            else:
                self.answer(404, {"message": "Not Found"})

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = handle_any

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    Path(args.ready).write_text("ready\n")
    server.serve_forever()


if __name__ == "__main__":
    main()
