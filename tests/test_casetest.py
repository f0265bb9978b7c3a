"""The case runner behind `amisec test`: compares status and offending elements, finds gaps."""
from __future__ import annotations

from pathlib import Path

from amisec.casetest import run_cases
from amisec.policies.catalog import load_catalog
from policy_fixtures import CASES, write_policies


def run_custom(directory: Path):
    """Run only the custom rules' cases, so built-in coverage does not interfere."""
    catalog = load_catalog([directory])
    return run_cases(catalog, rules={r.id for r in catalog.rules if not r.builtin})


def test_matching_cases_pass_and_uncovered_rules_are_named(tmp_path: Path) -> None:
    run = run_custom(write_policies(tmp_path))
    assert [(o.case.name, o.status, o.subjects, o.ok) for o in run.outcomes] == [
        ("signed firmware passes", "pass", (), True),
        ("unsigned firmware fails", "fail", ("meters",), True),
    ]
    assert run.never_fail == ("ACME-T-002",) and run.never_pass == ("ACME-T-002",)
    assert not run.ok


def test_wrong_status_or_subjects_is_a_mismatch(tmp_path: Path) -> None:
    directory = write_policies(tmp_path)
    wrong = CASES.replace("subjects: [meters]", "subjects: [head_end]").replace("expect: pass", "expect: fail\n    subjects: [meters]")
    (directory / "acme_cases.yaml").write_text(wrong, encoding="utf-8")
    problems = [o.problem for o in run_custom(directory).outcomes]
    assert problems[0] == "expected fail, got pass"
    assert problems[1] == "expected offending elements [head_end], got [meters]"


def test_a_snippet_that_does_not_compile_is_reported_with_its_position(tmp_path: Path) -> None:
    directory = write_policies(tmp_path)
    (directory / "acme_cases.yaml").write_text(CASES.replace("utility acme }", "utility acme", 1), encoding="utf-8")
    outcome = run_custom(directory).outcomes[0]
    assert outcome.status is None and "does not compile" in outcome.problem
    assert "<ACME-T-001: signed firmware passes>:" in outcome.problem
