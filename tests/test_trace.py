"""`amisec trace` and `amisec standards`: the matrix, its gaps, the four formats and the exit codes;
and the controls every check result carries for the standards its deployment selects.

Expected controls and gaps are computed from standards/mapping.yaml and the catalogs read here
directly, not through the code under test.
"""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from amisec.cli import main
from amisec.policies.objectives import load_objectives
from amisec.traceability import run_trace
from policy_fixtures import write_policies

ROOT = Path(__file__).resolve().parent.parent
RIVERSIDE = str(ROOT / "deployments" / "riverside.ami")
STANDARDS_DIR = ROOT / "standards"

# A small plan built to have gaps: it selects PCI DSS (only part of it is covered by rules) and
# NERC CIP, and sends payment data over an unencrypted link (AMI-CNF-004 fails on `billing_lan`).
GAPPY = """deployment "Gappy" {
  utility acme
  use_cases customer.prepayment
  standards pci_dss, nerc_cip
}
party acme "Acme Power" : utility
domain office : utility_enterprise
device billing : billing_system in office { owner acme; control acme; storage encrypted; logging on }
device payments : payment_system in office { owner acme; control acme; storage encrypted; logging on }
link billing_lan : billing <-> payments {
  medium ethernet
  authentication mutual
  integrity mac
  carries payment_data, prepay_balance
}
"""
BILLING_LAN_LINE = next(n for n, line in enumerate(GAPPY.splitlines(), 1) if line.startswith("link billing_lan"))


def mapping() -> dict[str, dict[str, list[str]]]:
    return yaml.safe_load((STANDARDS_DIR / "mapping.yaml").read_text(encoding="utf-8"))


def catalog(key: str) -> dict:
    return yaml.safe_load((STANDARDS_DIR / f"{key}.yaml").read_text(encoding="utf-8"))


def uncovered(key: str) -> list[str]:
    covered = {c for entry in mapping().values() for c in entry.get(key, [])}
    return [c["id"] for c in catalog(key)["controls"] if c["id"] not in covered]


def mapped(rule: str, keys: list[str]) -> set[tuple[str, str]]:
    return {(k, c) for k, ids in mapping().get(rule, {}).items() if k in keys for c in ids}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env={"COLUMNS": "200"})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture()
def gappy(tmp_path: Path) -> Path:
    path = tmp_path / "gappy.ami"
    path.write_text(GAPPY, encoding="utf-8")
    return path


# --- the trace ---------------------------------------------------------------------------------

def test_control_gaps_are_the_selected_standards_controls_no_rule_covers(gappy):
    trace = run_trace([str(gappy)]).deployments[0]
    assert trace.standards == ("pci_dss", "nerc_cip") and trace.standards_from == "deployment"
    expected = [("pci_dss", c) for c in uncovered("pci_dss")] + [("nerc_cip", c) for c in uncovered("nerc_cip")]
    assert [(g.standard, g.id) for g in trace.control_gaps] == expected
    # partially covered: some PCI DSS controls are covered, some are gaps
    assert 0 < len(uncovered("pci_dss")) < len(catalog("pci_dss")["controls"])
    assert trace.summary()["controls"] == {
        "selected": len(catalog("pci_dss")["controls"]) + len(catalog("nerc_cip")["controls"]),
        "covered": len(catalog("pci_dss")["controls"]) + len(catalog("nerc_cip")["controls"]) - len(expected),
        "uncovered": len(expected),
    }


def test_a_failing_rule_shows_its_elements_and_fails_its_objectives(gappy):
    trace = run_trace([str(gappy)]).deployments[0]
    by_id = {o.objective.id: o for o in trace.objectives}
    confidentiality = by_id["OBJ-3.1.2-14"]  # "Ensure that payment data confidentiality is maintained."
    assert confidentiality.status == "fail"
    rule = next(r for r in confidentiality.rules if r.id == "AMI-CNF-004")
    assert rule.status == "fail"
    assert [(e.id, e.kind, e.line, e.status) for e in rule.elements] == [("billing_lan", "link", BILLING_LAN_LINE, "fail")]
    assert {(c.standard, c.id) for c in rule.controls} == mapped("AMI-CNF-004", ["pci_dss", "nerc_cip"])
    # every objective that names AMI-CNF-004 fails with it; one with only passing rules passes
    assert all(o.status == "fail" for o in trace.objectives if "AMI-CNF-004" in o.objective.rules)
    assert by_id["OBJ-3.2.6-02"].status == "pass"  # the utility owns its enterprise assets


