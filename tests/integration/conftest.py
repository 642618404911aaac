"""Fixtures for awf's black-box integration tests (see vnet.py for the virtual internet)."""

from __future__ import annotations

import os
import shutil
import sys
import uuid

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vnet as V  # noqa: E402

AWF_BIN = os.environ.get("AWF_BIN", V.DEFAULT_AWF_BIN)
ALLOWED = {V.ALLOWED4, V.ALLOWED6}
EXPLICIT_PROXY = "http://127.0.0.1:3128"  # awf's explicit proxy inside the sandbox

# awf takes a parent proxy from its own https_proxy/http_proxy (--upstream-proxy auto-detection):
# no test may inherit the CI machine's, not even one that starts awf without V.clean_env().
for _name in list(os.environ):
    if _name.lower() in ("http_proxy", "https_proxy", "no_proxy", "all_proxy", "ftp_proxy"):
        del os.environ[_name]


def pytest_report_header(config):
    state = "found" if os.access(AWF_BIN, os.X_OK) else "MISSING (awf tests will be skipped)"
    return f"awf binary: {AWF_BIN} [{state}]"


@pytest.fixture(scope="session")
def vnet():
    """One virtual internet for the whole session; removed at the end even on failure."""
    if os.geteuid() != 0:
        pytest.skip("integration tests need root (network namespaces)")
    missing = [t for t in ("ip", "curl", "dig", "openssl") if shutil.which(t, path=V.SAFE_PATH) is None]
    if missing:
        pytest.skip(f"missing tools: {', '.join(missing)}")
    v = V.VNet()
    v.up()
    try:
        yield v
    finally:
        v.down()


class Awf:
    """Runs the real awf binary in the vnet's host namespace with a fresh logs dir per run."""

    def __init__(self, vnet: V.VNet, binary: str, label: str):
        self.vnet = vnet
        self.bin = binary
        self.label = label

    def __call__(self, args=(), cmd=None, timeout: float = 60, **kw) -> V.AwfResult:
        return self.vnet.awf_run(self.bin, list(args), cmd, timeout=timeout, label=self.label, **kw)

    run = __call__

    def popen(self, args=(), cmd=None, **kw):
        return self.vnet.awf_popen(self.bin, list(args), cmd, label=self.label, **kw)

    def curl(self, *extra: str, max_time: float = 15) -> list[str]:
        """curl inside the sandbox, trusting the vnet CA (a world-readable file), as a
        proxy-aware client: curl reads only the lower-case http_proxy for http:// URLs, which
        awf (as AWF) leaves unset, so the proxy is named here (`--noproxy '*'` still wins)."""
        return self.vnet.curl_args("--proxy", EXPLICIT_PROXY, *extra, max_time=max_time)

    @staticmethod
    def dig(*extra: str) -> list[str]:
        return ["dig", "+time=3", "+tries=1", *extra]


@pytest.fixture
def awf(vnet, request):
    if not (os.path.isfile(AWF_BIN) and os.access(AWF_BIN, os.X_OK)):
        pytest.skip(f"awf binary not found at {AWF_BIN}: build it first "
                    "(cmake -S . -B build && cmake --build build) or set AWF_BIN")
    return Awf(vnet, AWF_BIN, request.node.name)


@pytest.fixture
def nonce():
    return uuid.uuid4().hex[:12]


# ---------------------------------------------------------------------------- assertion helpers
def dest_str(rec: dict) -> str:
    """The destination of an audit record as text ("" when none: AWF's "-:-")."""
    d = rec.get("dest")
    if d is None or d == "-:-":
        return ""
    return d if isinstance(d, str) else str(d)


def reached(vnet: V.VNet, mark: dict, *, origin: str | None = None, host: str | None = None,
            sni: str | None = None, port: int | None = None) -> list[dict]:
    """Origin-side records (requests and TLS handshakes) since mark matching all given fields."""
    out = []
    for r in vnet.origin_requests(mark):
        if origin is not None and r.get("origin") != origin:
            continue
        if host is not None and host.lower() not in str(r.get("host") or "").lower():
            continue
        if sni is not None and str(r.get("sni") or "").lower() != sni.lower():
            continue
        if port is not None and r.get("port") != port:
            continue
        out.append(r)
    return out


def dns_seen(vnet: V.VNet, mark: dict, suffix: str) -> list[dict]:
    """Queries the test DNS server received since mark for `suffix` or a name under it."""
    suffix = suffix.lower().rstrip(".")
    return [q for q in vnet.dns_queries(mark)
            if (q.get("name") or "").lower().rstrip(".") == suffix
            or (q.get("name") or "").lower().rstrip(".").endswith("." + suffix)]
