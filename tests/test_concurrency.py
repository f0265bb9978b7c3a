"""Several `amisec` processes on the same files at once (pre-commit runs hooks in parallel) do not
interfere: they race on a fresh cache (compiled grammar, compiled policy bundle), on the same
report file and on the same plan being formatted in place, and all agree. A damaged cache entry
only costs time."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLANS = sorted(str(p) for p in (ROOT / "deployments").glob("*.ami"))
PROCESSES = 4


@pytest.fixture()
def env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("AMISEC_NO_CACHE", "AMISEC_DEBUG")}
    env.update(AMISEC_CACHE_DIR=str(tmp_path / "cache"), SOURCE_DATE_EPOCH="1780315200")
    return env


def together(args: list[str], env: dict[str, str], cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    """Start PROCESSES `amisec` commands at once and wait for all of them."""
    procs = [subprocess.Popen([sys.executable, "-m", "amisec.cli", *args], cwd=cwd, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(PROCESSES)]
    done = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        done.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return done


def assert_agree(runs: list[subprocess.CompletedProcess[str]]) -> str:
    first = runs[0]
    assert first.returncode == 1, first.stderr  # the example set has deliberate defects
    for run in runs:
        assert (run.returncode, run.stderr) == (first.returncode, ""), run.stderr
        assert run.stdout == first.stdout
    return first.stdout


def cache_files(env: dict[str, str]) -> list[str]:
    return sorted(p.name for p in Path(env["AMISEC_CACHE_DIR"]).iterdir())


def test_parallel_checks_on_a_cold_cache_agree_and_leave_a_clean_cache(tmp_path: Path, env: dict[str, str]) -> None:
    cold = assert_agree(together(["check", *PLANS, "-f", "json"], env, tmp_path))
    assert len(json.loads(cold)["deployments"]) == len(PLANS)
    names = cache_files(env)
    assert not [n for n in names if n.endswith(".tmp")], names
    assert len([n for n in names if n.startswith("grammar-")]) == 1 and len([n for n in names if n.endswith(".rbb")]) == 1
    warm = assert_agree(together(["check", *PLANS, "-f", "json"], env, tmp_path))
    assert warm == cold
    assert cache_files(env) == names


def test_a_damaged_cache_is_rebuilt(tmp_path: Path, env: dict[str, str]) -> None:
    expected = assert_agree(together(["check", *PLANS, "-f", "json"], env, tmp_path))
    for entry in Path(env["AMISEC_CACHE_DIR"]).iterdir():
        data = entry.read_bytes()
        entry.write_bytes(data[: len(data) // 2])  # a crash or a full disk in the middle of a write
    assert assert_agree(together(["check", *PLANS, "-f", "json"], env, tmp_path)) == expected


def test_parallel_checks_writing_the_same_report_file(tmp_path: Path, env: dict[str, str]) -> None:
    runs = together(["check", *PLANS, "-f", "json:out/report.json", "-f", "lines"], env, tmp_path)
    assert_agree(runs)
    report = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assert [d["file"] for d in report["deployments"]] == PLANS
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.json"]


def test_parallel_formatting_in_place(tmp_path: Path, env: dict[str, str]) -> None:
    plan = tmp_path / "plan.ami"
    text = (ROOT / "deployments" / "riverside.ami").read_text(encoding="utf-8")
    plan.write_text(text.replace("  ", "    ").replace(" : ", ":"), encoding="utf-8")
    runs = together(["fmt", "-w", str(plan)], env, tmp_path)
    assert all((r.returncode, r.stdout, r.stderr) == (0, "", "") for r in runs), [r.stderr for r in runs]
    formatted = subprocess.run([sys.executable, "-m", "amisec.cli", "fmt", str(plan)], env=env, text=True,
                               capture_output=True, check=True).stdout
    assert plan.read_text(encoding="utf-8") == formatted
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["plan.ami"]
