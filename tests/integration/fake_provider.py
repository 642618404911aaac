#!/usr/bin/python3
"""A fake LLM provider origin for the API-proxy tests (stdlib only).

Runs inside the vnet's internet namespace (started by VNet.start_fake_provider): HTTPS with the
vnet's server certificate (run_dir/server.pem, whose SANs cover allowed.test, *.allowed.test,
other.test, evil.test, ...) on 0.0.0.0:<port> and [::]:<port>, so one process answers on every
address of the internet namespace (allowed, other and evil hosts alike) and records which local
address each request arrived on.

Every request is appended to run_dir/fake-provider-<port>.jsonl as one JSON line:
    {"kind": "request", "local", "port", "sni", "client", "conn", "seq", "method", "path",
     "headers": {lowercase name: value (repeats joined with ", ")},
     "header_list": [[name, value], ...], "body_len", "body_sha256",
     "body" (the bytes decoded as latin-1, for bodies up to 64 KiB)}
plus {"kind": "tls", "sni"} for each handshake and {"kind": "tls-error"} for a failed one.
The log is mode 0600: it holds the real keys the proxy injects, and the sandboxed command
(uid 65534) must not be able to find them there.

Routes (matched on the END of the path, so a base-path prefix does not change them):
    .../stream            SSE: `n` events (query n=, default 5) `gap` s apart (default 0.4),
                          Transfer-Encoding: chunked, then `data: [DONE]`
    .../stream-close      the same events, delimited by the end of the connection (no length)
    .../chunked           the echo JSON (below) sent in three chunks 0.1 s apart
    .../bytes/N           N bytes of the pattern 0123456789abcdef, with a Content-Length
    .../ws                with `Upgrade: websocket`: 101 (Sec-WebSocket-Accept computed), then
                          echoes raw bytes back until the client closes
    .../status/NNN        answers NNN with the echo JSON
    .../usage/FORMAT      (or any path with the query usage=FORMAT)
                          a model response that reports token usage (USAGE below) in FORMAT:
                          openai, responses, anthropic, copilot, gemini, gemini-array; with
                          stream=1: SSE, `n` content events `gap` s apart (default 3, 0.3),
                          chunked, usage where the format puts it, then `tail` SSE comments
                          (default 0) `gap` s apart. Gzipped when the request
                          accepts gzip (so a proxy that does not ask for identity cannot read it)
    anything else         200 application/json echo: {"path", "method", "headers", "body_len",
                          "local", "sni", plus OpenAI/Anthropic-shaped "choices"/"content"}
"""

from __future__ import annotations

import argparse
import base64
import gzip
import hashlib
import itertools
import json
import os
import re
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vnet  # noqa: E402

WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_BODY = 64 * 1024 * 1024
BODY_KEPT = 64 * 1024  # bodies up to this size are logged whole
_CONN_IDS = itertools.count(1)


def log_path(run_dir: str, port: int) -> str:
    return os.path.join(run_dir, f"fake-provider-{port}.jsonl")


def ready_path(run_dir: str, port: int) -> str:
    return os.path.join(run_dir, f"fake-provider-{port}.ready")


