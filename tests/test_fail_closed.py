"""Fail closed: whatever stops an evaluation part way ends the run with exit code 3, names what
failed, and writes no report; a complete run reports every rule of the catalog for every
deployment, each with a status. Nothing is ever reported as passing that was not evaluated."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from amisec.cli import main
from amisec.policies.catalog import load_catalog

ROOT = Path(__file__).resolve().parent.parent
RIVERSIDE = ROOT / "deployments" / "riverside.ami"
STATUSES = {"pass", "fail", "waived", "not_applicable"}

METADATA = '''# METADATA
# title: {title}
# description: A rule broken on purpose, to see evaluation fail.
# custom:
#   id: {id}
#   principle: availability
#   severity: medium
#   section: "3.1.4"
#   objective: To provide timely availability of meter data.
#   use_cases: []
#   subject: devices
#   evidence: "{{n}} device(s): {{ids}}"
#   remediation: Nothing; this rule is broken on purpose.
'''
# A helper that gives two answers for an aggregator: a conflict, which stops the whole query.
CONFLICT = "package amisec.rules.acme_conflict\n\nimport rego.v1\n\n" + METADATA.format(
    title="Collectors are weighed", id="ACME-BOOM-001") + '''collectors_weighed := {
	"subjects": [i | some i; d := input.devices[i]; _weight(d) > 0],
	"violations": [],
}

_weight(d) := 1 if d.kind == "aggregator"

_weight(d) := 2 if d.kind == "aggregator"

_weight(d) := 1 if d.kind != "aggregator"
'''
# A builtin given a wrong argument: the rule has no value at all.
UNDEFINED = "package amisec.rules.acme_undefined\n\nimport rego.v1\n\n" + METADATA.format(
    title="Counts are numbers", id="ACME-SOFT-001") + '''counts_are_numbers := {
	"subjects": [i | some i; input.devices[i]],
	"violations": [],
} if {
	to_number("not a number") > 0
}
'''
# No aggregator: the conflicting rule evaluates fine on this plan.
SMALL = '''deployment "Small" { utility city }
party city "City Power" : utility
domain field : utility_edge
device meters : meter x 10 in field { owner city; control city }
'''


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result.exit_code, result.stdout, result.stderr


def policy(tmp_path: Path, text: str) -> str:
    folder = tmp_path / "policies"
    folder.mkdir()
    (folder / "broken.rego").write_text(text, encoding="utf-8")
    return str(folder)


@pytest.fixture()
def reports(tmp_path: Path) -> dict[str, Path]:
    """Report paths, one of them holding the report of an earlier run."""
    paths = {"json": tmp_path / "out" / "report.json", "sarif": tmp_path / "out" / "report.sarif",
             "html": tmp_path / "earlier.html"}
    paths["html"].write_text("<p>the earlier report</p>", encoding="utf-8")
    return paths


def output_flags(paths: dict[str, Path]) -> list[str]:
    return [flag for fmt, path in paths.items() for flag in ("-f", f"{fmt}:{path}")]


def assert_nothing_written(paths: dict[str, Path]) -> None:
    assert not paths["json"].exists() and not paths["sarif"].exists() and not paths["json"].parent.exists()
    assert paths["html"].read_text(encoding="utf-8") == "<p>the earlier report</p>"


def test_a_rule_that_errors_on_the_second_file_stops_the_run_with_exit_3(tmp_path: Path, reports: dict[str, Path]) -> None:
    small = tmp_path / "small.ami"
    small.write_text(SMALL, encoding="utf-8")
    code, out, err = run("check", str(small), str(RIVERSIDE), "--policy", policy(tmp_path, CONFLICT), *output_flags(reports))
    assert (code, out) == (3, "")
    assert err.startswith("engine error: rule ACME-BOOM-001 (amisec.rules.acme_conflict.collectors_weighed, ")
    assert "(eval_conflict_error)" in err
    assert_nothing_written(reports)


def test_a_rule_that_errors_is_named(tmp_path: Path) -> None:
    code, _, err = run("check", str(RIVERSIDE), "--policy", policy(tmp_path, CONFLICT))
    assert code == 3
    assert "ACME-BOOM-001" in err and "amisec.rules.acme_conflict.collectors_weighed" in err


def test_a_rule_without_a_value_is_named_and_never_passes(tmp_path: Path, reports: dict[str, Path]) -> None:
    folder = policy(tmp_path, UNDEFINED)
    code, out, err = run("check", str(RIVERSIDE), "--policy", folder, *output_flags(reports))
    assert (code, out) == (3, "")
    assert err.startswith(f"engine error: rule ACME-SOFT-001 (amisec.rules.acme_undefined.counts_are_numbers at "
                          f"{Path(folder) / 'broken.rego'}:18) produced no result")
    assert "cannot be reported as passing" in err
    assert_nothing_written(reports)


def test_an_internal_error_exits_3_and_writes_no_report(tmp_path: Path, reports: dict[str, Path],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from amisec.results import evaluate

    real_judge = evaluate.judge

    def judge(rule, *args, **kwargs):  # type: ignore[no-untyped-def]
        if rule.id == "AMI-OWN-003":
            raise ZeroDivisionError("division by zero")
        return real_judge(rule, *args, **kwargs)

    monkeypatch.delenv("AMISEC_DEBUG", raising=False)
    monkeypatch.setattr(evaluate, "judge", judge)
    code, out, err = run("check", str(RIVERSIDE), *output_flags(reports))
    assert (code, out) == (3, "")
    assert err.startswith("internal error: ZeroDivisionError: division by zero (nothing was reported as passing;")
    assert_nothing_written(reports)


def test_every_rule_of_the_catalog_is_in_every_report_with_a_status(tmp_path: Path) -> None:
    custom = ROOT / "tests" / "data" / "acme_rules"
    plans = sorted((ROOT / "deployments").glob("*.ami"))
    catalog = {r.id for r in load_catalog([custom]).rules}
    assert "ACME-NET-001" in catalog and len(catalog) > 70
    junit = tmp_path / "report.xml"
    code, out, _ = run("check", *map(str, plans), "--policy", str(custom), "-f", "json", "-f", f"junit:{junit}")
    assert code in (0, 1)
    report = json.loads(out)
    assert [d["file"] for d in report["deployments"]] == [str(p) for p in plans]
    for deployment in report["deployments"]:
        statuses = {r["rule"]["id"]: r["status"] for r in deployment["results"]}
        assert set(statuses) == catalog and len(deployment["results"]) == len(catalog), deployment["file"]
        assert set(statuses.values()) <= STATUSES
    assert junit.read_text(encoding="utf-8").count("<testcase ") == len(catalog) * len(plans)
