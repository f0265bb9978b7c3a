"""JSON report: a stable, documented schema (`report.schema.json` beside this file).

`schema_version` changes only when a field is removed or changes meaning; new fields may be added.
"""
from __future__ import annotations

import json
from typing import Any, TextIO

from amisec.results.model import DeploymentReport, Finding, Report, RuleResult, Subject, Waiver, WaiverNote
from amisec.results.topology import Topology

SCHEMA_VERSION = "1.0"


def _subject(subject: Subject) -> dict[str, Any]:
    return {
        "collection": subject.collection,
        "index": subject.index,
        "id": subject.id,
        "kind": subject.kind,
        "location": {
            "file": subject.file,
            "line": subject.line,
            "column": subject.column,
            "end_line": subject.end_line,
            "end_column": subject.end_column,
        },
    }


def _waiver(waiver: Waiver | None) -> dict[str, Any] | None:
    if waiver is None:
        return None
    return {
        "rule": waiver.rule,
        "on": waiver.on,
        "reason": waiver.reason,
        "approved_by": waiver.approved_by,
        "expires": waiver.expires,
        "expired": waiver.expired,
        "location": {"file": waiver.file, "line": waiver.line, "column": waiver.column},
    }


def _finding(finding: Finding) -> dict[str, Any]:
    return {
        "element": _subject(finding.subject),
        "message": finding.message,
        "expected": finding.expected,
        "actual": finding.actual,
        "waived": finding.waived,
        "waiver": _waiver(finding.waiver),
    }


def _result(result: RuleResult) -> dict[str, Any]:
    rule = result.rule
    return {
        "rule": {
            "id": rule.id,
            "name": rule.name,
            "title": rule.title,
            "description": rule.description,
            "family": rule.family,
            "principle": rule.principle,
            "severity": rule.severity,
            "section": rule.section,
            "objective": rule.objective,
            "use_cases": list(rule.use_cases),
            "subject": rule.subject,
            "remediation": rule.remediation,
            "source": {"file": rule.path, "line": rule.line},
        },
        "status": result.status,
        "evidence": result.evidence,
        "reason": result.reason,
        "findings": [_finding(f) for f in result.findings],
        "controls": [{"standard": c.standard, "id": c.id, "title": c.title, "verified": c.verified} for c in result.controls],
    }


def _note(note: WaiverNote) -> dict[str, Any]:
    return {"kind": note.kind, "message": note.message, "waiver": _waiver(note.waiver)}


def _deployment(deployment: DeploymentReport) -> dict[str, Any]:
    return {
        "file": deployment.file,
        "sha256": deployment.sha256,
        "name": deployment.name,
        "summary": deployment.counts(),
        "results": [_result(r) for r in deployment.results],
        "waiver_notes": [_note(n) for n in deployment.waiver_notes],
        "topology": _topology(deployment.topology),
    }


def _topology(topology: Topology | None) -> dict[str, Any] | None:
    if topology is None:
        return None
    return {
        "domains": [{"id": d.id, "kind": d.kind, "status": d.status, "line": d.line} for d in topology.domains],
        "devices": [{"id": d.id, "kind": d.kind, "count": d.count, "domain": d.domain, "status": d.status, "line": d.line}
                    for d in topology.devices],
        "links": [{"id": lk.id, "from": lk.source, "to": lk.target, "bidirectional": lk.bidirectional, "status": lk.status,
                   "line": lk.line} for lk in topology.links],
    }


def to_dict(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "amisec", "version": report.tool_version},
        "engine": {"name": report.engine, "version": report.engine_version},
        "policy_digest": report.policy_digest,
        "standards_digest": report.standards_digest,
        "timestamp": report.timestamp,
        **({"baseline": report.baseline} if report.baseline else {}),
        "summary": report.counts(),
        "deployments": [_deployment(d) for d in report.deployments],
    }


def render(report: Report, out: TextIO, **options: Any) -> None:
    """Write the report as indented JSON with a trailing newline."""
    json.dump(to_dict(report), out, indent=2, ensure_ascii=False)
    out.write("\n")
