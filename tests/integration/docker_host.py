"""A private Docker daemon in the vnet's host namespace, for --topology-attach tests.

dockerd runs where awf runs (the vnet's host network namespace), with everything of its own
under one temporary directory: the API socket, data and exec roots, pid file and log. Its bridge
is 192.0.2.1/24 (TEST-NET-1, unused by the vnet), so containers get 192.0.2.2 and up.

Nothing is pulled from any registry: the image `awf-test-busybox` is imported from a root
filesystem holding only busybox-static's /bin/busybox and a small web root, and the gateway
container runs busybox httpd. Every docker command uses this daemon's socket (DOCKER_HOST).

    with DockerHost(vnet) as d:       # or start()/stop(); stop() is idempotent
        d.run_gateway("awmg-mcpg")    # like gh-aw's MCP gateway (see run_gateway)
        d.docker("stop", "x")

`DockerHost.unavailable()` says why dockerd cannot run here ("" when it can); tests skip then.
stop() removes the containers, stops dockerd (and the containerd it started), unmounts what it
left under the directory and removes it, and puts back the namespace's ip_forward setting and
the files dockerd creates outside its directories (/etc/docker/key.json, /run/docker).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from typing import Iterator

import pytest

import vnet as V

BRIDGE = "192.0.2.1/24"
IMAGE = "awf-test-busybox"
PAGE = "hello from the topology peer\n"
BUSYBOX = "/bin/busybox"
START_TIMEOUT = 60


def _static_busybox() -> bool:
    """busybox-static's binary runs in an image with no libraries."""
    if not os.path.isfile(BUSYBOX):
        return False
    p = subprocess.run(["ldd", BUSYBOX], capture_output=True, text=True)
    return p.returncode != 0 or "not a dynamic executable" in (p.stdout + p.stderr)


