"""The example deployments end to end: their exact findings on the embedded engine.

riverside is the fully compliant example: every rule passes or does not apply, and every pass
states its evidence. Each other example fails exactly on the defects its `# DEFECT:` comments
describe (and its waivers accept exactly what they name)."""
from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from amisec.runner import run_check

ROOT = Path(__file__).resolve().parent.parent
DEPLOYMENTS = ROOT / "deployments"
TODAY = date(2027, 1, 1)  # before every waiver in the examples expires

# (status, rule id) -> [(element id, line)] for every result that is not pass or not_applicable
EXPECTED = {
    "riverside.ami": {},
    "summit_power.ami": {
        ("fail", "AMI-ACC-002"): [("der_setpoints", 140)],
        ("fail", "AMI-AVL-005"): [("emergency_curtail", 161)],
        ("fail", "AMI-OWN-009"): [("collectors", 73)],
    },
    "prairie_coop.ami": {
        ("waived", "AMI-AVL-002"): [("head_end", 79)],
        ("waived", "AMI-AVL-003"): [("head_end", 79)],
        ("fail", "AMI-CNF-003"): [("prepay", 87)],
        ("fail", "AMI-CNF-005"): [("prepay", 87)],
        ("fail", "AMI-TPY-001"): [("homesmart_management", 152)],
    },
    "tri_county_water_gas.ami": {
        ("fail", "AMI-CNF-001"): [("water_radio", 108)],
        ("fail", "AMI-HYG-004"): [("outage_last_gasp", 128)],
        ("fail", "AMI-OWN-003"): [("water_modules", 62)],
    },
}


@pytest.fixture(scope="module")
def reports():
    names = sorted(EXPECTED)
    report = run_check([str(DEPLOYMENTS / n) for n in names], today=TODAY)
    return {Path(d.file).name: d for d in report.deployments}


def test_every_example_has_expected_findings():
    assert sorted(p.name for p in DEPLOYMENTS.glob("*.ami")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_exact_findings(reports, name):
    found = {
        (r.status, r.rule.id): [(f.subject.id, f.subject.line) for f in r.findings]
        for r in reports[name].results
        if r.status in ("fail", "waived")
    }
    assert found == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_defect_comment_is_found(reports, name):
    """Every `# DEFECT:` line lies within an element that a failing result names."""
    text = (DEPLOYMENTS / name).read_text(encoding="utf-8").splitlines()
    defect_lines = [n for n, line in enumerate(text, 1) if re.search(r"#\s*DEFECT:", line) and not line.lstrip().startswith("#")]
    spans = [(f.subject.line, f.subject.end_line) for r in reports[name].results if r.status in ("fail", "waived") for f in r.findings]
    for line in defect_lines:
        assert any(start <= line <= end for start, end in spans), f"{name}:{line} marks a defect no finding names"


def test_riverside_is_clean_with_evidence_for_every_applicable_rule(reports):
    results = reports["riverside.ami"].results
    assert {r.status for r in results} <= {"pass", "not_applicable"}
    passes = [r for r in results if r.status == "pass"]
    assert len(passes) > 50
    for r in passes:
        assert r.evidence.strip(), f"{r.rule.id} passes without evidence"
    for r in results:
        if r.status == "not_applicable":
            assert r.reason.strip(), f"{r.rule.id} is not applicable without a reason"
