"""Credential stores (issue 14, findings 4 and 8): every store of the one list
(src/sandbox/credential_list.h) reads as empty in the sandbox, in the HOME view and under any
-v bind that shows the real HOME. Each test has a control: a sibling file in the same
directory reads normally, so the probe does reach the directory."""

from __future__ import annotations

import os
import shlex

import pytest

import vnet as V
from home_user import home_user

# Stores the review found readable before (finding 4) and the common CLIs' ones.
STORES = [
    ".config/github-copilot/apps.json", ".config/github-copilot/hosts.json",
    ".config/configstore/firebase-tools.json", ".config/stripe/config.toml",
    ".config/hcloud/cli.toml", ".local/share/com.vercel.cli/auth.json", ".copilot/config.json",
    ".config/pip/pip.conf", ".config/gh/hosts.yml", ".config/gcloud/credentials.db",
    ".config/hub", ".config/helm/repositories.yaml", ".cache/huggingface/token",
]
# Outside the tool directories: absent from the HOME view, masked under a bind of HOME.
TOP_LEVEL = [".ssh/id_rsa", ".netrc", ".pypirc", ".gem/credentials",
             ".terraform.d/credentials.tfrc.json", ".git-credentials"]


def _files(nonce: str) -> dict[str, str]:
    files = {rel: f"secret-{nonce}-{i}" for i, rel in enumerate(STORES + TOP_LEVEL)}
    files[".config/op/config"] = f"secret-{nonce}-op"
    # Controls: siblings in the same directories.
    files[".config/github-copilot/versions.json"] = "control-copilot"
    files[".copilot/settings.json"] = "control-dotcopilot"
    files[".ssh/known_hosts"] = "control-ssh"
    return files


def _probe(base: str, rels: list[str]) -> str:
    lines = [f"for f in {' '.join(rels)}; do printf '%s=' $f; cat {base}/$f 2>&1; echo; done"]
    lines.append(f"echo op=$(ls -A {base}/.config/op 2>&1 | wc -l)")
    lines.append(f"echo w=$(echo x 2>/dev/null >> {base}/.config/pip/pip.conf && echo yes)")
    return "; ".join(lines)


@pytest.fixture
def user(nonce):
    with home_user(nonce, _files(nonce)) as u:
        yield u


def test_credential_stores_in_home_view_read_empty(awf, user, nonce):
    r = awf(["-d", "allowed.test", "--user", user["name"]],
            ["bash", "-c", _probe("$HOME", STORES) +
             "; cat $HOME/.config/github-copilot/versions.json $HOME/.copilot/settings.json"])
    assert r.rc == 0, r.describe()
    assert "control-copilot" in r.stdout and "control-dotcopilot" in r.stdout, r.describe()
    assert f"secret-{nonce}" not in r.stdout, r.describe()
    for rel in STORES:
        assert f"{rel}=\n" in r.stdout, rel + r.describe()
    assert "op=0" in r.stdout and "w=\n" in r.stdout, r.describe()


@pytest.mark.parametrize("bind", ["home", "root"])
def test_credential_stores_masked_under_binds(awf, user, nonce, bind):
    home = user["home"]
    args, base = ([f"-v", f"{home}:/data:ro"], "/data") if bind == "home" else \
        (["-v", "/:/host:ro"], f"/host{home}")
    # The user's own HOME, as when they run `awf -v $HOME:/data`.
    r = awf(["-d", "allowed.test", "--user", user["name"], *args],
            ["bash", "-c", _probe(base, STORES + TOP_LEVEL) + f"; cat {base}/.ssh/known_hosts"])
    assert r.rc == 0, r.describe()
    assert "control-ssh" in r.stdout, r.describe()
    assert f"secret-{nonce}" not in r.stdout, r.describe()
    for rel in STORES + TOP_LEVEL:
        assert f"{rel}=\n" in r.stdout, rel + r.describe()
    assert "op=0" in r.stdout, r.describe()


