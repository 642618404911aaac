"""Fixtures for the package checks: the integration tests' virtual internet (tests/integration/
vnet.py) and the artifacts under test, named by scripts/check-package.sh."""

from __future__ import annotations

import glob
import os
import shutil
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import vnet as V  # noqa: E402

# awf takes a parent proxy from its own environment; none of the machine's may leak in.
for _name in list(os.environ):
    if _name.lower() in ("http_proxy", "https_proxy", "no_proxy", "all_proxy", "ftp_proxy"):
        del os.environ[_name]


def _need_env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        pytest.skip(f"{name} is not set: run scripts/check-package.sh DIST")
    return value


@pytest.fixture(scope="session")
def amd64_deb() -> str:
    dist = _need_env("AWF_DIST")
    debs = glob.glob(os.path.join(dist, "awf_*_amd64.deb"))
    assert len(debs) == 1, f"expected one awf_*_amd64.deb in {dist}, found {debs}"
    return debs[0]


@pytest.fixture(scope="session")
def rootfs_tarball() -> str:
    path = _need_env("AWF_ROOTFS_TARBALL")
    assert os.path.isfile(path), f"AWF_ROOTFS_TARBALL={path} is not a file"
    return path


@pytest.fixture(scope="session")
def vnet():
    """One virtual internet for the session; removed at the end even on failure."""
    if os.geteuid() != 0:
        pytest.skip("the package checks need root (network namespaces, dockerd)")
    missing = [t for t in ("ip", "curl", "openssl") if shutil.which(t, path=V.SAFE_PATH) is None]
    if missing:
        pytest.skip(f"missing tools: {', '.join(missing)}")
    v = V.VNet()
    v.up()
    try:
        yield v
    finally:
        v.down()
