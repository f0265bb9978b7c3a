"""The embedded engine shares a large input's packages out between forked processes: the same
results as one process, failures reported, work balanced."""
from __future__ import annotations

import os
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from amisec.cli import main
from amisec.compiler import compile_file, compile_text
from amisec.engine import EngineError, embedded, get_engine, shares
from amisec.forked import ChildFailed, Forked, can_fork
from amisec.policies.catalog import load_catalog

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="forking needs a POSIX system")


@dataclass(frozen=True)
class Module:
    path: str
    source: str


@pytest.fixture
def parallel_from_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """Share out even a small deployment."""
    monkeypatch.setattr(embedded, "PARALLEL_FROM", 1)


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("AMISEC_CACHE_DIR", str(folder))
    return folder


def _evaluate(doc: dict, jobs: int, extra_dirs: tuple[str, ...] = ()) -> tuple[dict, object]:
    engine = get_engine("embedded", modules=load_catalog(extra_dirs).files, jobs=jobs)
    return engine.evaluate(doc), engine


@pytest.mark.parametrize("path", sorted((ROOT / "deployments").glob("*.ami")), ids=lambda p: p.stem)
def test_shared_out_evaluation_equals_one_process(path: Path, parallel_from_one: None) -> None:
    doc = compile_file(str(path))
    alone, _ = _evaluate(doc, jobs=1)
    for jobs in (2, 3):
        together, _ = _evaluate(doc, jobs=jobs)
        assert together == alone
        assert list(together) == list(alone)  # families in the same order


def test_a_generated_deployment_above_the_threshold_is_shared_out_with_the_same_results() -> None:
    from benchmarks.generate import generate

    doc = compile_text(generate(embedded.PARALLEL_FROM + 100), "synthetic.ami")
    session_runs = []
    real_forked = embedded.Forked

    def counting(*args, **kwargs):
        session_runs.append(args[1])
        return real_forked(*args, **kwargs)

    alone, _ = _evaluate(doc, jobs=1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(embedded, "Forked", counting)
        together, _ = _evaluate(doc, jobs=2)
    assert session_runs, "no second process was started"
    assert together == alone


def test_custom_helper_modules_keep_their_fields_in_every_share(tmp_path: Path, parallel_from_one: None) -> None:
    # the field `redundancy` is named only by a helper package outside amisec.rules
    (tmp_path / "helpers.rego").write_text(
        "package acme.helpers\n\nimport rego.v1\n\nstandby(d) if d.redundancy >= 2\n", encoding="utf-8")
    rule = (ROOT / "tests/data/acme_rules/acme_network.rego").read_text(encoding="utf-8")
    rule = rule.replace("import data.amisec.lib\n", "import data.amisec.lib\nimport data.acme.helpers\n")
    rule = rule.replace("not _standby(d)", "not helpers.standby(d)")
    (tmp_path / "acme_network.rego").write_text(rule, encoding="utf-8")
    doc = compile_file(str(ROOT / "deployments/riverside.ami"))
    alone, _ = _evaluate(doc, jobs=1, extra_dirs=(str(tmp_path),))
    together, _ = _evaluate(doc, jobs=2, extra_dirs=(str(tmp_path),))
    assert together == alone
    assert alone["acme_network"]["collector_standby"]["subjects"]


def test_small_deployments_stay_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded, "Forked", lambda *a, **k: pytest.fail("forked for a small deployment"))
    _evaluate(compile_file(str(ROOT / "deployments/riverside.ami")), jobs=2)


def test_no_fork_while_other_threads_run(monkeypatch: pytest.MonkeyPatch, parallel_from_one: None) -> None:
    monkeypatch.setattr(embedded, "Forked", lambda *a, **k: pytest.fail("forked beside a thread"))
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert not can_fork()
        _evaluate(compile_file(str(ROOT / "deployments/riverside.ami")), jobs=2)
    finally:
        stop.set()
        thread.join()


def test_costs_are_remembered_to_balance_the_next_run(parallel_from_one: None, own_cache: Path) -> None:
    doc = compile_file(str(ROOT / "deployments/riverside.ami"))
    _evaluate(doc, jobs=2)
    saved = list(own_cache.glob("*.costs.json"))
    assert len(saved) == 1
    session = embedded._Session(load_catalog().files)
    fallback = {p: 1.0 for p in session.packages}
    measured = shares.costs(session.key, fallback)
    assert set(measured.seconds) == set(session.packages) and measured.seconds != fallback
    assert measured.per_value > 0


