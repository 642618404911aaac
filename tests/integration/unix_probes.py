"""Probes of the host's Unix sockets and FIFOs shared by the host-IPC tests (test_unix_sockets.py,
test_host_ipc.py): the client a test runs inside the sandbox and, as the control, on the host;
host listeners standing in for daemons; and the reading of the client's output."""

from __future__ import annotations

import os
import socket
import subprocess
import threading

import vnet as V

# Connects to each Unix stream socket path given and prints path=connected:<greeting> or
# path=<errno>; the paths after "--dgram" get one datagram each through sendto (path=sent or
# path=<errno>); the FIFOs after "--fifo" are opened for writing without blocking
# (path=opened or path=<errno>).
CLIENT = r'''
import errno, os, socket, sys
groups = {"stream": [], "--dgram": [], "--fifo": []}
key = "stream"
for arg in sys.argv[1:]:
    if arg in groups:
        key = arg
    else:
        groups[key].append(arg)
def name(e):
    return errno.errorcode.get(e.errno, str(e.errno))
for path in groups["stream"]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(path)
        print(path + "=connected:" + s.recv(64).decode())
    except OSError as e:
        print(path + "=" + name(e))
    finally:
        s.close()
for path in groups["--dgram"]:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.sendto(b"from-sandbox", path)
        print(path + "=sent")
    except OSError as e:
        print(path + "=" + name(e))
    finally:
        s.close()
for path in groups["--fifo"]:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.write(fd, b"from-sandbox\n")
        print(path + "=opened")
    except OSError as e:
        print(path + "=" + name(e))
'''


class HostListener:
    """A Unix socket of a host process at `path` (stream: greets and counts every connection;
    datagram: counts every datagram)."""

    def __init__(self, path: str, greeting: str = "host-daemon", dgram: bool = False):
        self.path = path
        self.greeting = greeting.encode()
        self.accepted = 0
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM if dgram else socket.SOCK_STREAM)
        self.sock.bind(path)
        os.chmod(path, 0o777)  # a daemon socket anyone may use: only awf stops the command
        if not dgram:
            self.sock.listen(64)
        self.thread = threading.Thread(target=self._receive if dgram else self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            try:
                conn.sendall(self.greeting)
            except OSError:
                pass
            finally:
                conn.close()

    def _receive(self):
        while True:
            try:
                self.sock.recv(4096)
            except OSError:
                return
            self.accepted += 1

    def close(self):
        self.sock.close()
        if os.path.exists(self.path):
            os.unlink(self.path)


def write_script(vnet, name: str, text: str) -> str:
    path = os.path.join(vnet.scratch_dir, name)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o644)
    return path


def results(out: str) -> dict:
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def host_probe(client: str, *args: str) -> dict:
    """The control: the same client, run on the host (no awf)."""
    r = subprocess.run([V.PY, client, *args], capture_output=True, text=True, timeout=30)
    return results(r.stdout)
