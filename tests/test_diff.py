"""The plan comparison behind `amisec diff`: rules, controls, elements and waivers, on two
revisions of the riverside plan (tests/data/riverside_2_4.ami and riverside_2_5.ami)."""
from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest

from amisec.engine import get_engine
from amisec.policies.catalog import load_catalog
from amisec.review.diff import PlanDiff, diff_plans
from amisec.review.diff_render import DIFF_FORMATS
from amisec.review.snapshot import Checker, make_checker

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
TODAY = date(2026, 1, 15)  # before every waiver of the test plans expires


@pytest.fixture(scope="module")
def checker() -> Checker:
    catalog = load_catalog()
    return make_checker(catalog, get_engine("embedded", modules=catalog.files), today=TODAY)


@pytest.fixture(scope="module")
def revisions(checker: Checker) -> PlanDiff:
    return diff_plans(checker.check_file(str(DATA / "riverside_2_4.ami")), checker.check_file(str(DATA / "riverside_2_5.ami")))


def directions(diff: PlanDiff) -> dict[str, list[str]]:
    return {d: [c.rule.id for c in diff.by_direction(d)] for d in ("worse", "better", "changed")}


def test_rules_that_got_worse_and_better(revisions: PlanDiff) -> None:
    assert directions(revisions) == {
        "worse": ["AMI-AVL-002", "AMI-AVL-003", "AMI-DIA-001", "AMI-DIA-002", "AMI-DIA-003"],
        "better": ["AMI-ACC-001"],
        "changed": [],
    }
    assert revisions.still_failing() == ("AMI-CNF-003", "AMI-CNF-005")


def test_findings_say_how_they_appeared_or_went(revisions: PlanDiff) -> None:
    by_id = {c.rule.id: c for c in revisions.rules}
    dia3 = by_id["AMI-DIA-003"]
    assert [(f.finding.subject.id, f.how) for f in dia3.introduced] == [("optical", "new element")]
    assert [(f.finding.subject.id, f.how) for f in dia3.resolved] == [("mgmt", "fixed")]
    assert [(f.finding.subject.id, f.how) for f in by_id["AMI-AVL-002"].introduced] == [("head_end", "new")]
    assert [(f.finding.subject.id, f.how) for f in by_id["AMI-AVL-003"].waived] == [("head_end", "new, waived until 2027-03-31")]
    assert by_id["AMI-AVL-003"].introduced == ()
    assert [(f.finding.subject.id, f.how) for f in by_id["AMI-ACC-001"].resolved] == [("nms", "fixed, was waived")]


def test_new_failures_decide_the_exit_code(revisions: PlanDiff) -> None:
    new = [(r.rule.id, f.finding.subject.id) for r, f in revisions.new_failures()]
    assert new == [("AMI-AVL-002", "head_end"), ("AMI-DIA-001", "optical"), ("AMI-DIA-002", "optical"), ("AMI-DIA-003", "optical")]
    assert revisions.exit_code() == 1
    assert [r.rule.id for r, _ in revisions.new_failures("high")] == ["AMI-AVL-002", "AMI-DIA-001", "AMI-DIA-002"]
    assert revisions.exit_code("critical") == 0


def test_elements_added_and_removed_with_their_results(revisions: PlanDiff) -> None:
    assert [(e.kind, e.id, e.status, e.failing) for e in revisions.added] == [
        ("device", "field_tools", "pass", ()),
        ("link", "optical", "fail", ("AMI-DIA-001", "AMI-DIA-002", "AMI-DIA-003")),
    ]
    assert [(e.kind, e.id, e.status) for e in revisions.removed] == [("device", "gas_modules", "pass"), ("link", "gas_rf", "pass")]


def test_waivers_added_and_gone_stale(revisions: PlanDiff) -> None:
    assert [(w.kind, w.waiver.rule, w.waiver.on) for w in revisions.waivers] == [
        ("added", "AMI-AVL-003", "head_end"),
        ("stale", "AMI-ACC-001", "nms"),
    ]


def test_controls_follow_their_rules(revisions: PlanDiff) -> None:
    worse = {(c.control.id, c.old, c.new) for c in revisions.controls if c.direction == "worse"}
    assert ("SG.SC-8", "pass", "fail") in worse  # AMI-DIA-001 maps to it
    better = [c for c in revisions.controls if c.direction == "better"]
    assert better and all(c.rules == ("AMI-ACC-001",) and c.old == "waived" and c.new == "pass" for c in better)


