"""Read a saved JSON report (`amisec check -f json:report.json`) back into a Report.

`amisec convert` uses it to render a report again in another format without re-running the
check: what comes back renders exactly as the run it was saved from.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from amisec.policies.catalog import RuleMeta
from amisec.results.model import ControlRef, DeploymentReport, Finding, Report, RuleResult, Subject, Waiver, WaiverNote
from amisec.results.topology import TopoDevice, TopoDomain, TopoLink, Topology

from .json import SCHEMA_VERSION


class ReportFormatError(ValueError):
    """The file is not an amisec JSON report this version can read."""


def _subject(raw: Mapping[str, Any]) -> Subject:
    where = raw["location"]
    return Subject(raw["collection"], raw["index"], raw["id"], raw["kind"], where["file"], where["line"],
                   where["column"], where["end_line"], where["end_column"])


def _waiver(raw: Mapping[str, Any] | None) -> Waiver | None:
    if raw is None:
        return None
    where = raw["location"]
    return Waiver(raw["rule"], raw["on"], raw["reason"], raw["approved_by"], raw["expires"], raw["expired"],
                  where["file"], where["line"], where.get("column", 0))


def _rule(raw: Mapping[str, Any]) -> RuleMeta:
    family = raw["family"]
    return RuleMeta(
        id=raw["id"], title=raw["title"], description=raw["description"], principle=raw["principle"],
        severity=raw["severity"], section=raw["section"], objective=raw["objective"],
        use_cases=tuple(raw["use_cases"]), subject=raw.get("subject", "deployment"),
        evidence="",  # the template is not saved; each result's evidence text is
        remediation=raw["remediation"], package=f"amisec.rules.{family}", name=raw.get("name", ""),
        family=family, path=raw["source"]["file"], line=raw["source"]["line"],
    )


def _result(raw: Mapping[str, Any]) -> RuleResult:
    findings = tuple(
        Finding(_subject(f["element"]), f["message"], f["expected"], f["actual"], _waiver(f["waiver"]))
        for f in raw["findings"]
    )
    controls = tuple(ControlRef(c["standard"], c["id"], c["title"], c["verified"]) for c in raw["controls"])
    return RuleResult(_rule(raw["rule"]), raw["status"], findings, raw["evidence"], raw["reason"], controls)


def _topology(raw: Mapping[str, Any] | None) -> Topology | None:
    if raw is None:
        return None
    return Topology(
        tuple(TopoDomain(d["id"], d["kind"], d["status"], d["line"]) for d in raw["domains"]),
        tuple(TopoDevice(d["id"], d["kind"], d["count"], d["domain"], d["status"], d["line"]) for d in raw["devices"]),
        tuple(TopoLink(lk["id"], lk["from"], lk["to"], lk["bidirectional"], lk["status"], lk["line"]) for lk in raw["links"]),
    )


def _deployment(raw: Mapping[str, Any]) -> DeploymentReport:
    notes = []
    for note in raw["waiver_notes"]:
        waiver = _waiver(note["waiver"])
        if waiver is None:
            raise ReportFormatError("a waiver note has no waiver")
        notes.append(WaiverNote(waiver, note["kind"], note["message"]))
    return DeploymentReport(
        file=raw["file"], sha256=raw["sha256"], name=raw["name"],
        results=tuple(_result(r) for r in raw["results"]), waiver_notes=tuple(notes),
        topology=_topology(raw.get("topology")),
    )


def load_report(data: Any) -> Report:
    """The Report a JSON report document describes; raises ReportFormatError when it is not one."""
    if not isinstance(data, dict) or data.get("tool", {}).get("name") != "amisec":
        raise ReportFormatError("not an amisec JSON report (expected an object with tool.name \"amisec\")")
    version = str(data.get("schema_version", ""))
    if version.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise ReportFormatError(f"report schema version {version or '(none)'} is not readable by this amisec "
                                f"(it reads {SCHEMA_VERSION})")
    try:
        return Report(
            tool_version=data["tool"]["version"], engine=data["engine"]["name"], engine_version=data["engine"]["version"],
            policy_digest=data["policy_digest"], timestamp=data["timestamp"],
            deployments=tuple(_deployment(d) for d in data["deployments"]),
            standards_digest=data.get("standards_digest", ""),
            baseline=data.get("baseline"),
        )
    except (KeyError, TypeError, AttributeError) as err:
        raise ReportFormatError(f"malformed amisec JSON report: missing or wrong field {err}") from None


def read_report(path: str) -> Report:
    """Load a JSON report file; unreadable or malformed files raise ReportFormatError."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as err:
        raise ReportFormatError(f"{path}: {err.strerror or err}") from None
    except json.JSONDecodeError as err:
        raise ReportFormatError(f"{path}:{err.lineno}:{err.colno}: not valid JSON: {err.msg}") from None
    try:
        return load_report(data)
    except ReportFormatError as err:
        raise ReportFormatError(f"{path}: {err}") from None