# ----------------------------------------------------------------------------------- -v mounts
def test_mount_through_a_symlink_in_tmp_is_refused(awf, user, vnet, nonce):
    """One run plants /tmp/<name> -> ~/.ssh; the next one's `-v /tmp/<name>:/data` must not
    show the keys."""
    link = f"/tmp/awf-planted-{nonce}"
    os.symlink(f"{user['home']}/.ssh", link)
    try:
        # Control: the link leads to the key.
        assert open(f"{link}/id_rsa").read().startswith("secret-")
        r = awf(["-d", "allowed.test", "-v", f"{link}:/data:ro"], ["cat", "/data/id_rsa"])
        assert r.rc != 0, r.describe()
        assert f"-v/--mount '{link}:/data:ro'" in r.stderr, r.describe()
        assert "symbolic link" in r.stderr and f"secret-{nonce}" not in r.stdout, r.describe()
        # The same through a link deeper in the path.
        r = awf(["-d", "allowed.test", "-v", f"{link}/.:/data:ro"], ["true"])
        assert r.rc != 0 and "symbolic link" in r.stderr, r.describe()
    finally:
        os.unlink(link)


# Runs argv[1:] with mount_setattr refused (EPERM), as Docker 20.10's default seccomp profile
# and kernels before 5.12 (ENOSYS) do. A classic BPF filter through prctl: root needs no
# no_new_privs for it.
DENY_MOUNT_SETATTR = r'''
import ctypes, os, struct, sys
NR_MOUNT_SETATTR, EPERM = 442, 1
program = b"".join(struct.pack("HBBI", *insn) for insn in [
    (0x20, 0, 0, 0),                          # ld  [nr]
    (0x15, 0, 1, NR_MOUNT_SETATTR),           # jeq mount_setattr
    (0x06, 0, 0, 0x00050000 | EPERM),         # ret ERRNO(EPERM)
    (0x06, 0, 0, 0x7fff0000),                 # ret ALLOW
])
buffer = ctypes.create_string_buffer(program)
class Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]
fprog = Fprog(len(program) // 8, ctypes.addressof(buffer))
libc = ctypes.CDLL(None, use_errno=True)
if libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
    sys.exit(f"seccomp: errno {ctypes.get_errno()}")
os.execvp(sys.argv[1], sys.argv[1:])
'''


def test_read_only_mount_is_read_only_below_submounts(awf, vnet, nonce):
    top = os.path.join(vnet.scratch_dir, f"ro-{nonce}")
    os.makedirs(f"{top}/sub")
    os.chmod(top, 0o777)
    # awf runs in a mount namespace of its own where `sub` is a tmpfs (the test leaves the
    # host's mount table alone).
    script = (f"mount -t tmpfs -o mode=0777 none {shlex.quote(top)}/sub && exec \"$@\"")
    probe = ("for f in /data/top-file /data/sub/file; do "
             "echo x > $f 2>/dev/null && echo wrote:$f || echo refused:$f; done")
    # Control: the same without :ro writes both.
    r = awf(["-d", "allowed.test", "-v", f"{top}:/data"], ["bash", "-c", probe],
            prefix=["unshare", "-m", "--propagation", "private", "bash", "-c", script, "mnt"])
    assert "wrote:/data/top-file" in r.stdout and "wrote:/data/sub/file" in r.stdout, r.describe()
    r = awf(["-d", "allowed.test", "-v", f"{top}:/data:ro"], ["bash", "-c", probe],
            prefix=["unshare", "-m", "--propagation", "private", "bash", "-c", script, "mnt"])
    assert r.rc == 0, r.describe()
    assert "refused:/data/top-file" in r.stdout and "refused:/data/sub/file" in r.stdout, \
        r.describe()
    # Where mount_setattr is refused (a kernel before 5.12, a container's seccomp profile that
    # does not know it): awf remounts each mount of the tree instead, never only the top.
    deny = os.path.join(vnet.scratch_dir, f"deny-mount-setattr-{nonce}.py")
    with open(deny, "w") as f:
        f.write(DENY_MOUNT_SETATTR)
    r = awf(["-d", "allowed.test", "-v", f"{top}:/data:ro"], ["bash", "-c", probe],
            prefix=["unshare", "-m", "--propagation", "private", "bash", "-c", script, "mnt",
                    V.PY, deny])
    assert r.rc == 0, r.describe()
    assert "refused:/data/top-file" in r.stdout and "refused:/data/sub/file" in r.stdout, \
        r.describe()
