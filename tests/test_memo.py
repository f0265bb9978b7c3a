"""Derived values kept on disk: built once, rebuilt when what they derive from changes, never
trusted when damaged, and never kept for a build that failed."""
from __future__ import annotations

from pathlib import Path

import pytest

from amisec.cache import memo
from amisec.engine import PolicyError
from amisec.policies.catalog import load_catalog
from amisec.standards.catalog import load_catalogs


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("AMISEC_CACHE_DIR", str(folder))
    monkeypatch.delenv("AMISEC_NO_CACHE", raising=False)
    return folder


def _counting(value: object) -> tuple[list[int], object]:
    calls: list[int] = []

    def build() -> object:
        calls.append(1)
        return value

    return calls, build


def test_built_once_then_loaded() -> None:
    calls, build = _counting({"a": [1, 2]})
    assert memo("t", ["x"], build) == {"a": [1, 2]}
    assert memo("t", ["x"], build) == {"a": [1, 2]}
    assert len(calls) == 1


def test_other_inputs_build_afresh() -> None:
    calls, build = _counting(1)
    memo("t", ["x"], build)
    memo("t", ["y"], build)
    memo("t", ["x", ""], build)  # lengths are part of the key: ["x", ""] is not ["x"]
    memo("u", ["x"], build)
    assert len(calls) == 4


def test_a_damaged_entry_is_rebuilt(own_cache: Path) -> None:
    calls, build = _counting(7)
    memo("t", ["x"], build)
    for entry in own_cache.glob("t-*.bin"):
        entry.write_bytes(b"not a pickle")
    assert memo("t", ["x"], build) == 7
    assert len(calls) == 2


def test_a_failed_build_is_not_kept() -> None:
    def fails() -> object:
        raise ValueError("broken")

    for _ in range(2):
        with pytest.raises(ValueError):
            memo("t", ["x"], fails)


def test_without_a_cache_every_call_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AMISEC_NO_CACHE", "1")
    calls, build = _counting(1)
    memo("t", ["x"], build)
    memo("t", ["x"], build)
    assert len(calls) == 2


def test_catalog_from_the_cache_equals_a_fresh_one(monkeypatch: pytest.MonkeyPatch) -> None:
    first = load_catalog()
    second = load_catalog()
    monkeypatch.setenv("AMISEC_NO_CACHE", "1")
    assert first.rules == second.rules == load_catalog().rules


def test_a_broken_custom_policy_is_reported_on_every_run(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.rego").write_text(
        "package amisec.rules.bad\n\nimport rego.v1\n\n# METADATA\n# title: no custom block\nr := {}\n",
        encoding="utf-8")
    for _ in range(2):
        with pytest.raises(PolicyError):
            load_catalog([str(rules)])


def test_standards_from_the_cache_equal_fresh_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    from amisec.standards import catalog

    cached = load_catalogs()
    catalog._catalogs.cache_clear()
    monkeypatch.setenv("AMISEC_NO_CACHE", "1")
    try:
        assert load_catalogs() == cached
    finally:
        catalog._catalogs.cache_clear()
