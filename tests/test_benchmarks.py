"""The benchmark runner measures what it says: every stage of a run, and with `--opa` OPA's
evaluation of the same input beside the embedded engine's (here with a stand-in `opa`)."""
from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from amisec.engine.shares import Costs
from benchmarks.generate import generate
from benchmarks.machine import PeakMemory, machine_reading, reading_line
from benchmarks.run import _one_run, median_costs
from benchmarks.stages import AMISEC_SIDE, PARTS_OF, STAGES, measure
from benchmarks.verdicts import parts_table, ratios, table, targets

FAKE = Path(__file__).resolve().parent / "opa_fake_cli.py"


def _cells(table: str) -> dict[str, str]:
    """The first row of a table as printed, column by column."""
    header, _, line = table.splitlines()[:3]
    return dict(zip([h.strip() for h in header.strip("|").split("|")], [c.strip() for c in line.strip("|").split("|")]))


@pytest.fixture
def fake_opa(tmp_path: Path) -> str:
    binary = tmp_path / "opa"
    binary.write_text(f"#!{sys.executable}\nimport runpy, sys\nsys.path.insert(0, {str(FAKE.parent)!r})\n"
                      f"runpy.run_path({str(FAKE)!r}, run_name='__main__')\n")
    binary.chmod(binary.stat().st_mode | stat.S_IXUSR)
    return str(binary)


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("bench") / "plan.ami"
    path.write_text(generate(300), encoding="utf-8")
    return str(path)


def test_a_run_times_every_stage_and_compares_with_opa(plan: str, fake_opa: str) -> None:
    times = measure(plan, jobs=1, opa=fake_opa)
    assert all(times[s] >= 0 for s in STAGES) and times["evaluate"] > 0
    # a stage timed in parts is their sum: compile is resolving and emitting, render joining and writing
    assert times["compile"] == pytest.approx(times["resolve"] + times["emit"])
    assert times["render"] == pytest.approx(times["results"] + times["write"])
    assert all(times[part] > 0 for parts in PARTS_OF.values() for part in parts)
    assert times["elements"] == pytest.approx(300, abs=40)
    assert times["opa_evaluate"] > 0 and times["opa_wall"] >= times["opa_evaluate"]
    assert times["opa_same"] == 1.0
    assert _cells(table([times]))["same results"] == "yes"


def test_a_different_opa_result_is_reported(plan: str, fake_opa: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # OPA's raw output judged as the embedded engine's: one rule's violation dropped shows as NO
    from amisec.engine import opa_cli

    real = opa_cli.read_eval_output

    def one_violation_fewer(*args):
        value = real(*args)
        for family in value.values():
            for rule in family.values():
                if isinstance(rule, dict) and rule.get("violations"):
                    rule["violations"] = rule["violations"][1:]
                    return value
        raise AssertionError("the generated plan has no failing rule")

    monkeypatch.setattr(opa_cli, "read_eval_output", one_violation_fewer)
    times = measure(plan, jobs=1, opa=fake_opa)
    assert times["opa_same"] == 0.0
    assert _cells(table([times]))["same results"] == "NO"


def test_a_table_without_opa_figures_has_no_opa_columns(plan: str) -> None:
    assert "opa" not in table([measure(plan, jobs=1)])


def test_a_run_in_its_own_process_has_its_wall_time_and_amisec_side(plan: str, fake_opa: str) -> None:
    row = _one_run(plan, 1, None, fake_opa)
    # the process's wall time, OPA's part taken out, holds every stage and the start-up besides
    assert sum(row[s] for s in STAGES) < row["wall"]
    cells = _cells(table([row]))
    assert float(cells["wall s"]) == pytest.approx(row["wall"], abs=0.01)
    assert float(cells["amisec side s"]) == pytest.approx(sum(row[s] for s in AMISEC_SIDE), abs=0.01)
    assert set(AMISEC_SIDE) == set(STAGES) - {"handover", "evaluate"}


def test_the_parts_table_and_ratios_name_each_part_under_its_stage() -> None:
    small = {"elements": 10, **{p: 0.1 for parts in PARTS_OF.values() for p in parts}, "write": 0.001}
    large = {**{k: v * 11 for k, v in small.items()}, "resolve": 1.3}
    assert _cells(parts_table([small, large])) == {
        "elements": "10", "compile: resolve": "0.10", "compile: emit": "0.10", "render: results": "0.10", "render: write": "0.00"}
    # a part too short to divide (1 ms) is left out rather than shown as a ratio of noise
    assert ratios(small, large, ("resolve", "emit", "write")) == "resolve 13.0, emit 11.0"


def test_each_target_the_sizes_can_judge_is_judged() -> None:
    stages = {p: 0.1 for parts in PARTS_OF.values() for p in parts}
    small = {"elements": 10_335, **stages, **{s: 0.1 for s in STAGES}, "wall": 2.3, "peak_mb": 144}
    large = {**{k: v * 10 for k, v in small.items()}, "parse": 1.3, "wall": 31.0, "peak_mb": 2100,
             "opa_evaluate": 0.2}
    assert targets({10_000: small, 100_000: large}) == [
        "10,000 elements end to end ≤ 5 s: 2.30 s, met",
        "100,000 elements end to end ≤ 30 s: 31.00 s, MISSED",
        "100,000 elements, amisec side ≤ 15 s: 5.30 s, met",  # read, parse, compile, validate, render
        "100,000 elements, peak memory ≤ 2,048 MB: 2,100 MB, MISSED",
        "t(100,000) / t(10,000) of each stage (the most: parse) ≤ 12×: 13.0×, MISSED",
        "100,000 elements, evaluation as a multiple of OPA's ≤ 3×: 5.0×, MISSED",
    ]
    # a size the targets do not name is judged on nothing but OPA's figure, when it has one
    assert targets({3_000: small}) == []


def test_saved_costs_are_the_median_of_the_runs() -> None:
    runs = [Costs({"a": 1.0, "b": 9.0}, 3e-6), Costs({"a": 5.0, "b": 1.0}, 1e-6), Costs({"a": 2.0, "b": 2.0}, 2e-6)]
    assert median_costs(runs) == Costs({"a": 2.0, "b": 2.0}, 2e-6)


HOLDER = """
import os, sys, time
held = bytearray(200 * 2**20)
held[::4096] = b"x" * len(held[::4096])  # every page resident
if os.fork() == 0:  # a child sharing every page with its parent, and holding 100 MB of its own
    own = bytearray(100 * 2**20)
    own[::4096] = b"x" * len(own[::4096])
    time.sleep(1.5)
    os._exit(0)
time.sleep(1.5)
os.wait()
"""


def test_the_peak_counts_a_forked_childs_shared_pages_once() -> None:
    import subprocess

    sampler = PeakMemory()
    subprocess.run([sys.executable, "-c", HOLDER], check=True)
    peak_mb = sampler.stop() / 2**20
    # 200 shared + 100 the child's own (+ two interpreters); the resident sizes added say 500
    assert 300 <= peak_mb < 400


def test_the_machine_reading_beside_the_figures_says_how_fast_the_machine_was() -> None:
    assert 0.01 < machine_reading() < 60
    line = reading_line(1.234, 2.5)
    assert "1.23 s before the runs and 2.50 s after" in line and "1.7 s" in line
