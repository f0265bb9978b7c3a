"""Report renderers: the JSON report follows its published schema; the table reads well."""
from __future__ import annotations

import io
import json
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from amisec.report import FORMATS
from amisec.report import json as json_report
from amisec.runner import run_check
from policy_fixtures import write_deployment, write_policies

SCHEMA = json.loads(files("amisec.report").joinpath("report.schema.json").read_text(encoding="utf-8"))
RIVERSIDE = str(files("amisec.deployments").joinpath("riverside.ami"))


@pytest.fixture()
def mixed_report(tmp_path: Path):
    """Two deployments: one failing, one waived; custom rules, so every field is exercised."""
    policies = write_policies(tmp_path / "policies")
    plans = [write_deployment(tmp_path / "a.ami"), write_deployment(tmp_path / "b.ami", waiver=True)]
    return run_check([str(p) for p in plans], policy_dirs=[str(policies)], include=["acme"])


def render(report, fmt: str, **options: object) -> str:
    out = io.StringIO()
    FORMATS[fmt].render(report, out, **options)
    return out.getvalue()


def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_json_report_of_the_example_deployment_follows_the_schema() -> None:
    document = json.loads(render(run_check([RIVERSIDE]), "json"))
    jsonschema.validate(document, SCHEMA)
    assert document["schema_version"] == json_report.SCHEMA_VERSION
    assert sum(document["summary"].values()) == len(document["deployments"][0]["results"])


def test_json_report_with_findings_and_waivers_follows_the_schema(mixed_report) -> None:
    document = json.loads(render(mixed_report, "json"))
    jsonschema.validate(document, SCHEMA)
    failing, waived = (d["results"][0] for d in document["deployments"])
    assert (failing["status"], waived["status"]) == ("fail", "waived")
    assert failing["findings"][0]["waiver"] is None
    assert waived["findings"][0]["waiver"]["reason"] == 'Replacement "in progress"'
    assert document["summary"] == {"fail": 1, "waived": 1, "pass": 2, "not_applicable": 0}


def test_schema_rejects_an_unknown_status(mixed_report) -> None:
    document = json_report.to_dict(mixed_report)
    document["deployments"][0]["results"][0]["status"] = "maybe"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA)


def test_table_lists_failures_first_and_counts(mixed_report) -> None:
    text = render(mixed_report, "table", color=False)
    lines = text.splitlines()
    first_rows = [line.split()[0] for line in lines if line.split() and line.split()[0] in ("FAIL", "pass", "WAIVED")]
    assert first_rows[:2] == ["FAIL", "pass"]
    assert "total: 1 fail, 1 waived, 2 pass, 0 not applicable" in text
    assert "\x1b[" not in text


def test_table_colours_only_when_asked_or_on_a_terminal(mixed_report) -> None:
    assert "\x1b[31mFAIL\x1b[0m" in render(mixed_report, "table", color=True)
    assert "\x1b[" not in render(mixed_report, "table")  # a StringIO is not a terminal


def test_table_shows_pass_evidence_only_when_verbose(mixed_report) -> None:
    assert "fleet(s) with devices" not in render(mixed_report, "table")
    assert "fleet(s) with devices" in render(mixed_report, "table", verbose=True)
