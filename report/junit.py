"""JUnit XML for CI test views: a testsuite per deployment, a testcase per rule.

`classname` is the rule id. A failing rule is a `<failure>` whose text is the rationale and one
`file:line:col` line per offending element; waived and not-applicable rules are `<skipped>` with
the reason; a passing rule carries its evidence in `<system-out>`. Attributes follow the common
JUnit schema (Jenkins `junit-10.xsd`) that CI viewers read.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, TextIO

from amisec.results.model import DeploymentReport, Report, RuleResult

from .common import control_label, expected_actual, finding_line, result_order, standing


def _timestamp(report: Report) -> str:
    # The JUnit schema's timestamp has no zone designator; report timestamps are UTC.
    return report.timestamp.removesuffix("Z")


def _counts(results: tuple[RuleResult, ...]) -> dict[str, str]:
    failures = sum(1 for r in results if r.status == "fail")
    skipped = sum(1 for r in results if r.status in ("waived", "not_applicable"))
    return {"tests": str(len(results)), "failures": str(failures), "errors": "0", "skipped": str(skipped)}


def _failure_text(result: RuleResult) -> str:
    rule = result.rule
    lines = [result.reason]
    lines += [f"{finding_line(f)} ({expected_actual(f)})" for f in standing(result)]
    lines.append(f"why: {rule.objective} (AMI security architecture §{rule.section})")
    lines.append(f"fix: {rule.remediation}")
    if result.controls:
        lines.append("controls: " + "; ".join(control_label(c) for c in result.controls))
    return "\n".join(lines)


def _testcase(parent: ET.Element, result: RuleResult) -> None:
    rule = result.rule
    case = ET.SubElement(parent, "testcase", {"name": rule.title, "classname": rule.id, "time": "0"})
    if result.status == "fail":
        failure = ET.SubElement(case, "failure", {"message": result.reason, "type": rule.severity})
        failure.text = _failure_text(result)
    elif result.status == "waived":
        skipped = ET.SubElement(case, "skipped", {"message": f"waived: {result.reason}"})
        skipped.text = "\n".join(finding_line(f) for f in result.findings)
    elif result.status == "not_applicable":
        ET.SubElement(case, "skipped", {"message": f"not applicable: {result.reason}"})
    else:
        ET.SubElement(case, "system-out").text = result.evidence


def _properties(parent: ET.Element, report: Report, deployment: DeploymentReport) -> None:
    properties = ET.SubElement(parent, "properties")
    for name, value in (
        ("file", deployment.file),
        ("sha256", deployment.sha256),
        ("amisec.version", report.tool_version),
        ("engine", f"{report.engine} {report.engine_version}"),
        ("policy_digest", report.policy_digest),
        ("standards_digest", report.standards_digest),
        ("timestamp", report.timestamp),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": value})


def _suite(parent: ET.Element, report: Report, number: int, deployment: DeploymentReport) -> None:
    attributes = {"name": deployment.name or deployment.file, "id": str(number), "package": deployment.file,
                  **_counts(deployment.results), "time": "0", "timestamp": _timestamp(report)}
    suite = ET.SubElement(parent, "testsuite", attributes)
    _properties(suite, report, deployment)
    for result in sorted(deployment.results, key=result_order):
        _testcase(suite, result)
    if deployment.waiver_notes:
        ET.SubElement(suite, "system-out").text = "\n".join(n.message for n in deployment.waiver_notes)


def to_element(report: Report) -> ET.Element:
    """The `<testsuites>` element of the report."""
    results = tuple(r for d in report.deployments for r in d.results)
    counts = _counts(results)
    root = ET.Element("testsuites", {"name": "amisec", "tests": counts["tests"], "failures": counts["failures"],
                                     "errors": "0", "time": "0"})
    for number, deployment in enumerate(report.deployments):
        _suite(root, report, number, deployment)
    return root


def render(report: Report, out: TextIO, **options: Any) -> None:
    """Write the JUnit XML document (UTF-8, indented, trailing newline)."""
    root = to_element(report)
    ET.indent(root, space="  ")
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")
