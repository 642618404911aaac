"""A throwaway user whose HOME holds given files (tool directories, credential stores), for the
boundary tests: created with useradd, removed afterwards."""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil

import pytest

import vnet as V


@contextlib.contextmanager
def home_user(nonce: str, files: dict[str, str]):
    """Yields {"name", "home", "uid", "gid"}; `files` maps HOME-relative paths to contents."""
    if shutil.which("useradd", path=V.SAFE_PATH) is None:
        pytest.skip("useradd missing")
    name = f"awfhu{nonce[:8]}"
    home = f"/home/{name}"
    V.run(["useradd", "-M", "-U", "-d", home, "-s", "/bin/sh", name])
    try:
        pw = pwd.getpwnam(name)
        os.makedirs(home)
        for rel, text in files.items():
            path = os.path.join(home, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        for root, dirs, names in os.walk(home):
            for n in dirs + names:
                os.lchown(os.path.join(root, n), pw.pw_uid, pw.pw_gid)
        os.chown(home, pw.pw_uid, pw.pw_gid)
        os.chmod(home, 0o755)
        yield {"name": name, "home": home, "uid": pw.pw_uid, "gid": pw.pw_gid}
    finally:
        V.run(["userdel", name], check=False)
        V.run(["groupdel", name], check=False)
        shutil.rmtree(home, ignore_errors=True)
