"""What the human-readable reports (Markdown, HTML) and the CI formats share: verdicts, counts,
provenance, control labels, the traceability matrix. Pure functions of a Report.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

from amisec.policies.catalog import SEVERITIES
from amisec.results.model import STATUSES, ControlRef, DeploymentReport, Finding, Report, RuleResult, severity_rank

STATUS_LABELS = {"fail": "FAIL", "waived": "waived", "pass": "pass", "not_applicable": "n/a"}


@lru_cache(maxsize=None)
def standard_name(key: str) -> str:
    """The display name of a standard key (`nistir_7628` → `NISTIR 7628`); the key if unknown."""
    from amisec.standards import load_catalogs

    catalog = load_catalogs().get(key)
    return catalog.name if catalog else key


def control_label(control: ControlRef) -> str:
    """`NISTIR 7628 SG.SC-8 (unverified)`: standard, id, and the unverified mark every output shows."""
    from amisec.standards import label

    return f"{standard_name(control.standard)} {label(control.id, control.verified)}"


def result_order(result: RuleResult) -> tuple[int, int, str]:
    """Failures first, then by severity and id: the order reports list results in."""
    return STATUSES.index(result.status), severity_rank(result.rule.severity), result.rule.id


def standing(result: RuleResult) -> list[Finding]:
    """The findings of a result that are not waived (an expired waiver does not waive)."""
    return [f for f in result.findings if not f.waived]


def failing(results: Iterable[RuleResult], fail_on: str = "info") -> list[RuleResult]:
    """Failing results at or above `fail_on` severity."""
    limit = severity_rank(fail_on)
    return [r for r in results if r.status == "fail" and severity_rank(r.rule.severity) <= limit]


def verdict(results: Sequence[RuleResult], fail_on: str = "info") -> tuple[str, str]:
    """("FAIL" | "PASS", a sentence saying why) for some results."""
    bad = failing(results, fail_on)
    # Over several deployments a rule has several results.
    noun = "rules" if len({r.rule.id for r in results}) == len(results) else "rule results"
    waived = sum(1 for r in results if r.status == "waived")
    waived_text = f"; {waived} waived" if waived else ""
    if bad:
        by_severity = severity_counts(bad)
        parts = ", ".join(f"{n} {s}" for s, n in by_severity.items() if n)
        return "FAIL", f"{len(bad)} of {len(results)} {noun} fail ({parts}){waived_text}"
    other = sum(1 for r in results if r.status == "fail")
    below = f"; {other} below the --fail-on {fail_on} threshold" if other else ""
    return "PASS", f"no rule fails at or above {fail_on} severity ({len(results)} {noun}){waived_text}{below}"


def severity_counts(results: Iterable[RuleResult]) -> dict[str, int]:
    """Results per severity, every severity present (most severe first)."""
    counts = dict.fromkeys(SEVERITIES, 0)
    for result in results:
        counts[result.rule.severity] += 1
    return counts


def severity_status_table(results: Sequence[RuleResult]) -> list[tuple[str, dict[str, int]]]:
    """(severity, {status: count}) for each severity that has results."""
    rows = []
    for severity in SEVERITIES:
        mine = [r for r in results if r.rule.severity == severity]
        if mine:
            rows.append((severity, {s: sum(1 for r in mine if r.status == s) for s in STATUSES}))
    return rows


def provenance(report: Report) -> list[tuple[str, str]]:
    """(label, value) pairs that make a report evidence: what ran, on what, with what, when."""
    rows = [
        ("tool", f"amisec {report.tool_version}"),
        ("engine", f"{report.engine} {report.engine_version}"),
        ("policy set sha256", report.policy_digest),
        ("standards catalogs sha256", report.standards_digest or "(not recorded)"),
        ("run at", report.timestamp),
    ]
    rows += [(f"{d.file} sha256", d.sha256) for d in report.deployments]
    if report.baseline:
        rows.append(("baseline", report.baseline))
    return rows


@dataclass(frozen=True)
class TraceRow:
    """One line of the traceability matrix: objective → rule → controls → elements."""

    section: str
    objective: str
    rule: str
    title: str
    status: str
    controls: tuple[str, ...]
    elements: tuple[str, ...]  # offending element ids (waived ones marked), or the evidence of a pass


def _elements(result: RuleResult) -> tuple[str, ...]:
    if result.findings:
        return tuple(dict.fromkeys(f"{f.subject.id} (waived)" if f.waived else f.subject.id for f in result.findings))
    if result.status == "pass":
        return (result.evidence,)
    return ()


def _section_key(section: str) -> tuple[int, ...]:
    return tuple(int(p) for p in section.split(".") if p.isdigit())


def trace_rows(deployment: DeploymentReport) -> list[TraceRow]:
    """The traceability matrix of one deployment, by seed section then rule id."""
    rows = [
        TraceRow(r.rule.section, r.rule.objective, r.rule.id, r.rule.title, r.status,
                 tuple(control_label(c) for c in r.controls), _elements(r))
        for r in deployment.results
    ]
    return sorted(rows, key=lambda row: (_section_key(row.section), row.rule))


def finding_line(finding: Finding) -> str:
    """`file:line:col kind id: message`, the way every report names one offending element."""
    subject = finding.subject
    return f"{subject.location} {subject.kind} {subject.id}: {finding.message}"


def expected_actual(finding: Finding) -> str:
    """`expected X, found Y` in plain words (JSON for structured values)."""
    import json

    def show(value: object) -> str:
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    return f"expected {show(finding.expected)}, found {show(finding.actual)}"