def test_unusable_saved_costs_fall_back_to_code_size(own_cache: Path) -> None:
    own_cache.mkdir(parents=True, exist_ok=True)
    fallback = {"a": 3.0, "b": 1.0}
    for text in ("not json", '{"a": 1}', '{"seconds": {"a": 1}, "per_value": 0}', '{"seconds": {"a": "x", "b": 2}, '
                 '"per_value": 0}', '{"seconds": {"a": 1, "b": 2}}', "[1, 2]"):
        (own_cache / "k.costs.json").write_text(text, encoding="utf-8")
        assert shares.costs("k", fallback) == shares.Costs(fallback)
    shares.record("k", shares.Costs({"a": 0.5, "b": 2.0}, 1e-6))
    assert shares.costs("k", fallback) == shares.Costs({"a": 0.5, "b": 2.0}, 1e-6)


def test_a_first_run_balances_by_the_shipped_profile_of_the_built_in_packages(own_cache: Path) -> None:
    # a fresh CI runner has no costs of its own: the release's measured ones stand in for lines
    session = embedded._Session(load_catalog().files)
    lines = {p: 1.0 for p in session.packages}
    first = shares.costs(session.key, lines)
    assert set(first.seconds) == set(session.packages), "refresh it: python -m benchmarks.run --sizes 10000 --save-costs"
    assert first.per_value > 0 and first.seconds != lines
    shares.record(session.key, shares.Costs(lines, 1e-6))  # then this machine's own
    assert shares.costs(session.key, lines) == shares.Costs(lines, 1e-6)
    assert shares.costs("other", {"a": 1.0}) == shares.Costs({"a": 1.0})  # other packages: lines


