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

VALUES = {"a": 100.0, "b": 150.0, "c": 120.0, "d": 10.0}  # each package's own input
KNOWN = shares.Costs({"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0})


def test_without_a_limit_every_process_hands_its_packages_over_one_by_one() -> None:
    plan = shares.planned(list(VALUES), KNOWN, 2, VALUES, None, 1.0, 10_000.0)
    assert len(plan) == 2
    assert all(len(group) == 1 for share in plan for group in share)
    assert sorted(group[0] for share in plan for group in share) == ["a", "b", "c", "d"]


def test_fewer_processes_when_their_largest_inputs_do_not_fit_together() -> None:
    # two processes hold their largest packages' inputs side by side (at least 150 + 100) plus the
    # child's copy of the document; one holds only the largest, b's 150
    assert len(shares.planned(list(VALUES), KNOWN, 2, VALUES, 400.0, 1.0, 50.0)) == 2
    plan = shares.planned(list(VALUES), KNOWN, 2, VALUES, 290.0, 1.0, 50.0)
    assert plan == [[("a",), ("b",), ("c",), ("d",)]]


def test_one_process_one_package_at_a_time_when_nothing_fits() -> None:
    # the least a plan can hold: it still completes, as long as each package's input fits
    assert shares.planned(list(VALUES), KNOWN, 4, VALUES, 10.0, 1.0, 0.0) == [[("a",), ("b",), ("c",), ("d",)]]


# --- the engine --------------------------------------------------------------------------------

def test_a_small_plan_in_a_small_memory_is_evaluated_in_groups_with_the_same_results() -> None:
    doc = compile_file(str(ROOT / "deployments/riverside.ami"))
    plentiful = _engine(1).evaluate(doc)
    engine = _engine(1, memory_bytes=1)
    assert engine.evaluate(doc) == plentiful
    assert len(engine.plan) == 1
    assert sorted(p for group in engine.plan[0] for p in group) == sorted(embedded.rule_packages(load_catalog().files))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forking needs a POSIX system")
def test_a_large_plan_uses_fewer_processes_as_memory_shrinks() -> None:
    from benchmarks.generate import generate

    doc = compile_text(generate(embedded.PARALLEL_FROM + 100), "synthetic.ami")
    packages = embedded.rule_packages(load_catalog().files)
    session = embedded._Session(load_catalog().files)
    sizes = shares.field_values(doc)
    needs = session.needs(sizes)
    largest = max(shares.share_values((p,), needs, sizes) for p in packages)

    def every_package_once_none_larger(plan: list[list[tuple[str, ...]]]) -> bool:
        groups = [g for share in plan for g in share]
        return (sorted(p for g in groups for p in g) == sorted(packages)
                and max(shares.share_values(g, needs, sizes) for g in groups) == largest)

    roomy = _engine(2, memory_bytes=64 * 2**30)
    baseline = roomy.evaluate(doc)
    assert len(roomy.plan) == 2 and every_package_once_none_larger(roomy.plan)
    one_process = int(largest * memory.BYTES_PER_VALUE / memory.HEADROOM) + 1  # not two side by side
    tight = _engine(2, memory_bytes=one_process)
    assert tight.evaluate(doc) == baseline
    assert len(tight.plan) == 1 and every_package_once_none_larger(tight.plan)


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