def ws_accept(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()


class JsonLog:
    def __init__(self, path: str):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        self._f = os.fdopen(fd, "a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, rec: dict):
        line = json.dumps({"ts": round(time.time(), 6), **rec})
        with self._lock:
            self._f.write(line + "\n")
            self._f.flush()


# The usage each format reports, and the model it names (the tests assert these numbers).
USAGE = {
    "openai": {"model": "gpt-5.4", "usage": {
        "prompt_tokens": 1000, "completion_tokens": 200, "total_tokens": 1200,
        "prompt_tokens_details": {"cached_tokens": 400},
        "completion_tokens_details": {"reasoning_tokens": 50}}},
    "responses": {"model": "gpt-5.5", "usage": {
        "input_tokens": 300, "output_tokens": 30, "total_tokens": 330,
        "input_tokens_details": {"cached_tokens": 100},
        "output_tokens_details": {"reasoning_tokens": 10}}},
    "anthropic": {"model": "claude-sonnet-4-5", "usage": {
        "input_tokens": 25, "output_tokens": 15, "cache_creation_input_tokens": 300,
        "cache_read_input_tokens": 1200}},
    "copilot": {"model": "claude-sonnet-4.6", "usage": {
        "prompt_tokens": 16396, "completion_tokens": 362, "total_tokens": 16758,
        "prompt_tokens_details": {"cached_tokens": 0}},
        "copilot_usage": {"token_details": [
            {"token_type": "input", "token_count": 3857},
            {"token_type": "cache_read", "token_count": 0},
            {"token_type": "cache_write", "token_count": 12539},
            {"token_type": "output", "token_count": 362}]}},
    "gemini": {"model": "gemini-2.5-pro", "usageMetadata": {
        "promptTokenCount": 9, "candidatesTokenCount": 21, "totalTokenCount": 44,
        "cachedContentTokenCount": 4, "thoughtsTokenCount": 14}},
}
USAGE["gemini-array"] = USAGE["gemini"]


def usage_document(fmt: str) -> object:
    """The whole (non-streamed) response of FORMAT."""
    u = USAGE[fmt]
    if fmt in ("openai", "copilot"):
        doc = {"id": "chatcmpl-usage", "object": "chat.completion", "model": u["model"],
               "choices": [{"index": 0, "message": {"role": "assistant", "content": "pong"}}],
               "usage": u["usage"]}
        if "copilot_usage" in u:
            doc["copilot_usage"] = u["copilot_usage"]
        return doc
    if fmt == "responses":
        return {"id": "resp-usage", "object": "response", "model": u["model"], "output": [],
                "usage": u["usage"]}
    if fmt == "anthropic":
        return {"id": "msg-usage", "type": "message", "model": u["model"],
                "content": [{"type": "text", "text": "pong"}], "usage": u["usage"]}
    part = {"candidates": [{"content": {"parts": [{"text": "pong"}]}}],
            "modelVersion": u["model"], "usageMetadata": u["usageMetadata"]}
    if fmt == "gemini-array":
        first = {"candidates": [{"content": {"parts": [{"text": "po"}]}}],
                 "modelVersion": u["model"],
                 "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 1}}
        return [first, part]
    return part


def usage_events(fmt: str, n: int) -> list[str]:
    """The SSE events of FORMAT: `n` content events, usage where the format sends it."""
    u = USAGE[fmt]

    def ev(obj, name=None):
        return (f"event: {name}\n" if name else "") + f"data: {json.dumps(obj)}\n\n"

    if fmt in ("openai", "copilot"):
        out = [ev({"id": "c", "object": "chat.completion.chunk", "model": u["model"],
                   "choices": [{"index": 0, "delta": {"content": f"tok{i} "}}]})
               for i in range(n)]
        last = {"id": "c", "object": "chat.completion.chunk", "model": u["model"],
                "choices": [], "usage": u["usage"]}
        if "copilot_usage" in u:
            last["copilot_usage"] = u["copilot_usage"]
        return out + [ev(last), "data: [DONE]\n\n"]
    if fmt == "responses":
        out = [ev({"type": "response.created", "response": {"model": u["model"]}},
                  "response.created")]
        out += [ev({"type": "response.output_text.delta", "delta": f"tok{i} "},
                   "response.output_text.delta") for i in range(n)]
        done = {"type": "response.completed",
                "response": {"model": u["model"], "usage": u["usage"]}}
        return out + [ev(done, "response.completed")]
    if fmt == "anthropic":
        start = dict(u["usage"], output_tokens=1)
        out = [ev({"type": "message_start", "message": {"model": u["model"], "usage": start}},
                  "message_start")]
        out += [ev({"type": "content_block_delta", "delta": {"text": f"tok{i} "}},
                   "content_block_delta") for i in range(n)]
        out.append(ev({"type": "message_delta",
                       "usage": {"output_tokens": u["usage"]["output_tokens"]}},
                      "message_delta"))
        return out + [ev({"type": "message_stop"}, "message_stop")]
    # Gemini (alt=sse): every chunk has usageMetadata, the last one the totals.
    out = [ev({"candidates": [{"content": {"parts": [{"text": f"tok{i} "}]}}],
               "modelVersion": u["model"],
               "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": i + 1}})
           for i in range(n)]
    return out + [ev({"candidates": [], "modelVersion": u["model"],
                      "usageMetadata": u["usageMetadata"]})]


class ProviderHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-llm-provider/1"
    sys_version = ""
    timeout = 30

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        self.conn_id = next(_CONN_IDS)
        self.seq = 0

    # -- request ---------------------------------------------------------------------------
    # The vnet origins' reader: Content-Length or chunked, bounded.
    _read_body = vnet.OriginHandler._read_body

    def _handle(self):
        self.seq += 1
        local = self.connection.getsockname()
        sni = getattr(self.connection, "awf_sni", None)
        body = self._read_body()
        header_list = [[k, v] for k, v in self.headers.items()]
        headers: dict[str, str] = {}
        for k, v in header_list:
            k = k.lower()
            headers[k] = f"{headers[k]}, {v}" if k in headers else v
        rec = {"kind": "request", "local": local[0], "port": local[1], "sni": sni,
               "client": self.client_address[0], "conn": self.conn_id, "seq": self.seq,
               "method": self.command, "path": self.path, "headers": headers,
               "header_list": header_list, "body_len": len(body),
               "body_sha256": hashlib.sha256(body).hexdigest()}
        if len(body) <= BODY_KEPT:
            rec["body"] = body.decode("latin-1")
        self.server.reqlog.write(rec)  # type: ignore[attr-defined]
        split = urllib.parse.urlsplit(self.path)
        path, query = split.path, urllib.parse.parse_qs(split.query)
        echo = {"path": self.path, "method": self.command, "headers": headers,
                "body_len": len(body), "local": local[0], "sni": sni,
                "id": f"chatcmpl-fake-{self.conn_id}-{self.seq}", "object": "chat.completion",
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "pong"}}],
                "type": "message", "role": "assistant",
                "content": [{"type": "text", "text": "pong"}]}
        if path.endswith("/ws") and "websocket" in (self.headers.get("Upgrade") or "").lower():
            return self._websocket()
        n = max(1, min(int((query.get("n") or ["5"])[0]), 100))
        gap = max(0.0, min(float((query.get("gap") or ["0.4"])[0]), 5.0))
        if path.endswith("/stream"):
            return self._sse(n, gap, chunked=True)
        if path.endswith("/stream-close"):
            return self._sse(n, gap, chunked=False)
        if path.endswith("/chunked"):
            return self._chunked_json(echo)
        m = re.search(r"/usage/([a-z-]+)$", path)
        if not m:
            # ?usage=FORMAT: the same answer on any path (a model call's own path, for the
            # budgets, which count calls by path).
            m = re.fullmatch(r"([a-z-]+)", (query.get("usage") or [""])[0])
        if m and m.group(1) in USAGE:
            gzipped = "gzip" in (self.headers.get("Accept-Encoding") or "").lower()
            if (query.get("stream") or ["0"])[0] == "1":
                n = max(1, min(int((query.get("n") or ["3"])[0]), 100))
                gap = max(0.0, min(float((query.get("gap") or ["0.3"])[0]), 5.0))
                tail = max(0, min(int((query.get("tail") or ["0"])[0]), 100))
                return self._usage_stream(m.group(1), n, gap, gzipped, tail)
            return self._usage_json(m.group(1), gzipped)
        m = re.search(r"/bytes/(\d+)$", path)
        if m:
            return self._bytes(min(int(m.group(1)), MAX_BODY))
        status = 200
        m = re.search(r"/status/(\d{3})$", path)
        if m:
            status = int(m.group(1))
        self._send_json(status, echo)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _handle

    # -- responses -------------------------------------------------------------------------
    def _send_json(self, status: int, obj: dict):
        data = (json.dumps(obj) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Fake-Provider", "1")
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304) and status >= 200:
            self.wfile.write(data)

    def _sse(self, n: int, gap: float, chunked: bool):
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.flush()

        def emit(text: str):
            data = text.encode()
            if chunked:
                data = f"{len(data):x}\r\n".encode() + data + b"\r\n"
            self.wfile.write(data)
            self.wfile.flush()

        for i in range(n):
            chunk = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "index": i,
                     "choices": [{"index": 0, "delta": {"content": f"tok{i} "}}]}
            emit(f"data: {json.dumps(chunk)}\n\n")
            time.sleep(gap)
        emit("data: [DONE]\n\n")
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    def _usage_json(self, fmt: str, gzipped: bool):
        data = json.dumps(usage_document(fmt)).encode()
        if gzipped:
            data = gzip.compress(data)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _usage_stream(self, fmt: str, n: int, gap: float, gzipped: bool, tail: int):
        """Each event in its own chunk `gap` s apart; with gzip, one compressed body."""
        events = usage_events(fmt, n) + [": keep-alive\n\n"] * tail
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
            events = [gzip.compress("".join(events).encode()).decode("latin-1")]
        self.end_headers()
        self.wfile.flush()
        for i, text in enumerate(events):
            data = text.encode("latin-1" if gzipped else "utf-8")
            try:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
            except OSError:
                self.close_connection = True
                return
            self.server.reqlog.write({"kind": "usage-event", "fmt": fmt, "i": i,  # type: ignore
                                      "last": i == len(events) - 1})
            if i < len(events) - 1:
                time.sleep(gap)
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _chunked_json(self, obj: dict):
        """The echo JSON in three chunks, 0.1 s apart."""
        data = (json.dumps(obj) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        k = max(1, len(data) // 3)
        for piece in (data[:k], data[k:2 * k], data[2 * k:]):
            self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.flush()
            time.sleep(0.1)
        self.wfile.write(b"0\r\n\r\n")

    def _bytes(self, n: int):
        """n bytes of the pattern 0123456789abcdef (sha256 checkable), with a length."""
        pattern = b"0123456789abcdef" * 4096
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(n))
        self.end_headers()
        left = n
        while left > 0 and self.command != "HEAD":
            k = min(left, len(pattern))
            self.wfile.write(pattern[:k])
            left -= k

    def _websocket(self):
        key = self.headers.get("Sec-WebSocket-Key") or ""
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", ws_accept(key))
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        try:
            while True:
                data = self.rfile.read1(65536)
                if not data:
                    break
                self.wfile.write(data)
        except (OSError, ValueError):
            pass


class ProviderServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, family, reqlog: JsonLog, ssl_ctx):
        self.address_family = family
        self.reqlog = reqlog
        self.ssl_ctx = ssl_ctx
        super().__init__(addr, ProviderHandler)

    def server_bind(self):
        if self.address_family == socket.AF_INET6:
            self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        socketserver.TCPServer.server_bind(self)  # no getfqdn()
        self.server_name, self.server_port = "fake-provider", self.server_address[1]

    def finish_request(self, request, client_address):
        local = request.getsockname()
        request.settimeout(15)
        try:
            tls = self.ssl_ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            self.reqlog.write({"kind": "tls-error", "local": local[0], "port": local[1],
                               "client": client_address[0], "error": str(e)[:200]})
            return
        self.reqlog.write({"kind": "tls", "local": local[0], "port": local[1],
                           "client": client_address[0], "sni": getattr(tls, "awf_sni", None)})
        try:
            tls.settimeout(30)
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        pass