def test_explained_gaps_are_the_objectives_without_rules(gappy):
    trace = run_trace([str(gappy)]).deployments[0]
    objectives = load_objectives()
    assert [g.objective.id for g in trace.explained_gaps] == [o.id for o in objectives if not o.rules]
    assert all(g.status == "not_checkable" and g.objective.not_checkable for g in trace.explained_gaps)
    assert trace.summary()["objectives"] == len(objectives)
    assert trace.summary()["checked"] + trace.summary()["not_checkable"] == len(objectives)


def test_scoped_standards_carry_their_catalog_note(gappy):
    trace = run_trace([str(gappy)]).deployments[0]
    note = catalog("nerc_cip")["note"]
    cip = [g for g in trace.control_gaps if g.standard == "nerc_cip"]
    assert cip and all(g.scope_note == note for g in cip)
    cited = [c for o in trace.matrix for r in o.rules for c in r.controls if c.standard == "nerc_cip"]
    assert cited and all(c.scope_note == note for c in cited)


def test_standard_option_replaces_the_deployments_line():
    trace = run_trace([RIVERSIDE], standards=["nist_800_53"]).deployments[0]
    assert trace.standards == ("nist_800_53",) and trace.standards_from == "command line"
    for item in trace.matrix:
        for rule in item.rules:
            assert {(c.standard, c.id) for c in rule.controls} == mapped(rule.id, ["nist_800_53"])
    assert [g.id for g in trace.control_gaps] == uncovered("nist_800_53")


def test_without_standards_there_are_no_controls_and_no_control_gaps(tmp_path):
    path = tmp_path / "bare.ami"
    path.write_text(GAPPY.replace("  standards pci_dss, nerc_cip\n", ""), encoding="utf-8")
    trace = run_trace([str(path)]).deployments[0]
    assert trace.standards == () and trace.control_gaps == ()
    assert all(not r.controls for o in trace.matrix for r in o.rules)


def test_the_compliant_example_has_no_failing_objective():
    trace = run_trace([RIVERSIDE]).deployments[0]
    assert {o.status for o in trace.matrix} <= {"pass", "not_applicable"}
    assert trace.untraced == ()


def test_custom_rules_are_listed_as_untraced(tmp_path):
    policies = write_policies(tmp_path / "policies")
    trace = run_trace([RIVERSIDE], policy_dirs=[str(policies)]).deployments[0]
    assert [r.id for r in trace.untraced] == ["ACME-T-001", "ACME-T-002"]


# --- formats -----------------------------------------------------------------------------------

def test_csv_parses_with_one_record_per_matrix_row_and_gap(gappy):
    code, out, _ = run("trace", str(gappy), "-f", "csv")
    assert code == 0
    records = list(csv.DictReader(io.StringIO(out)))
    trace = run_trace([str(gappy)]).deployments[0]
    kinds = [r["record"] for r in records]
    assert kinds.count("matrix") == sum(len(o.rules) for o in trace.matrix)
    assert kinds.count("objective_gap") == len(trace.explained_gaps)
    assert kinds.count("control_gap") == len(trace.control_gaps)
    failing = [r for r in records if r["record"] == "matrix" and r["rule"] == "AMI-CNF-004"]
    assert failing and all(r["status"] == "fail" and f"billing_lan ({gappy}:{BILLING_LAN_LINE}:1) fail" in r["elements"] for r in failing)
    gap = next(r for r in records if r["record"] == "objective_gap" and r["objective"] == "PCI Compliance?")
    assert gap["reason"] and gap["objective_status"] == "not_checkable"
    assert all(r["scope_note"] for r in records if r["record"] == "control_gap" and r["standard"] == "nerc_cip")