class DockerHost:
    # vfs works on any filesystem; it copies the whole image for each container, which is
    # cheap for the busybox image and slow for a distribution's (tests/package/ uses overlay2).
    STORAGE_DRIVER = "vfs"

    def __init__(self, vnet: V.VNet):
        self.vnet = vnet
        # Short: a unix socket path has at most 107 bytes.
        self.dir = tempfile.mkdtemp(prefix="awf-dk-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        self.socket = os.path.join(self.dir, "docker.sock")
        self.host = f"unix://{self.socket}"
        self.log_path = os.path.join(self.dir, "dockerd.log")
        self.proc: subprocess.Popen | None = None
        self._forward_before: str | None = None
        self._had_key = os.path.exists("/etc/docker/key.json")
        self._had_run_docker = os.path.exists("/run/docker")

    @staticmethod
    def unavailable() -> str:
        missing = [t for t in ("dockerd", "docker", "containerd", "runc", "nsenter")
                   if shutil.which(t, path=V.SAFE_PATH) is None]
        if missing:
            return "missing " + ", ".join(missing) + " (scripts/install-deps.sh: docker.io)"
        if not _static_busybox():
            return f"no static {BUSYBOX} (scripts/install-deps.sh: busybox-static)"
        return ""

    # -------------------------------------------------------------------------- lifecycle
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        self._forward_before = self._read_forward()
        argv = ["nsenter", f"--net=/run/netns/{self.vnet.host_ns}", "dockerd",
                "--bip", BRIDGE, "-H", self.host,
                "--data-root", os.path.join(self.dir, "data"),
                "--exec-root", os.path.join(self.dir, "exec"),
                "--pidfile", os.path.join(self.dir, "docker.pid"),
                "--storage-driver", self.STORAGE_DRIVER, "--iptables=true", "--ip6tables=false",
                "--log-level", "warn"]
        # dockerd starts (and stops) its own containerd under --exec-root: no --containerd.
        # nsenter, not `ip netns exec`: that remounts /sys without the cgroup hierarchy and
        # dockerd refuses to start.
        with open(self.log_path, "w") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, env=V.clean_env(),
                                         start_new_session=True, preexec_fn=V._set_pdeathsig)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dockerd exited ({self.proc.returncode}):\n{self.log_tail()}")
            if os.path.exists(self.socket) and \
                    self.docker("version", check=False, timeout=10).returncode == 0:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError(f"dockerd did not answer within {START_TIMEOUT} s:\n"
                               f"{self.log_tail()}")
        self._import_image()

    def stop(self):
        if self.proc is None:
            return
        try:
            if self.proc.poll() is None:
                ids = self.docker("ps", "-aq", check=False).stdout.split()
                if ids:
                    self.docker("rm", "-f", *ids, check=False, timeout=60)
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                    self.proc.wait(timeout=10)
        finally:
            self.proc = None
            self._kill_leftovers()
            self._unmount_all()
            shutil.rmtree(self.dir, ignore_errors=True)
            self.vnet.host_run(["ip", "link", "del", "docker0"], check=False)
            if self._forward_before is not None:
                self.vnet.host_run(["sysctl", "-qw",
                                    f"net.ipv4.ip_forward={self._forward_before}"], check=False)
            if not self._had_key:
                try:
                    os.unlink("/etc/docker/key.json")
                except FileNotFoundError:
                    pass
            if not self._had_run_docker:
                shutil.rmtree("/run/docker", ignore_errors=True)

    # -------------------------------------------------------------------------- helpers
    def docker(self, *args: str, check: bool = True, timeout: float = 60,
               input: str | None = None) -> subprocess.CompletedProcess:
        env = V.clean_env({"DOCKER_HOST": self.host, "DOCKER_CONFIG": self.dir})
        p = subprocess.run(["docker", *args], capture_output=True, text=True, env=env,
                           timeout=timeout, input=input)
        if check and p.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args)} failed ({p.returncode}): {p.stderr}")
        return p

    def run_gateway(self, name: str, *docker_args: str) -> str:
        """gh-aw's way: `docker run -d --name NAME --network bridge -p 127.0.0.1:8080:8080 …`.
        busybox httpd serves the page on 8080 (published) and on 8081 (exposed, not
        published: reached at the container's address). Returns the container's address."""
        script = (f"{BUSYBOX} httpd -p 8080 -h /www && "
                  f"exec {BUSYBOX} httpd -f -p 8081 -h /www")
        self.docker("run", "-d", "--name", name, "--network", "bridge",
                    "-p", "127.0.0.1:8080:8080", "--expose", "8081", *docker_args,
                    IMAGE, BUSYBOX, "sh", "-c", script)
        self.wait_serving(8080)
        return self.address(name)

    def address(self, name: str) -> str:
        return self.docker("inspect", "-f", "{{.NetworkSettings.IPAddress}}", name).stdout.strip()

    def wait_serving(self, port: int, timeout: float = 15):
        """Until 127.0.0.1:port of the host namespace answers (docker-proxy, then httpd)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            p = self.vnet.host_run(["curl", "-sS", "--max-time", "2", "--noproxy", "*",
                                    f"http://127.0.0.1:{port}/"], check=False)
            if p.returncode == 0 and PAGE in p.stdout:
                return
            time.sleep(0.2)
        raise RuntimeError(f"the container does not serve 127.0.0.1:{port}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except FileNotFoundError:
            return ""

    def _import_image(self):
        rootfs = os.path.join(self.dir, "rootfs")
        os.makedirs(os.path.join(rootfs, "bin"))
        os.makedirs(os.path.join(rootfs, "www"))
        shutil.copy2(BUSYBOX, os.path.join(rootfs, "bin", "busybox"))
        with open(os.path.join(rootfs, "www", "index.html"), "w") as f:
            f.write(PAGE)
        tar = subprocess.run(["tar", "-C", rootfs, "-c", "."], capture_output=True, check=True)
        env = V.clean_env({"DOCKER_HOST": self.host, "DOCKER_CONFIG": self.dir})
        p = subprocess.run(["docker", "import", "-", IMAGE], input=tar.stdout,
                           capture_output=True, env=env, timeout=60)
        if p.returncode != 0:
            raise RuntimeError(f"docker import failed: {p.stderr.decode(errors='replace')}")

    def _read_forward(self) -> str | None:
        p = self.vnet.host_run(["sysctl", "-n", "net.ipv4.ip_forward"], check=False)
        return p.stdout.strip() if p.returncode == 0 else None

    def _kill_leftovers(self):
        """containerd and its shims, should dockerd have died without stopping them."""
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    cmdline = f.read().decode(errors="replace")
            except OSError:
                continue
            if self.dir in cmdline:
                pids.append(int(entry))
        V.kill_pids(pids)

    def _unmount_all(self):
        mounts = []
        try:
            with open("/proc/self/mountinfo") as f:
                for line in f:
                    point = line.split()[4]
                    if point == self.dir or point.startswith(self.dir + "/"):
                        mounts.append(point)
        except OSError:
            return
        for point in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", point], capture_output=True)


def serving_gateway(vnet: V.VNet, name: str) -> Iterator[DockerHost]:
    """For a module fixture: a dockerd in the vnet's host namespace running the gateway
    container `name` (its address in `.peer_address`); skips where Docker cannot run here."""
    why = DockerHost.unavailable()
    if why:
        pytest.skip(f"no Docker here: {why}")
    d = DockerHost(vnet)
    try:
        d.start()
    except RuntimeError as e:
        d.stop()
        pytest.skip(f"dockerd cannot start in this environment: {e}")
    try:
        d.peer_address = d.run_gateway(name)
        yield d
    finally:
        d.stop()
