"""`awf completion zsh|fish` in the real shells: the generated scripts parse, and a Tab after a
flag, a partial flag, a closed set or `--` offers what awf accepts there. Each shell's tests skip
when it is not installed (scripts/install-deps.sh installs both)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

import vnet as V

AWF = os.environ.get("AWF_BIN", V.DEFAULT_AWF_BIN)

pytestmark = pytest.mark.skipif(not os.access(AWF, os.X_OK), reason=f"no awf binary at {AWF}")
needs_zsh = pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
needs_fish = pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")

# Types WORDS and a Tab into an interactive zsh on a pseudo-terminal (zsh's own zpty) with the
# completion system loaded and the script sourced, then prints what the terminal showed.
ZSH_DRIVER = r"""
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PS1='%% '; autoload -U compinit; compinit -u -D; source ${(q)1}; print READY"
local out= chunk
for i in {1..100}; do
  sleep 0.1; while zpty -r -t z chunk; do out+=$chunk; done
  [[ $out == *READY*READY* ]] && break
done
out=
zpty -w -n z "$2"$'\t'
for i in {1..20}; do sleep 0.1; while zpty -r -t z chunk; do out+=$chunk; done; done
print -r -- "$out"
zpty -d z
"""


def _script(tmp_path: Path, shell: str) -> Path:
    out = subprocess.run([AWF, "completion", shell], capture_output=True, text=True, check=True)
    path = tmp_path / f"awf.{shell}"
    path.write_text(out.stdout)
    return path


def _zsh_tab(script: Path, words: str) -> str:
    r = subprocess.run(["zsh", "-f", "-c", ZSH_DRIVER, "driver", str(script), words],
                       capture_output=True, text=True, timeout=60)
    return r.stdout


def _fish_complete(script: Path, words: str) -> list[str]:
    r = subprocess.run(["fish", "--no-config", "-c", f"source {script}; complete -C '{words}'"],
                       capture_output=True, text=True, check=True, timeout=60)
    return [line.split("\t")[0] for line in r.stdout.splitlines()]


@needs_zsh
def test_zsh_script_parses(tmp_path):
    script = _script(tmp_path, "zsh")
    assert script.read_text().startswith("#compdef awf\n")
    subprocess.run(["zsh", "-n", str(script)], check=True)


@needs_zsh
@pytest.mark.parametrize("words,want", [
    ("awf --allow-domains-f", "awf --allow-domains-file"),
    ("awf --ssl-bu", "awf --ssl-bump"),
    ("awf --log-level ", "debug  error  info   warn"),
    ("awf --container-runtime g", "awf --container-runtime gvisor"),
    ("awf -d x.test -- mkfif", "awf -d x.test -- mkfifo"),
    ("awf completio", "awf completion"),
], ids=["flag", "flag-no-value", "closed-set", "closed-set-prefix", "command", "subcommand"])
def test_zsh_tab_completes(tmp_path, words, want):
    shown = _zsh_tab(_script(tmp_path, "zsh"), words)
    assert want in shown, repr(shown)


@needs_fish
def test_fish_script_parses(tmp_path):
    subprocess.run(["fish", "--no-config", "-n", str(_script(tmp_path, "fish"))], check=True)


@needs_fish
@pytest.mark.parametrize("words,want", [
    ("awf --allow-dom", ["--allow-domains", "--allow-domains-file"]),
    ("awf --log-level ", ["debug", "error", "info", "warn"]),
    ("awf completio", ["completion"]),
    ("awf -d x.test -- mkfif", ["mkfifo"]),
    ("awf -- --allow-dom", []),  # after `--` the words belong to the command, not to awf
], ids=["flags", "closed-set", "subcommand", "command", "after-double-dash"])
def test_fish_tab_completes(tmp_path, words, want):
    got = _fish_complete(_script(tmp_path, "fish"), words)
    assert got == want, got