def serve(run_dir: str, port: int, addrs: list[str]):
    signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
    d = Path(run_dir)
    reqlog = JsonLog(log_path(run_dir, port))

    ctx = vnet.server_tls_context(d)
    servers = []
    for addr in addrs:
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        servers.append(ProviderServer((addr, port), fam, reqlog, ctx))
    for s in servers:
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.5},
                         daemon=True).start()
    Path(ready_path(run_dir, port)).write_text(f"{os.getpid()}\n")
    while True:
        time.sleep(3600)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="fake_provider.py", description=__doc__.splitlines()[0])
    ap.add_argument("--run-dir", required=True)
    ap.add_argument("--port", type=int, default=8443)
    ap.add_argument("--addr", action="append", help="listen address (repeatable; "
                    "default 0.0.0.0 and ::)")
    a = ap.parse_args(argv)
    serve(a.run_dir, a.port, a.addr or ["0.0.0.0", "::"])
    return 0


# ---------------------------------------------------------------------------------------------
# test_api_surface.py (issue 17, model aliases): GET .../models answers a fixed model list in
# OpenAI's shape ({"data": [{"id"}]}), recorded like any request; every other request is
# handled as above.
MODEL_LIST = ["gpt-5", "gpt-5.2", "gpt-4o", "claude-sonnet-4.5", "claude-sonnet-4.6"]
_handle_without_models = ProviderHandler._handle


def _handle_with_models(self):
    if self.command != "GET" or not urllib.parse.urlsplit(self.path).path.endswith("/models"):
        return _handle_without_models(self)
    self.seq += 1
    local = self.connection.getsockname()
    header_list = [[k, v] for k, v in self.headers.items()]
    self.server.reqlog.write({  # type: ignore[attr-defined]
        "kind": "request", "local": local[0], "port": local[1],
        "sni": getattr(self.connection, "awf_sni", None), "client": self.client_address[0],
        "conn": self.conn_id, "seq": self.seq, "method": self.command, "path": self.path,
        "headers": {k.lower(): v for k, v in header_list}, "header_list": header_list,
        "body_len": 0, "body_sha256": hashlib.sha256(b"").hexdigest()})
    self._send_json(200, {"object": "list", "data": [{"id": m} for m in MODEL_LIST]})


ProviderHandler.do_GET = _handle_with_models


if __name__ == "__main__":
    sys.exit(main())
