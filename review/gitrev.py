"""Read a file as it was at a git revision (`git show REV:./FILE`), for `amisec diff --git`."""
from __future__ import annotations

import os
import shutil
import subprocess

from amisec.runner import UsageError


def _git(args: list[str], cwd: str) -> subprocess.CompletedProcess[str]:
    git = shutil.which("git")
    if git is None:
        raise UsageError("--git needs the git program, and it is not on PATH")
    try:
        return subprocess.run([git, *args], cwd=cwd, capture_output=True, encoding="utf-8", errors="replace", timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise UsageError(f"git could not run: {err}") from None


def read_at_revision(revision: str, path: str) -> str:
    """The text of `path` at `revision` of the repository it is in; raises UsageError when there is none."""
    if revision.startswith("-"):
        raise UsageError(f"'{revision}' is not a git revision")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"{path}: no such directory {folder}")
    inside = _git(["rev-parse", "--is-inside-work-tree"], folder)
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        raise UsageError(f"{path} is not in a git repository (--git REV reads the file from git history)")
    commit = _git(["rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"], folder)
    if commit.returncode != 0:
        raise UsageError(f"unknown git revision '{revision}'")
    shown = _git(["show", f"{commit.stdout.strip()}:./{os.path.basename(path)}"], folder)
    if shown.returncode != 0:
        raise UsageError(f"{path} does not exist at revision {revision}")
    return shown.stdout
