"""Evaluation fits the memory available: fewer processes, then packages handed over in groups,
with the same results as when memory is plentiful."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from amisec.compiler import compile_file, compile_text
from amisec.engine import embedded, get_engine, memory, shares
from amisec.policies.catalog import load_catalog

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMISEC_CACHE_DIR", str(tmp_path / "cache"))


def _engine(jobs: int, memory_bytes: int | None = None):
    return get_engine("embedded", modules=load_catalog().files, jobs=jobs, memory_bytes=memory_bytes)


# --- what the machine has left -----------------------------------------------------------------

def _files(tmp_path: Path, **texts: str) -> dict[str, str]:
    paths = {}
    for name, text in texts.items():
        (tmp_path / name).write_text(text, encoding="ascii")
        paths[name] = str(tmp_path / name)
    return paths


MEMINFO = "MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    8000000 kB\n"


def test_available_memory_is_the_kernels_estimate_without_a_container_limit(tmp_path: Path) -> None:
    f = _files(tmp_path, meminfo=MEMINFO, v2max="max\n", v2cur="100\n")
    assert memory.available_bytes(f["meminfo"], ((f["v2max"], f["v2cur"]),)) == 8_000_000 * 1024


def test_a_container_limit_below_the_machines_memory_decides(tmp_path: Path) -> None:
    f = _files(tmp_path, meminfo=MEMINFO, v1lim="2147483648\n", v1use="536870912\n")
    missing = str(tmp_path / "absent")
    got = memory.available_bytes(f["meminfo"], ((missing, missing), (f["v1lim"], f["v1use"])))
    assert got == 2147483648 - 536870912


def test_an_unlimited_cgroup_v1_and_a_machine_that_says_nothing(tmp_path: Path) -> None:
    f = _files(tmp_path, meminfo=MEMINFO, v1lim="9223372036854771712\n", v1use="5\n", empty="")
    assert memory.available_bytes(f["meminfo"], ((f["v1lim"], f["v1use"]),)) == 8_000_000 * 1024
    missing = str(tmp_path / "absent")
    assert memory.available_bytes(missing, ((missing, missing),)) is None
    assert memory.available_bytes(f["empty"], ()) is None


def test_the_budget_leaves_headroom() -> None:
    assert memory.budget(None) is None
    assert memory.budget(1000) == pytest.approx(1000 * memory.HEADROOM)


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs /proc")
def test_resident_memory_of_this_process_is_read() -> None:
    assert memory.resident_bytes() > 10 * 2**20
    assert memory.resident_bytes("/nonexistent") == 0


# --- planning ----------------------------------------------------------------------------------

NEEDS = {"a": frozenset({"x"}), "b": frozenset({"x", "y"}), "c": frozenset({"z"}), "d": frozenset({"w"})}
SIZES = {"x": 100.0, "y": 50.0, "z": 120.0, "w": 10.0}
KNOWN = shares.Costs({"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0})


def test_without_a_limit_every_process_gets_one_group() -> None:
    plan = shares.planned(list(NEEDS), KNOWN, 2, NEEDS, SIZES, None, 1.0, 10_000.0)
    assert len(plan) == 2 and all(len(share) == 1 for share in plan)
    assert sorted(p for share in plan for p in share[0]) == ["a", "b", "c", "d"]


def test_fewer_processes_when_their_inputs_do_not_fit_together() -> None:
    # one process holds x, y, z, w = 280 values; two hold more (x is in both) plus the child's copy
    plan = shares.planned(list(NEEDS), KNOWN, 2, NEEDS, SIZES, 300.0, 1.0, 50.0)
    assert plan == [[("a", "b", "c", "d")]]


def test_groups_in_one_process_when_even_one_does_not_fit() -> None:
    plan = shares.planned(list(NEEDS), KNOWN, 2, NEEDS, SIZES, 160.0, 1.0, 0.0)
    assert len(plan) == 1
    groups = plan[0]
    assert sorted(p for g in groups for p in g) == ["a", "b", "c", "d"]
    assert all(shares.share_values(g, NEEDS, SIZES) <= 160.0 for g in groups)
    assert groups == [("a", "b", "d"), ("c",)]  # first fit, order kept


def test_a_package_larger_than_the_budget_is_a_group_of_its_own() -> None:
    assert shares.grouped(["a", "b", "c"], NEEDS, SIZES, 20.0) == [("a",), ("b",), ("c",)]


# --- the engine --------------------------------------------------------------------------------

def test_a_small_plan_in_a_small_memory_is_evaluated_in_groups_with_the_same_results() -> None:
    doc = compile_file(str(ROOT / "deployments/riverside.ami"))
    plentiful = _engine(1).evaluate(doc)
    engine = _engine(1, memory_bytes=1)
    assert engine.evaluate(doc) == plentiful
    assert len(engine.plan) == 1 and len(engine.plan[0]) == len(embedded.rule_packages(load_catalog().files))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forking needs a POSIX system")
def test_a_large_plan_uses_fewer_processes_then_groups_as_memory_shrinks() -> None:
    from benchmarks.generate import generate

    doc = compile_text(generate(embedded.PARALLEL_FROM + 100), "synthetic.ami")
    roomy = _engine(2, memory_bytes=64 * 2**30)
    baseline = roomy.evaluate(doc)
    assert len(roomy.plan) == 2
    values = sum(shares.field_values(doc).values())
    one_process = int(values * memory.BYTES_PER_VALUE / memory.HEADROOM) + 1
    tight = _engine(2, memory_bytes=one_process)
    assert tight.evaluate(doc) == baseline
    assert tight.plan == [[tuple(embedded.rule_packages(load_catalog().files))]]
    tiny = _engine(2, memory_bytes=one_process // 4)
    assert tiny.evaluate(doc) == baseline
    assert len(tiny.plan) == 1 and len(tiny.plan[0]) > 1


def test_the_machines_memory_is_asked_when_none_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = []
    monkeypatch.setattr(memory, "available_bytes", lambda: asked.append(1) or None)
    _engine(1).evaluate(compile_file(str(ROOT / "deployments/riverside.ami")))
    assert asked


def test_values_are_estimated_from_elements_across_the_collection_not_the_first() -> None:
    # the first link carries every class, the rest one: the estimate follows the collection
    links = [{"carries": [f"c{k}" for k in range(19)]}] + [{"carries": ["c0"]} for _ in range(999)]
    estimated = shares.field_values({"links": links})["links", "carries"]
    counted = sum(2 + len(l["carries"]) for l in links)  # the key and list, then each class
    assert abs(estimated - counted) / counted < 0.2  # the first element alone: 7 times as many
