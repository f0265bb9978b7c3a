"""SARIF 2.1.0 for code review and GitHub code scanning.

One rule descriptor per rule; one result per offending element, located in the `.ami` file;
waived findings are suppressions carrying the waiver's justification; stale and expired waivers
are tool notifications. Nothing depends on the machine, so identical inputs give identical files.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import PurePath, PurePosixPath
from typing import Any, TextIO
from urllib.parse import quote

from amisec.results.model import ControlRef, Finding, Report, RuleResult, Waiver, WaiverNote

from .common import control_label, expected_actual

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# GitHub reads `security-severity` (0.0–10.0): 9.0+ critical, 7.0–8.9 high, 4.0–6.9 medium, below low.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "1.0"}
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}


def uri(path: str) -> str:
    """A file path as a SARIF URI: relative paths stay relative (to the repository root), with `/`."""
    if os.path.isabs(path):
        return PurePath(path).as_uri()
    return quote(PurePosixPath(*PurePath(path).parts).as_posix())


def _pascal(name: str, fallback: str) -> str:
    words = [w for w in name.replace("-", "_").split("_") if w]
    return "".join(w[:1].upper() + w[1:] for w in words) or fallback


def _help(result: RuleResult, controls: list[str]) -> dict[str, str]:
    rule = result.rule
    lines = [f"Objective (AMI security architecture §{rule.section}): {rule.objective}", f"Fix: {rule.remediation}"]
    markdown = [f"**Objective** (AMI security architecture §{rule.section}): {rule.objective}", "", f"**Fix:** {rule.remediation}"]
    if controls:
        lines.append("Controls: " + "; ".join(controls))
        markdown += ["", "**Controls:** " + "; ".join(controls)]
    return {"text": "\n".join(lines), "markdown": "\n".join(markdown)}


def _descriptor(result: RuleResult, controls: list[str]) -> dict[str, Any]:
    rule = result.rule
    return {
        "id": rule.id,
        "name": _pascal(rule.name, rule.id),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description},
        "help": _help(result, controls),
        "defaultConfiguration": {"level": LEVELS[rule.severity]},
        "properties": {
            "security-severity": SECURITY_SEVERITY[rule.severity],
            "precision": "very-high",
            "tags": list(dict.fromkeys(["security", rule.principle, rule.family])),
            "severity": rule.severity,
            "principle": rule.principle,
            "section": rule.section,
            "controls": controls,
        },
    }


def _rules(report: Report) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Descriptors (by id) with the union of each rule's controls over the deployments."""
    first: dict[str, RuleResult] = {}
    controls: dict[str, dict[ControlRef, None]] = {}
    for deployment in report.deployments:
        for result in deployment.results:
            first.setdefault(result.rule.id, result)
            controls.setdefault(result.rule.id, {}).update(dict.fromkeys(result.controls))
    ids = sorted(first)
    descriptors = [_descriptor(first[i], [control_label(c) for c in controls[i]]) for i in ids]
    return descriptors, {rule_id: n for n, rule_id in enumerate(ids)}


def _location(file: str, line: int, column: int, end_line: int, end_column: int, artifacts: dict[str, int]) -> dict[str, Any]:
    artifact: dict[str, Any] = {"uri": uri(file)}
    if file in artifacts:
        artifact["index"] = artifacts[file]
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if line > 0:
        region: dict[str, int] = {"startLine": line, "startColumn": max(column, 1)}
        if end_line >= line:
            region["endLine"] = end_line
            if end_column > 0 and (end_line > line or end_column > region["startColumn"]):
                region["endColumn"] = end_column
        physical["region"] = region
    return {"physicalLocation": physical}


def _waiver_location(waiver: Waiver, artifacts: dict[str, int]) -> dict[str, Any]:
    return _location(waiver.file, waiver.line, waiver.column, 0, 0, artifacts)


def fingerprint(rule_id: str, finding: Finding) -> str:
    """Stable across edits that move lines: the rule and the element it names."""
    key = f"{rule_id}\0{finding.subject.collection}\0{finding.subject.id}\0{finding.message}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


def _result(result: RuleResult, finding: Finding, index: int, artifacts: dict[str, int]) -> dict[str, Any]:
    subject, rule = finding.subject, result.rule
    text = f"{finding.message} ({expected_actual(finding)})"
    if finding.waiver is not None and finding.waiver.expired:
        text += f"; the waiver at {finding.waiver.location} expired on {finding.waiver.expires}"
    location = _location(subject.file, subject.line, subject.column, subject.end_line, subject.end_column, artifacts)
    location["logicalLocations"] = [{"name": subject.id, "fullyQualifiedName": f"{subject.collection}/{subject.id}"}]
    out: dict[str, Any] = {
        "ruleId": rule.id,
        "ruleIndex": index,
        "kind": "fail",
        "level": LEVELS[rule.severity],
        "message": {"text": text},
        "locations": [location],
        "partialFingerprints": {"amisecFinding/v1": fingerprint(rule.id, finding)},
        "properties": {"expected": finding.expected, "actual": finding.actual},
    }
    if finding.waived and finding.waiver is not None:
        out["suppressions"] = [{
            "kind": "inSource",
            "status": "accepted",
            "justification": finding.waiver.describe(),
            "location": _waiver_location(finding.waiver, artifacts),
        }]
    return out


def _notification(note: WaiverNote, artifacts: dict[str, int]) -> dict[str, Any]:
    return {
        "level": "warning",
        "message": {"text": note.message},
        "locations": [_waiver_location(note.waiver, artifacts)],
        "descriptor": {"id": f"waiver-{note.kind}"},
        "associatedRule": {"id": note.waiver.rule},
    }


def to_dict(report: Report) -> dict[str, Any]:
    """The SARIF log as JSON-ready data."""
    descriptors, rule_index = _rules(report)
    artifacts = {d.file: n for n, d in enumerate(report.deployments)}
    results = [
        _result(r, f, rule_index[r.rule.id], artifacts)
        for d in report.deployments for r in d.results for f in r.findings
    ]
    notes = [_notification(n, artifacts) for d in report.deployments for n in d.waiver_notes]
    invocation: dict[str, Any] = {"executionSuccessful": True, "endTimeUtc": report.timestamp}
    if notes:
        invocation["toolExecutionNotifications"] = notes
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "amisec",
                "version": report.tool_version,
                "semanticVersion": report.tool_version,
                "rules": descriptors,
            }},
            "invocations": [invocation],
            "artifacts": [
                {"location": {"uri": uri(d.file)}, "roles": ["analysisTarget"], "hashes": {"sha-256": d.sha256}}
                for d in report.deployments
            ],
            "results": results,
            "columnKind": "unicodeCodePoints",
            "properties": {
                "engine": report.engine,
                "engineVersion": report.engine_version,
                "policyDigest": report.policy_digest,
                "standardsDigest": report.standards_digest,
                "timestamp": report.timestamp,
                "deployments": [{"file": d.file, "name": d.name, "sha256": d.sha256, "summary": d.counts()} for d in report.deployments],
            },
        }],
    }


def render(report: Report, out: TextIO, **options: Any) -> None:
    """Write the SARIF log (indented JSON, trailing newline)."""
    json.dump(to_dict(report), out, indent=2, ensure_ascii=False)
    out.write("\n")
