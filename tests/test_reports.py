"""Report formats for CI, code review and regulators: golden files, schemas, evidence, determinism.

Golden files (tests/golden/reports/) are rendered from a saved JSON report, itself the JSON
golden file (tests/golden/reports/report.json), so they change only when a renderer does, not with
every policy edit. `AMISEC_UPDATE_GOLDEN=1 pytest tests/test_reports.py` re-runs the check that produced the
saved report and rewrites it and every golden file; review the diff before committing it.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterator

import jsonschema
import pytest
from click.testing import CliRunner

from amisec.cli import main
from amisec.report import FORMATS
from amisec.report.load import ReportFormatError, load_report, read_report
from amisec.report.outputs import parse_timestamp, render_text, stamp
from amisec.results.model import Report
from amisec.runner import run_check

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
GOLDEN = ROOT / "tests" / "golden" / "reports"
SAVED = GOLDEN / "report.json"
INPUTS = ["deployments/riverside.ami", "tests/data/reports/waivers.ami"]
WHEN = "2026-06-01T12:00:00Z"
UPDATE = os.environ.get("AMISEC_UPDATE_GOLDEN") == "1"
GOLDEN_FILES = {
    "json": "report.json",
    "sarif": "report.sarif",
    "junit": "report.junit.xml",
    "markdown": "report.md",
    "html": "report.html",
    "oscal": "report.oscal.json",
    "lines": "report.lines.txt",
}
REPORT_SCHEMA = json.loads((ROOT / "report" / "report.schema.json").read_text(encoding="utf-8"))
SARIF_SCHEMA = json.loads((DATA / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))


@contextlib.contextmanager
def working_directory(path: Path) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def fresh_report() -> Report:
    """A real check of the inputs, with paths relative to the repository root and a fixed time."""
    with working_directory(ROOT):
        report = run_check(INPUTS, today=date(2026, 6, 1))
    return stamp(report, parse_timestamp(WHEN))


@pytest.fixture(scope="module")
def saved() -> Report:
    if UPDATE:
        SAVED.parent.mkdir(parents=True, exist_ok=True)
        SAVED.write_text(render_text(fresh_report(), "json"), encoding="utf-8", newline="")
    return read_report(str(SAVED))


@pytest.fixture(scope="module")
def live() -> Report:
    return fresh_report()


@pytest.fixture(autouse=True)
def builtin_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AMISEC_LAYOUT", raising=False)  # goldens use the reproducible built-in layout


# --- golden files -------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", sorted(GOLDEN_FILES))
def test_golden(saved: Report, fmt: str) -> None:
    text = render_text(saved, fmt)
    path = GOLDEN / GOLDEN_FILES[fmt]
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="")
    assert text == path.read_text(encoding="utf-8"), f"{path} differs; regenerate with AMISEC_UPDATE_GOLDEN=1 and review"


def test_saved_report_round_trips_byte_for_byte(saved: Report) -> None:
    assert render_text(saved, "json") == SAVED.read_text(encoding="utf-8")


def test_every_format_of_a_live_run_renders_as_the_same_run_loaded_back(live: Report) -> None:
    loaded = load_report(json.loads(render_text(live, "json")))
    for fmt in FORMATS:
        assert render_text(loaded, fmt) == render_text(live, fmt), fmt


def test_saved_report_covers_every_status_and_waiver_kind(saved: Report) -> None:
    statuses = {r.status for d in saved.deployments for r in d.results}
    notes = {n.kind for d in saved.deployments for n in d.waiver_notes}
    assert statuses == {"pass", "fail", "waived", "not_applicable"}
    assert notes == {"stale", "expired"}


# --- evidence -----------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "sarif", "junit", "markdown", "html", "oscal"])
def test_every_report_names_versions_digests_and_time(live: Report, fmt: str) -> None:
    text = render_text(live, fmt)
    assert live.tool_version in text
    assert live.engine_version in text
    assert re.fullmatch(r"[0-9a-f]{64}", live.policy_digest) and live.policy_digest in text
    assert re.fullmatch(r"[0-9a-f]{64}", live.standards_digest) and live.standards_digest in text
    assert WHEN.removesuffix("Z") in text
    for deployment in live.deployments:
        assert re.fullmatch(r"[0-9a-f]{64}", deployment.sha256) and deployment.sha256 in text


# --- JSON ---------------------------------------------------------------------------------------

def test_json_follows_its_schema(live: Report, saved: Report) -> None:
    for report in (live, saved):
        jsonschema.Draft202012Validator(REPORT_SCHEMA).validate(json.loads(render_text(report, "json")))


def test_json_carries_the_topology(live: Report) -> None:
    document = json.loads(render_text(live, "json"))
    prairie = document["deployments"][1]["topology"]
    by_id = {d["id"]: d["status"] for d in prairie["devices"]}
    assert by_id["prepay"] == "fail" and by_id["head_end"] == "waived" and by_id["meters"] == "pass"


def test_loading_something_else_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReportFormatError, match="not an amisec JSON report"):
        load_report({"runs": []})
    with pytest.raises(ReportFormatError, match="schema version 9.0"):
        load_report({"tool": {"name": "amisec"}, "schema_version": "9.0"})
    broken = tmp_path / "broken.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(ReportFormatError, match=r"broken.json:1:2: not valid JSON"):
        read_report(str(broken))
    with pytest.raises(ReportFormatError, match="malformed"):
        load_report({"tool": {"name": "amisec", "version": "1"}, "schema_version": "1.0"})


# --- SARIF --------------------------------------------------------------------------------------

def sarif_of(report: Report) -> dict:
    return json.loads(render_text(report, "sarif"))


def test_sarif_follows_the_official_schema(live: Report, saved: Report) -> None:
    validator = jsonschema.Draft4Validator(SARIF_SCHEMA, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    for report in (live, saved):
        validator.validate(sarif_of(report))


def test_sarif_schema_check_catches_a_broken_log(live: Report) -> None:
    log = sarif_of(live)
    log["runs"][0]["results"][0]["level"] = "fatal"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SARIF_SCHEMA).validate(log)


def test_sarif_has_what_github_code_scanning_reads(live: Report) -> None:
    run = sarif_of(live)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted({r.rule.id for d in live.deployments for r in d.results})
    for rule in rules:
        assert rule["name"] and rule["shortDescription"]["text"] and rule["fullDescription"]["text"] and rule["help"]["text"]
        assert 0.0 <= float(rule["properties"]["security-severity"]) <= 10.0
    fingerprints = set()
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        location = result["locations"][0]["physicalLocation"]
        assert not location["artifactLocation"]["uri"].startswith(("/", "file:"))  # relative to the repository
        assert location["region"]["startLine"] >= 1
        fingerprints.add(result["partialFingerprints"]["amisecFinding/v1"])
    assert len(fingerprints) == len(run["results"])


MULTITOOL = os.environ.get("AMISEC_SARIF_MULTITOOL") or shutil.which("sarif-multitool")


@pytest.mark.skipif(MULTITOOL is None, reason="needs the SARIF Multitool (npm install @microsoft/sarif-multitool)")
def test_sarif_passes_the_github_ingestion_rules(live: Report, tmp_path: Path) -> None:
    """Microsoft's SARIF Multitool implements GitHub code scanning's upload rules (GHxxxx)."""
    log, verdict = tmp_path / "amisec.sarif", tmp_path / "validation.sarif"
    log.write_text(render_text(live, "sarif"), encoding="utf-8")
    done = subprocess.run([str(MULTITOOL), "validate", "--rule-kind", "Gh;Sarif", "--log", "ForceOverwrite",
                           "-o", str(verdict), str(log)], capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    levels = [r.get("level", "warning") for r in json.loads(verdict.read_text(encoding="utf-8"))["runs"][0]["results"]]
    assert "error" not in levels, done.stdout


def test_sarif_results_point_into_the_ami_file(live: Report) -> None:
    results = sarif_of(live)["runs"][0]["results"]
    prepay = [r for r in results if r["ruleId"] == "AMI-CNF-003"][0]
    region = prepay["locations"][0]["physicalLocation"]["region"]
    source = (ROOT / "tests/data/reports/waivers.ami").read_text(encoding="utf-8").splitlines()
    assert source[region["startLine"] - 1].startswith("device prepay")
    assert prepay["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "tests/data/reports/waivers.ami"


def test_sarif_waived_findings_are_suppressions_with_justification(live: Report) -> None:
    results = sarif_of(live)["runs"][0]["results"]
    waived = [r for r in results if r.get("suppressions")]
    assert {r["ruleId"] for r in waived} == {"AMI-AVL-002", "AMI-AVL-003"}
    suppression = waived[0]["suppressions"][0]
    assert suppression["status"] == "accepted" and "Hays substation" in suppression["justification"]
    expired = [r for r in results if r["ruleId"] == "AMI-CNF-005"][0]
    assert "suppressions" not in expired and "expired on 2025-12-31" in expired["message"]["text"]


def test_sarif_rule_descriptors_carry_controls(live: Report) -> None:
    rules = {r["id"]: r for r in sarif_of(live)["runs"][0]["tool"]["driver"]["rules"]}
    controls = rules["AMI-CNF-005"]["properties"]["controls"]
    assert any(c.startswith("PCI DSS") for c in controls)
    assert any(c.endswith("(unverified)") for c in controls)  # NISTIR 7628 is shipped unverified


def test_sarif_paths_become_uris() -> None:
    from amisec.report.sarif import uri

    assert uri("plans/my plan.ami") == "plans/my%20plan.ami"
    assert uri("/srv/plans/a.ami") == "file:///srv/plans/a.ami"


# --- JUnit --------------------------------------------------------------------------------------

def test_junit_has_a_suite_per_deployment_and_a_case_per_rule(live: Report) -> None:
    root = ET.fromstring(render_text(live, "junit"))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == [d.name for d in live.deployments]
    for suite, deployment in zip(suites, live.deployments, strict=True):
        cases = suite.findall("testcase")
        assert sorted(c.get("classname") for c in cases) == sorted(r.rule.id for r in deployment.results)
        assert int(suite.get("failures")) == deployment.counts()["fail"] == len(suite.findall("testcase/failure"))
        assert int(suite.get("tests")) == len(cases)


def test_junit_failures_carry_rationale_and_file_line(live: Report) -> None:
    prairie = ET.fromstring(render_text(live, "junit")).findall("testsuite")[1]
    case = [c for c in prairie.iter("testcase") if c.get("classname") == "AMI-CNF-003"][0]
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "high"
    assert re.search(r"tests/data/reports/waivers\.ami:\d+:\d+ device prepay", failure.text)
    assert "why: " in failure.text and "fix: " in failure.text


def test_junit_reads_in_a_junit_library(live: Report, tmp_path: Path) -> None:
    junitparser = pytest.importorskip("junitparser")
    path = tmp_path / "report.xml"
    path.write_text(render_text(live, "junit"), encoding="utf-8")
    suites = list(junitparser.JUnitXml.fromfile(str(path)))
    assert [s.failures for s in suites] == [d.counts()["fail"] for d in live.deployments]
    assert [s.skipped for s in suites] == [d.counts()["waived"] + d.counts()["not_applicable"] for d in live.deployments]


# --- Markdown and HTML --------------------------------------------------------------------------

def test_markdown_has_every_section(live: Report) -> None:
    text = render_text(live, "markdown")
    for heading in ("**Verdict: FAIL**", "### Counts by severity", "### Findings", "### Waiver register", "### Rules",
                    "### Traceability matrix", "```mermaid"):
        assert heading in text
    assert "PCI DSS" in text and "(unverified)" in text
    assert "`tests/data/reports/waivers.ami:89:1` device `prepay`" in text


def test_markdown_verdict_follows_fail_on(live: Report) -> None:
    riverside = Report(live.tool_version, live.engine, live.engine_version, live.policy_digest, live.timestamp,
                       live.deployments[:1], live.standards_digest)
    assert "**Verdict: PASS**" in render_text(riverside, "markdown")
    assert "**Verdict: FAIL**" in render_text(live, "markdown", fail_on="high")


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_html_is_self_contained(live: Report) -> None:
    text = render_text(live, "html")
    parser = _Collector()
    parser.feed(text)
    for tag, attrs in parser.tags:
        for name in ("src", "href"):
            assert not (attrs.get(name) or "").startswith(("http:", "https:", "//")), (tag, attrs)
        assert not (tag == "link" and attrs.get("rel") == "stylesheet")
        assert not (tag == "script" and attrs.get("src"))
    assert "default-src 'none'" in text  # the page may not fetch anything, even by mistake


def test_html_has_the_content_filters_and_topology(live: Report) -> None:
    text = render_text(live, "html")
    for needle in ("Counts by severity", "Findings", "Waiver register", "Traceability matrix", 'id="filters"',
                   'data-status="fail"', 'data-severity="high"', "<svg", 'class="device fail" data-id="prepay"',
                   'class="device waived" data-id="head_end"'):
        assert needle in text, needle
    svg = text[text.index("<svg"): text.index("</svg>") + 6]
    ET.fromstring(svg)  # well-formed


# --- OSCAL --------------------------------------------------------------------------------------

def oscal_of(report: Report) -> dict:
    return json.loads(render_text(report, "oscal"))["assessment-results"]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="compliance-trestle needs Python 3.11")
def test_oscal_follows_the_official_model(live: Report, saved: Report) -> None:
    from trestle.oscal import OSCAL_VERSION
    from trestle.oscal.assessment_results import AssessmentResults

    for report in (live, saved):
        document = oscal_of(report)
        assert document["metadata"]["oscal-version"] == OSCAL_VERSION
        AssessmentResults.model_validate(document)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="compliance-trestle needs Python 3.11")
def test_oscal_model_check_catches_a_broken_document(live: Report) -> None:
    from pydantic import ValidationError
    from trestle.oscal.assessment_results import AssessmentResults

    document = oscal_of(live)
    document["results"][1]["findings"][0]["target"]["status"]["state"] = "partly"
    with pytest.raises(ValidationError):
        AssessmentResults.model_validate(document)


def test_oscal_references_resolve_and_uuids_are_unique(live: Report) -> None:
    document = oscal_of(live)
    uuids = re.findall(r'"uuid": "([0-9a-f-]{36})"', json.dumps(document, indent=1))
    assert len(uuids) == len(set(uuids))
    for result in document["results"]:
        observations = {o["uuid"] for o in result.get("observations", [])}
        risks = {r["uuid"] for r in result.get("risks", [])}
        items = {i["uuid"] for i in result.get("local-definitions", {}).get("inventory-items", [])}
        reviewed = {c["control-id"] for s in result["reviewed-controls"]["control-selections"] for c in s.get("include-controls", [])}
        for finding in result.get("findings", []):
            assert finding["target"]["target-id"] in reviewed
            assert {o["observation-uuid"] for o in finding["related-observations"]} <= observations
            assert {r["risk-uuid"] for r in finding.get("related-risks", [])} <= risks
        for observation in result.get("observations", []):
            assert {s["subject-uuid"] for s in observation.get("subjects", [])} <= items


def test_oscal_findings_judge_controls_and_waivers_are_approved_deviations(live: Report) -> None:
    prairie = oscal_of(live)["results"][1]
    states = {f["target"]["target-id"]: f["target"]["status"]["state"] for f in prairie["findings"]}
    assert states["pci_dss_3.5"] == "not-satisfied"  # AMI-CNF-005 fails
    assert "satisfied" in states.values()
    risks = prairie["risks"]
    assert {r["status"] for r in risks} == {"deviation-approved"}
    assert all(r["deadline"] == "2028-06-30T23:59:59Z" for r in risks)
    assert {"General Manager, Prairie Wind EC"} == {p["value"] for r in risks for p in r["props"] if p["name"] == "approved-by"}


def test_oscal_control_tokens() -> None:
    from amisec.report.oscal import control_token
    from amisec.results.model import ControlRef

    assert control_token(ControlRef("nist_800_53", "AC-17(1)", "", True)) == "ac-17.1"
    assert control_token(ControlRef("iec_62443", "FR 1", "", True)) == "iec_62443_fr_1"
    assert control_token(ControlRef("pci_dss", "10.2", "", True)) == "pci_dss_10.2"


# --- lines --------------------------------------------------------------------------------------

def test_lines_are_clickable_one_per_standing_finding(live: Report) -> None:
    lines = render_text(live, "lines").splitlines()
    pattern = re.compile(r"^[^:\s]+\.ami:\d+:\d+: (error|warning|note) [A-Z][A-Z0-9-]+ \S.*$")
    assert lines and all(pattern.match(line) for line in lines)
    rules = [line.split()[2] for line in lines]
    assert "AMI-CNF-005" in rules  # its waiver expired
    assert "AMI-AVL-003" not in rules  # waived
    assert sum(1 for r in rules if r == "WAIVER") == 2  # one stale, one expired


# --- command line: several outputs, convert, timestamp, determinism -----------------------------

def invoke(args: list[str], env: dict[str, str] | None = None):
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def test_check_writes_several_formats_from_one_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    out = tmp_path / "out"
    result = invoke(["check", "tests/data/reports/waivers.ami", "-f", "lines", "-f", f"sarif:{out}/a.sarif",
                     "-f", f"html:{out}/deep/b.html", "--timestamp", WHEN])
    assert result.exit_code == 1
    assert "error AMI-CNF-003" in result.output
    assert json.loads((out / "a.sarif").read_text(encoding="utf-8"))["version"] == "2.1.0"
    assert (out / "deep" / "b.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not list(out.rglob(".amisec-*"))  # no temporary files left behind


def test_report_paths_are_relative_to_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(["check", str(ROOT / "deployments/riverside.ami"), "-f", "json:r.json"])
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["summary"]["fail"] == 0


@pytest.mark.parametrize("args, message", [
    (["-f", "pdf"], "unknown format 'pdf'"),
    (["-f", "table", "-f", "json"], "only one format can go to standard output"),
    (["-f", "html:"], "names no file"),
    (["-f", "json:a.json", "-f", "sarif:a.json"], "is named by both"),
    (["--timestamp", "yesterday"], "--timestamp 'yesterday'"),
])
def test_wrong_output_options_exit_2(args: list[str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(["check", str(ROOT / "deployments/riverside.ami"), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_convert_renders_a_saved_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    env = {"SOURCE_DATE_EPOCH": "1780315200"}
    saved_json = tmp_path / "r.json"
    direct = invoke(["check", *INPUTS, "-f", f"json:{saved_json}", "-f", "markdown"], env=env)
    converted = invoke(["convert", str(saved_json), "-f", "markdown", "-f", f"sarif:{tmp_path}/r.sarif"])
    assert converted.exit_code == 0
    assert converted.output == direct.output
    assert (tmp_path / "r.sarif").exists()


def test_convert_of_a_wrong_file_exits_2(tmp_path: Path) -> None:
    (tmp_path / "x.json").write_text('{"runs": []}', encoding="utf-8")
    for path in (tmp_path / "x.json", tmp_path / "missing.json"):
        result = invoke(["convert", str(path), "-f", "markdown"])
        assert result.exit_code == 2 and "Traceback" not in result.output


def _all_formats(tmp_path: Path, name: str, args: list[str], env: dict[str, str]) -> dict[str, bytes]:
    out = tmp_path / name
    specs = [f"{fmt}:{out}/{GOLDEN_FILES[fmt]}" for fmt in GOLDEN_FILES if fmt != "lines"]
    result = invoke(["check", *INPUTS, "-f", "lines", *(x for spec in specs for x in ("-f", spec)), *args], env=env)
    assert result.exit_code == 1
    files = {p.name: p.read_bytes() for p in sorted(out.iterdir())}
    return {**files, "stdout": result.output.encode("utf-8")}


def test_identical_inputs_give_byte_identical_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    epoch = {"SOURCE_DATE_EPOCH": "1780315200"}  # 2026-06-01T12:00:00Z
    first = _all_formats(tmp_path, "a", [], epoch)
    second = _all_formats(tmp_path, "b", [], epoch)
    by_option = _all_formats(tmp_path, "c", ["--timestamp", WHEN], {"SOURCE_DATE_EPOCH": ""})
    assert first == second == by_option
    assert len(first) == len(GOLDEN_FILES)
    assert b"2026-06-01T12:00:00Z" in first["report.json"]


def test_timestamp_also_judges_waiver_expiry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    before = invoke(["check", "tests/data/reports/waivers.ami", "-f", "lines", "--timestamp", "2025-06-01"])
    after = invoke(["check", "tests/data/reports/waivers.ami", "-f", "lines", "--timestamp", "2026-06-01"])
    assert "error AMI-CNF-005" not in before.output  # still waived then
    assert "error AMI-CNF-005" in after.output


def test_timestamps_are_parsed_strictly() -> None:
    from amisec.report.outputs import OutputError, iso

    assert iso(parse_timestamp("1780315200")) == WHEN
    assert iso(parse_timestamp("2026-06-01T14:00:00+02:00")) == WHEN
    assert iso(parse_timestamp("2026-06-01")) == "2026-06-01T00:00:00Z"
    with pytest.raises(OutputError):
        parse_timestamp("2026-13-01")


def test_renderers_accept_unknown_options(live: Report) -> None:
    for module in FORMATS.values():
        module.render(live, io.StringIO(), verbose=True, fail_on="high", color=False)
