"""Joining raw rule output to METADATA: fail closed, applicability, findings, waivers, exit codes."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from amisec.compiler.diagnostics import InputError
from amisec.engine.errors import EngineError
from amisec.policies.catalog import RuleMeta
from amisec.results.evaluate import evaluate_deployment
from amisec.results.model import Report
from amisec.results.waivers import default_today

TODAY = date(2027, 1, 1)

BASE = RuleMeta(
    id="AMI-TST-001", title="Devices are fine", description="d", principle="integrity", severity="high",
    section="3.1.4", objective="o", use_cases=(), subject="devices",
    evidence="{n} fine device(s): {ids}", remediation="fix it", package="amisec.rules.tst", name="fine",
    family="tst", path="policies/rules/tst.rego", line=10,
)


def rule(**changes: object) -> RuleMeta:
    return replace(BASE, **changes)


def span(line: int, column: int = 1) -> dict:
    return {"file": "plan.ami", "line": line, "column": column, "end_line": line, "end_column": 9}


def doc(devices: int = 3, waivers: list | None = None, use_cases: tuple[str, ...] = ("billing.remote_read",)) -> dict:
    return {
        "deployment": {"name": "Plan", "use_cases": list(use_cases), "source": {"file": "plan.ami", "sha256": "ab"}, "span": span(1)},
        "devices": [{"id": f"d{i}", "span": span(10 + i, 3)} for i in range(devices)],
        "links": [],
        "waivers": waivers or [],
    }


def violation(index: int, message: str = "bad") -> dict:
    return {"collection": "devices", "index": index, "message": message, "expected": "good", "actual": "bad"}


def raw(subjects: list, violations: list, **more: dict) -> dict:
    return {"tst": {"fine": {"subjects": subjects, "violations": violations}, **more}}


def waiver(on: str, expires: str = "2027-06-30", rule_id: str = "AMI-TST-001") -> dict:
    return {"rule": rule_id, "on": on, "on_collection": "devices", "on_idx": 0, "reason": "phase 3",
            "approved_by": "CISO", "expires": expires, "span": span(40, 1)}


def only(report) -> object:
    (result,) = report.results
    return result


def test_pass_evidence_names_the_subjects() -> None:
    result = only(evaluate_deployment([BASE], doc(), raw([0, 1, 2], []), today=TODAY))
    assert (result.status, result.evidence) == ("pass", "3 fine device(s): d0, d1, d2")


def test_pass_evidence_lists_subjects_in_source_order_whatever_order_the_rule_gives() -> None:
    result = only(evaluate_deployment([BASE], doc(devices=8), raw([7, 2, 0, 2, 5, 1, 6, 3], []), today=TODAY))
    assert result.evidence == "7 fine device(s): d0, d1, d2, d3, d5 and 2 more"


def test_pass_evidence_lists_the_first_ids_and_counts_the_rest() -> None:
    result = only(evaluate_deployment([BASE], doc(devices=8), raw(list(range(8)), []), today=TODAY))
    assert result.evidence == "8 fine device(s): d0, d1, d2, d3, d4 and 3 more"


def test_fail_names_each_element_with_position_deduplicated_and_sorted() -> None:
    output = raw([0, 1, 2], [violation(2, "two"), violation(0, "zero"), violation(2, "two")])
    result = only(evaluate_deployment([BASE], doc(), output, today=TODAY))
    assert result.status == "fail"
    assert [(f.subject.id, f.subject.kind, f.subject.location, f.message) for f in result.findings] == [
        ("d0", "device", "plan.ami:10:3", "zero"),
        ("d2", "device", "plan.ami:12:3", "two"),
    ]
    assert result.reason == "fails for 2 of 3 devices"


def test_empty_subjects_is_not_applicable() -> None:
    result = only(evaluate_deployment([BASE], doc(), raw([], []), today=TODAY))
    assert result.status == "not_applicable"
    assert result.reason.startswith("nothing in the deployment it applies to")


def test_rule_for_a_use_case_the_deployment_does_not_enable_is_not_applicable() -> None:
    gated = rule(use_cases=("customer.prepayment", "distribution.emergency_dr"))
    result = only(evaluate_deployment([gated], doc(), raw([0], [violation(0)]), today=TODAY))
    assert result.status == "not_applicable"
    assert "customer.prepayment" in result.reason and "distribution.emergency_dr" in result.reason


def test_rule_for_an_enabled_use_case_is_judged() -> None:
    gated = rule(use_cases=("billing.remote_read",))
    assert only(evaluate_deployment([gated], doc(), raw([0], [violation(0)]), today=TODAY)).status == "fail"


def test_a_rule_missing_from_the_output_fails_closed() -> None:
    other = rule(id="AMI-TST-002", name="missing")
    with pytest.raises(EngineError, match="AMI-TST-002.*did not evaluate"):
        evaluate_deployment([BASE, other], doc(), raw([0], []), select={"AMI-TST-001"}, today=TODAY)


@pytest.mark.parametrize("bad", [{"subjects": [0]}, {"violations": []}, [], {"subjects": None, "violations": []}])
def test_malformed_rule_output_fails_closed(bad: object) -> None:
    with pytest.raises(EngineError, match="AMI-TST-001"):
        evaluate_deployment([BASE], doc(), {"tst": {"fine": bad}}, today=TODAY)


def test_a_violation_naming_no_element_is_an_engine_error() -> None:
    with pytest.raises(EngineError, match=r"devices\[7\] does not exist"):
        evaluate_deployment([BASE], doc(), raw([0], [violation(7)]), today=TODAY)


def test_a_violation_not_built_by_the_helper_is_an_engine_error() -> None:
    with pytest.raises(EngineError, match="lib.violation"):
        evaluate_deployment([BASE], doc(), raw([0], [{"index": 0, "message": "m"}]), today=TODAY)


def test_a_rule_value_without_metadata_is_an_engine_error_but_helpers_are_not() -> None:
    output = raw([0], [], _helper=[1, 2], stray={"subjects": [], "violations": []})
    with pytest.raises(EngineError, match="METADATA") as err:
        evaluate_deployment([BASE], doc(), output, today=TODAY)
    assert err.value.problems == ("data.amisec.rules.tst.stray",)


def test_active_waiver_turns_the_failure_waived() -> None:
    result = only(evaluate_deployment([BASE], doc(waivers=[waiver("d1")]), raw([0, 1], [violation(1)]), today=TODAY))
    assert result.status == "waived"
    finding = result.findings[0]
    assert finding.waived and finding.waiver.approved_by == "CISO" and finding.waiver.expires == "2027-06-30"
    assert "phase 3" in result.reason and "CISO" in result.reason and "2027-06-30" in result.reason


def test_waiver_on_one_element_leaves_the_others_failing() -> None:
    output = raw([0, 1], [violation(0), violation(1)])
    result = only(evaluate_deployment([BASE], doc(waivers=[waiver("d1")]), output, today=TODAY))
    assert result.status == "fail"
    assert [f.waived for f in result.findings] == [False, True]
    assert "1 waived" in result.reason


def test_expired_waiver_leaves_the_failure_standing_and_says_so() -> None:
    report = evaluate_deployment([BASE], doc(waivers=[waiver("d1", expires="2026-12-31")]), raw([1], [violation(1)]), today=TODAY)
    result = only(report)
    assert result.status == "fail"
    assert result.findings[0].waiver.expired and not result.findings[0].waived
    assert "expired on 2026-12-31" in result.reason
    assert [n.kind for n in report.waiver_notes] == ["expired"]


def test_waiver_expiring_today_still_waives() -> None:
    result = only(evaluate_deployment([BASE], doc(waivers=[waiver("d1", expires="2027-01-01")]), raw([1], [violation(1)]), today=TODAY))
    assert result.status == "waived"


def test_stale_waiver_is_reported() -> None:
    report = evaluate_deployment([BASE], doc(waivers=[waiver("d2")]), raw([0, 1, 2], [violation(0)]), today=TODAY)
    assert only(report).status == "fail"
    (note,) = report.waiver_notes
    assert note.kind == "stale" and "passes for d2" in note.message and "plan.ami:40:1" in note.message


def test_waiver_for_an_unselected_rule_is_not_called_stale() -> None:
    other = rule(id="AMI-TST-002", name="other")
    output = {"tst": {"fine": {"subjects": [0], "violations": []}, "other": {"subjects": [0], "violations": []}}}
    report = evaluate_deployment([BASE, other], doc(waivers=[waiver("d0", rule_id="AMI-TST-002")]), output,
                                 select={"AMI-TST-001"}, today=TODAY)
    assert report.waiver_notes == ()


def test_waiver_naming_an_unknown_rule_is_an_input_error_at_the_waiver() -> None:
    with pytest.raises(InputError) as err:
        evaluate_deployment([BASE], doc(waivers=[waiver("d0", rule_id="AMI-TST-009")]), raw([0], []), today=TODAY)
    (diagnostic,) = err.value.diagnostics
    assert (diagnostic.span.file, diagnostic.span.line, diagnostic.span.column) == ("plan.ami", 40, 1)
    assert "AMI-TST-009" in diagnostic.message and "AMI-TST-001" in (diagnostic.hint or "")


def test_today_comes_from_source_date_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1798761600")  # 2027-01-01T00:00:00Z
    assert default_today() == date(2027, 1, 1)


def test_exit_code_follows_fail_on_severity() -> None:
    medium = rule(severity="medium")
    deployment = evaluate_deployment([medium], doc(), raw([0], [violation(0)]), today=TODAY)
    report = Report("0", "embedded", "x", "d" * 64, "t", (deployment,))
    assert [report.exit_code(level) for level in ("info", "low", "medium", "high", "critical")] == [1, 1, 1, 0, 0]


def test_waived_and_passing_results_exit_zero() -> None:
    waived = evaluate_deployment([BASE], doc(waivers=[waiver("d1")]), raw([1], [violation(1)]), today=TODAY)
    report = Report("0", "embedded", "x", "d" * 64, "t", (waived,))
    assert report.exit_code("info") == 0