def test_json_structure(gappy):
    code, out, _ = run("trace", str(gappy), "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert doc["schema_version"] == "1.0" and len(doc["deployments"]) == 1
    dep = doc["deployments"][0]
    assert dep["standards"] == ["pci_dss", "nerc_cip"]
    assert len(dep["objectives"]) == len(load_objectives())
    cnf = next(o for o in dep["objectives"] if o["id"] == "OBJ-3.1.2-14")
    rule = next(r for r in cnf["rules"] if r["id"] == "AMI-CNF-004")
    assert rule["status"] == "fail" and rule["elements"][0]["id"] == "billing_lan"
    assert rule["elements"][0]["location"]["line"] == BILLING_LAN_LINE
    assert all({"standard", "id", "title", "verified", "label", "scope_note"} <= set(c) for c in rule["controls"])
    assert [g["id"] for g in dep["gaps"]["objectives"]] == [o.id for o in load_objectives() if not o.rules]
    assert [(c["standard"], c["id"]) for c in dep["gaps"]["controls"]] == (
        [("pci_dss", c) for c in uncovered("pci_dss")] + [("nerc_cip", c) for c in uncovered("nerc_cip")])
    assert dep["summary"]["status"]["fail"] >= 1


def test_markdown_has_the_tables(gappy):
    code, out, _ = run("trace", str(gappy), "-f", "markdown")
    assert code == 0
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| §"))
    assert lines[header + 1].startswith("|--")
    assert "### Objectives no rule checks (explained gaps)" in out
    assert "### Controls of the selected standards no rule covers" in out
    assert any("AMI-CNF-004" in line and "FAIL" in line and "billing_lan" in line for line in lines)
    assert f"† NERC CIP: {catalog('nerc_cip')['note']}" in out


def test_table_shows_matrix_gaps_and_summary(gappy):
    code, out, _ = run("trace", str(gappy))
    assert code == 0
    assert "Traceability matrix" in out and "Objectives no rule checks" in out
    assert "PCI Compliance?" in out and "billing_lan" in out
    objectives = load_objectives()
    gaps = sum(1 for o in objectives if not o.rules)
    assert f"{len(objectives)} objectives: {len(objectives) - gaps} checked by rules" in out
    assert f"{gaps} not checkable" in out


# --- exit codes --------------------------------------------------------------------------------

def test_trace_of_a_failing_plan_exits_0(gappy):
    assert run("trace", str(gappy))[0] == 0


@pytest.mark.parametrize("args, message", [
    (["--standard", "iso_27001"], "unknown standard 'iso_27001' (known: iec_62351, iec_62443, nerc_cip, nist_800_53, nistir_7628, pci_dss)"),
    (["-f", "yaml"], "Invalid value for '-f' / '--format'"),
])
def test_usage_errors_exit_2(gappy, args, message):
    code, _, err = run("trace", str(gappy), *args)
    assert code == 2 and message in err


def test_input_errors_exit_2(tmp_path):
    broken = tmp_path / "broken.ami"
    broken.write_text(GAPPY.replace("owner acme; control acme; storage", "owner acmee; control acme; storage", 1), encoding="utf-8")
    code, _, err = run("trace", str(broken))
    assert code == 2 and f"{broken}:8:" in err and "Traceback" not in err
    code, _, err = run("trace", str(tmp_path / "missing.ami"))
    assert code == 2 and "no such file" in err


def test_engine_error_exits_3(gappy, monkeypatch):
    monkeypatch.setenv("PATH", "")
    code, _, err = run("trace", str(gappy), "--engine", "opa-cli")
    assert code == 3 and "no opa binary on PATH" in err


# --- amisec standards --------------------------------------------------------------------------

def test_standards_lists_every_catalog():
    code, out, _ = run("standards")
    assert code == 0
    for key in ("iec_62351", "iec_62443", "nerc_cip", "nist_800_53", "nistir_7628", "pci_dss"):
        cat = catalog(key)
        assert f"{cat['name']} ({key})" in out
        assert f"{key}: {len(cat['controls'])} controls, {len(cat['controls']) - len(uncovered(key))} covered by rules" in out
    assert "(unverified)" in out  # NISTIR 7628 ids are not yet verified


def test_standards_json_rows_match_the_mapping():
    code, out, _ = run("standards", "nerc_cip", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    expected = {c["id"]: sorted(r for r, e in mapping().items() if c["id"] in e.get("nerc_cip", [])) for c in catalog("nerc_cip")["controls"]}
    assert {r["id"]: r["rules"] for r in rows} == expected
    assert all(r["standard"] == "nerc_cip" and r["label"] == r["id"] for r in rows)


def test_unverified_controls_are_labelled():
    code, out, _ = run("standards", "nistir_7628", "-f", "json")
    assert code == 0 and all(r["label"] == f"{r['id']} (unverified)" for r in json.loads(out) if not r["verified"])


def test_unknown_standard_exits_2_with_the_known_keys():
    code, _, err = run("standards", "iso_27001")
    assert code == 2
    assert "unknown standard 'iso_27001' (known: iec_62351, iec_62443, nerc_cip, nist_800_53, nistir_7628, pci_dss)" in err


# --- check results carry their controls --------------------------------------------------------

@pytest.mark.parametrize("plan", ["riverside.ami", "summit_power.ami"])
def test_every_check_result_carries_its_mapped_controls(plan):
    path = ROOT / "deployments" / plan
    code, out, _ = run("check", str(path), "-f", "json")
    assert code in (0, 1)
    selected = [w.strip() for w in next(line for line in path.read_text(encoding="utf-8").splitlines()
                                         if line.strip().startswith("standards ")).strip()[len("standards "):].split(",")]
    results = json.loads(out)["deployments"][0]["results"]
    assert results
    for result in results:
        got = {(c["standard"], c["id"]) for c in result["controls"]}
        assert got == mapped(result["rule"]["id"], selected), result["rule"]["id"]
    assert any(result["controls"] for result in results)