def test_an_expired_waiver_is_a_change_and_a_new_failure(checker: Checker, tmp_path: Path) -> None:
    plan = DATA / "riverside_2_5.ami"
    later = make_checker(checker.catalog, checker.engine, today=date(2027, 4, 1))
    diff = diff_plans(checker.check_file(str(plan)), later.check_file(str(plan)))
    assert [(w.kind, w.waiver.rule) for w in diff.waivers] == [("expired", "AMI-AVL-003")]
    assert [(r.rule.id, f.finding.subject.id, f.how) for r, f in diff.new_failures()] == [("AMI-AVL-003", "head_end", "no longer waived")]


def test_use_cases_and_standards_added_or_removed(checker: Checker, tmp_path: Path) -> None:
    text = (ROOT / "deployments" / "riverside.ami").read_text(encoding="utf-8")
    changed = tmp_path / "riverside.ami"
    changed.write_text(text.replace("standards nistir_7628, nerc_cip, iec_62351", "standards nistir_7628, pci_dss")
                       .replace("system.recovery", "system.recovery, distribution.emergency_dr"), encoding="utf-8")
    diff = diff_plans(checker.check_file(str(ROOT / "deployments" / "riverside.ami")), checker.check_file(str(changed)))
    assert diff.standards.added == ("pci_dss",) and diff.standards.removed == ("nerc_cip", "iec_62351")
    assert diff.use_cases.added == ("distribution.emergency_dr",) and not diff.use_cases.removed


def test_a_rule_that_no_longer_applies_is_changed_not_better(checker: Checker, tmp_path: Path) -> None:
    text = (ROOT / "deployments" / "riverside.ami").read_text(encoding="utf-8")
    changed = tmp_path / "riverside.ami"
    changed.write_text(text[:text.index("flow disconnects")] + text[text.index("delegation thermaco_control"):], encoding="utf-8")
    diff = diff_plans(checker.check_file(str(ROOT / "deployments" / "riverside.ami")), checker.check_file(str(changed)))
    assert not diff.by_direction("worse") and not diff.by_direction("better")
    assert {(c.rule.id, c.old, c.new) for c in diff.by_direction("changed")} >= {("AMI-ACC-002", "pass", "not_applicable")}
    assert [(e.kind, e.id) for e in diff.removed] == [("flow", "disconnects")]
    assert diff.exit_code() == 0


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "deployments").glob("*.ami")))
def test_a_plan_compared_with_itself_is_unchanged(checker: Checker, name: str) -> None:
    snapshot = checker.check_file(str(ROOT / "deployments" / name))
    diff = diff_plans(snapshot, snapshot)
    assert diff.unchanged and diff.exit_code() == 0


def test_renderers(revisions: PlanDiff) -> None:
    table, markdown, raw = (io.StringIO() for _ in range(3))
    DIFF_FORMATS["table"](revisions, table, color=False)
    DIFF_FORMATS["markdown"](revisions, markdown)
    DIFF_FORMATS["json"](revisions, raw)
    text = table.getvalue()
    assert "Worse (5 rule(s))" in text and "Better (1 rule(s))" in text
    assert "+ optical (new element, line 61)" in text and "- mgmt (fixed)" in text
    assert "+ link optical (field_tools -> meters, line 61): FAIL (AMI-DIA-001, AMI-DIA-002, AMI-DIA-003)" in text
    assert text.rstrip().endswith("4 new failure(s): the new plan is worse")
    assert len(text.splitlines()) <= 45  # one screen
    assert "### Worse (5 rule(s))" in markdown.getvalue() and "| `AMI-ACC-001` |" in markdown.getvalue()
    data = json.loads(raw.getvalue())
    assert data["new_failures"] == 4 and data["old"]["summary"]["fail"] == 3 and data["new"]["summary"]["fail"] == 6
    assert [r["id"] for r in data["rules"] if r["direction"] == "better"] == ["AMI-ACC-001"]
    assert data["elements"]["added"][1]["failing_rules"] == ["AMI-DIA-001", "AMI-DIA-002", "AMI-DIA-003"]
    assert [w["change"] for w in data["waivers"]] == ["added", "stale"]
