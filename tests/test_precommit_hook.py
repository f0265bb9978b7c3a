"""The pre-commit hooks (.pre-commit-hooks.yaml), exercised with the real `pre-commit` tool.

pre-commit installs a hook repository from git, so the tests commit a copy of this project to a
temporary repository and point pre-commit at it; pre-commit then builds the hooks' environment
with pip (`language: python`), which needs the package index. That takes a while: `try-repo`
builds it in a throwaway store, the installed hooks once in a store the other tests share.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from amisec.compiler.fmt import format_text

ROOT = Path(__file__).resolve().parent.parent
# The example in canonical formatting, so that only amisec-check has something to say about it.
RIVERSIDE = format_text((ROOT / "deployments" / "riverside.ami").read_text(encoding="utf-8"), "riverside.ami")
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "amisec tests", "GIT_AUTHOR_EMAIL": "tests@amisec.invalid",
    "GIT_COMMITTER_NAME": "amisec tests", "GIT_COMMITTER_EMAIL": "tests@amisec.invalid",
}

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False)


def project_files() -> list[str]:
    """The project's files as git sees them (tracked, and new ones not ignored)."""
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    return [f for f in listed.split("\0") if f and (ROOT / f).is_file()]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("pre-commit-home")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))}
    return {**clean, **GIT_IDENTITY, "PRE_COMMIT_HOME": str(home), "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1"}


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> tuple[Path, str]:
    """A committed copy of this project: the repository pre-commit installs the hooks from."""
    repo = tmp_path_factory.mktemp("amisec-hooks")
    for name in project_files():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    for args in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-q", "--no-verify", "-m", "snapshot"]):
        assert run(args, repo, env).returncode == 0
    rev = run(["git", "rev-parse", "HEAD"], repo, env).stdout.strip()
    return repo, rev


def plans_repo(path: Path, env: dict[str, str]) -> Path:
    path.mkdir()
    assert run(["git", "init", "-q"], path, env).returncode == 0
    return path


def with_finding(text: str = RIVERSIDE) -> str:
    """Riverside with unsigned meter firmware: a finding the example does not have."""
    changed = text.replace("  firmware signed\n", "  firmware unsigned\n", 1)
    assert changed != text
    return changed


def pre_commit(*args: str) -> list[str]:
    return [sys.executable, "-m", "pre_commit", *args]


def configured(path: Path, env: dict[str, str], hook_repo: tuple[Path, str]) -> Path:
    """A repository whose .pre-commit-config.yaml uses both hooks, with the git hook installed."""
    repo, rev = hook_repo
    plans = plans_repo(path, env)
    (plans / ".pre-commit-config.yaml").write_text(
        f"repos:\n- repo: {repo}\n  rev: {rev}\n  hooks:\n  - id: amisec-check\n  - id: amisec-fmt\n", encoding="utf-8")
    assert run(pre_commit("install"), plans, env).returncode == 0
    return plans


def test_try_repo_passes_the_clean_file_and_fails_on_the_one_with_a_finding(tmp_path: Path, env: dict[str, str], hook_repo) -> None:
    repo, _ = hook_repo
    plans = plans_repo(tmp_path / "plans", env)
    (plans / "good.ami").write_text(RIVERSIDE, encoding="utf-8")
    (plans / "bad.ami").write_text(with_finding(), encoding="utf-8")
    run(["git", "add", "."], plans, env)

    done = run(pre_commit("try-repo", str(repo), "amisec-check", "--all-files"), plans, env)
    assert done.returncode == 1, done.stdout + done.stderr
    findings = [line for line in done.stdout.splitlines() if re.match(r"^\S+\.ami:\d+:\d+: ", line)]
    assert findings and all(line.startswith("bad.ami:") for line in findings)  # nothing about good.ami
    assert re.search(r"^bad\.ami:\d+:\d+: error AMI-FWR-\d{3} ", done.stdout, re.M)


def test_installed_hooks_block_a_commit_that_introduces_a_finding(tmp_path: Path, env: dict[str, str], hook_repo) -> None:
    plans = configured(tmp_path / "plans", env, hook_repo)
    plan = plans / "riverside.ami"
    plan.write_text(RIVERSIDE, encoding="utf-8")
    run(["git", "add", "."], plans, env)
    first = run(["git", "commit", "-m", "phase 2 plan"], plans, env)
    assert first.returncode == 0, first.stdout + first.stderr

    plan.write_text(with_finding(), encoding="utf-8")
    run(["git", "add", "riverside.ami"], plans, env)
    blocked = run(["git", "commit", "-m", "cheaper meters"], plans, env)
    assert blocked.returncode != 0
    said = blocked.stdout + blocked.stderr  # git shows what the hook printed on its standard error
    assert re.search(r"^riverside\.ami:\d+:\d+: error AMI-FWR-\d{3} ", said, re.M), said
    assert run(["git", "rev-list", "--count", "HEAD"], plans, env).stdout.strip() == "1"


def test_fmt_hook_rewrites_a_misformatted_file_and_stops_the_commit(tmp_path: Path, env: dict[str, str], hook_repo) -> None:
    plans = configured(tmp_path / "plans", env, hook_repo)
    messy = RIVERSIDE.replace("\ndevice ", "\ndevice   ", 1)
    assert messy != RIVERSIDE
    plan = plans / "plan.ami"
    plan.write_text(messy, encoding="utf-8")
    run(["git", "add", "."], plans, env)
    stopped = run(["git", "commit", "-m", "plan"], plans, env)
    assert stopped.returncode != 0 and "files were modified by this hook" in stopped.stdout + stopped.stderr
    assert plan.read_text(encoding="utf-8") == RIVERSIDE  # rewritten in canonical form
    run(["git", "add", "."], plans, env)
    assert run(["git", "commit", "-m", "plan"], plans, env).returncode == 0