def test_a_profile_written_stands_in_for_the_packages_it_prices(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    measured = shares.Costs({"a": 2e-6, "b": 3e-5}, 2.5e-6)
    shares.write_profile(tmp_path / "p.json", measured)
    monkeypatch.setattr(shares, "SHIPPED", tmp_path / "p.json")
    assert shares.costs("k", {"a": 1.0, "b": 1.0}) == measured
    assert shares.costs("k", {"a": 1.0}) == shares.Costs({"a": 1.0})


def test_balanced_shares_hold_every_package_once_in_order() -> None:
    packages = ["p1", "p2", "p3", "p4", "p5"]
    known = shares.Costs({"p1": 5.0, "p2": 1.0, "p3": 4.0, "p4": 2.0, "p5": 2.0})
    for count in (2, 3):
        got = shares.balanced(packages, known, count)
        assert sorted(p for share in got for p in share) == packages
        assert all(list(share) == sorted(share) for share in got)
    assert sorted(sum(known.seconds[p] for p in share) for share in shares.balanced(packages, known, 2)) == [7.0, 7.0]
    assert shares.balanced(["only"], shares.Costs({"only": 1.0}), 3) == [("only",)]


def test_a_package_whose_fields_another_is_handed_joins_its_hand_over() -> None:
    needs = {"big": frozenset("abcd"), "inside": frozenset("ab"), "mostly": frozenset("abe"), "apart": frozenset("xy"),
             "huge": frozenset("stuvwxyz"), "half": frozenset("abq"), "more": frozenset("defg")}
    sizes = {f: 10.0 for f in "abcdefgqstuvwxyz"}

    def values(group: tuple[str, ...]) -> float:
        return shares.share_values(group, needs, sizes)

    # inside adds nothing to big or to mostly, and joins the smaller; mostly would take big past
    # the largest input (40); apart shares nothing
    assert shares.joined([("inside",), ("apart",), ("big",), ("mostly",)], values) == \
        [("big",), ("mostly", "inside"), ("apart",)]
    # under a larger input, half adds 10 of its 30 to big and joins it; more would add 30 of its 40
    assert shares.joined([("big",), ("huge",), ("half",), ("more",)], values) == [("huge",), ("big", "half"), ("more",)]
    assert shares.joined([("big",)], values) == [("big",)]


def test_the_hand_over_is_priced_into_the_split() -> None:
    # by seconds alone every split in two pairs is even; but a and b are each handed a huge input,
    # so putting both in one process makes it the slowest
    packages = ["a", "b", "c", "d"]
    known = shares.Costs({"a": 1.0, "b": 1.0, "c": 1.0, "d": 1.0}, per_value=1e-3)
    values = {"a": 3000.0, "b": 3000.0, "c": 10.0, "d": 10.0}
    assert shares.balanced(packages, known, 2) in ([("a", "b"), ("c", "d")], [("a", "c"), ("b", "d")],
                                                    [("a", "d"), ("b", "c")])
    assert shares.balanced(packages, known, 2, values) in ([("a", "c"), ("b", "d")], [("a", "d"), ("b", "c")])
    assert shares.balanced(packages, known, 3, values)[0] in (("a",), ("a", "c"), ("a", "d"), ("a", "c", "d"))


def test_field_values_count_what_a_hand_over_carries() -> None:
    doc = {"devices": [{"id": "m", "handles": ["a", "b"], "span": {"line": 1}}] * 10,
           "links": [{"id": "l"}] * 3, "index": {"devices_by_kind": {"meter": [0, 1, 2]}}, "schema_version": "1.0"}
    assert shares.field_values(doc) == {("devices", "id"): 20.0, ("devices", "handles"): 40.0,
                                        ("devices", "span"): 40.0, ("links", "id"): 6.0,
                                        ("index", "devices_by_kind"): 7.0}


def test_a_module_reaching_into_another_rule_package_gets_every_field() -> None:
    own = Module("a.rego", "package amisec.rules.a\nx := data.amisec.rules.a.y\n")
    other = Module("b.rego", "package amisec.rules.b\nx := data.amisec.rules.a.y\n")
    assert not embedded._reaches_other_rules(own)
    assert embedded._reaches_other_rules(other)


def test_packages_that_share_every_field_are_handed_over_once_per_process(parallel_from_one: None) -> None:
    # a module reaching into another rule package makes every package's input the whole input:
    # handing it over package by package would only repeat it
    modules = [Module("a.rego", "package amisec.rules.a\nimport rego.v1\nn := count([d.id | some d in input.devices])\n"),
               Module("b.rego", "package amisec.rules.b\nimport rego.v1\nn := data.amisec.rules.a.n + 1\n"),
               Module("c.rego", "package amisec.rules.c\nimport rego.v1\nn := count([l.id | some l in input.links])\n")]
    doc = compile_file(str(ROOT / "deployments/riverside.ami"))
    engine = get_engine("embedded", modules=modules, jobs=1)
    value = engine.evaluate(doc)
    assert value == {"a": {"n": len(doc["devices"])}, "b": {"n": len(doc["devices"]) + 1}, "c": {"n": len(doc["links"])}}
    assert engine.plan == [[("amisec.rules.a", "amisec.rules.b", "amisec.rules.c")]]
    alone = get_engine("embedded", modules=[modules[0], modules[2]], jobs=1)
    alone.evaluate(doc)
    assert alone.plan == [[("amisec.rules.a",), ("amisec.rules.c",)]]  # no field in common: each its own


def test_a_child_that_dies_is_reported_not_taken_for_an_empty_result() -> None:
    child = Forked(lambda: os.kill(os.getpid(), signal.SIGKILL), "evaluating amisec.rules.x")
    with pytest.raises(ChildFailed, match=r"evaluating amisec\.rules\.x died \(signal SIGKILL\)"):
        child.result()


def test_a_child_that_raises_is_reported_with_the_error() -> None:
    with pytest.raises(ChildFailed, match="ZeroDivisionError"):
        Forked(lambda: 1 / 0, "x").result()


def test_a_share_that_dies_fails_the_run_naming_its_packages(monkeypatch: pytest.MonkeyPatch,
                                                             parallel_from_one: None) -> None:
    def dies(self, packages, input_doc):
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(embedded._Session, "_evaluate_share", dies)
    with pytest.raises(EngineError, match=r"the process evaluating amisec\.rules\.\w+.* died") as err:
        _evaluate(compile_file(str(ROOT / "deployments/riverside.ami")), jobs=2)
    assert "--jobs 1" in str(err.value)


def test_a_shares_engine_error_arrives_whole(monkeypatch: pytest.MonkeyPatch, parallel_from_one: None) -> None:
    real = embedded._Session._evaluate

    def fails(self, packages, input_doc):
        if packages != self.packages and os.getpid() != parent:
            raise EngineError("evaluating amisec.rules.x failed", ("p.rego:3:1: boom",))
        return real(self, packages, input_doc)

    parent = os.getpid()
    monkeypatch.setattr(embedded._Session, "_evaluate", fails)
    with pytest.raises(EngineError) as err:
        _evaluate(compile_file(str(ROOT / "deployments/riverside.ami")), jobs=2)
    assert err.value.message == "evaluating amisec.rules.x failed" and err.value.problems == ("p.rego:3:1: boom",)


def test_a_cancelled_child_is_reaped() -> None:
    child = Forked(lambda: signal.pause(), "amisec.rules.x")
    pid = child.pid
    child.cancel()
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


@pytest.mark.parametrize("args, message", [
    (["--jobs", "0"], "0 is not in the range"),
    (["--jobs", "x"], "'x' is not a valid integer"),
])
def test_jobs_option_mistakes_are_usage_errors(args: list[str], message: str) -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["check", str(ROOT / "deployments/riverside.ami"), *args])
    assert result.exit_code == 2 and message in result.output


def test_jobs_one_and_more_give_the_same_report(tmp_path: Path, parallel_from_one: None) -> None:
    from click.testing import CliRunner

    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"r{jobs}.json"
        result = CliRunner().invoke(main, ["check", str(ROOT / "deployments/prairie_coop.ami"), "--jobs", jobs,
                                           "--timestamp", "2026-01-01T00:00:00Z", "-f", f"json:{out}"])
        assert result.exit_code in (0, 1), result.output
        outputs.append(out.read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1]
