"""Markdown report for people: verdict, counts by severity, findings with rationale and controls,
the per-rule table, the traceability matrix and a Mermaid topology (GitHub renders it).
"""
from __future__ import annotations

from typing import Any, TextIO

from amisec.results.model import STATUSES, DeploymentReport, Report, RuleResult

from .common import (
    STATUS_LABELS,
    control_label,
    expected_actual,
    provenance,
    result_order,
    severity_status_table,
    trace_rows,
    verdict,
)
from .topology import to_mermaid


def cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").split("\n"))


def inline(text: str) -> str:
    """Text safe in a Markdown paragraph (no accidental HTML)."""
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _table(headers: list[str], rows: list[list[str]], numeric: tuple[int, ...] = ()) -> list[str]:
    align = ["---:" if n in numeric else "---" for n in range(len(headers))]
    out = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out + [""]


def _counts(deployment: DeploymentReport) -> list[str]:
    rows = [[s, *(str(c[st]) for st in STATUSES)] for s, c in severity_status_table(deployment.results)]
    totals = deployment.counts()
    rows.append(["**total**", *(f"**{totals[st]}**" for st in STATUSES)])
    return _table(["severity", *(STATUS_LABELS[s] for s in STATUSES)], rows, numeric=(1, 2, 3, 4))


def _finding_block(result: RuleResult) -> list[str]:
    rule = result.rule
    out = [
        f"#### {STATUS_LABELS[result.status]} {rule.id} — {inline(rule.title)}",
        "",
        f"*{rule.severity} · {rule.principle} · AMI security architecture §{rule.section}*",
        "",
        f"> {inline(rule.objective)}",
        "",
        f"{inline(rule.description)}",
        "",
        f"**Result:** {inline(result.reason)}",
        "",
    ]
    for finding in result.findings:
        s = finding.subject
        mark = " *(waived)*" if finding.waived else ""
        out.append(f"- `{s.location}` {s.kind} `{s.id}`{mark}: {inline(finding.message)} ({inline(expected_actual(finding))})")
        if finding.waiver is not None:
            out.append(f"  - waiver at `{finding.waiver.location}`: {inline(finding.waiver.describe())}")
    out += ["", f"**Fix:** {inline(rule.remediation)}", ""]
    if result.controls:
        out += ["**Controls:** " + "; ".join(inline(control_label(c)) for c in result.controls), ""]
    return out


def _findings(deployment: DeploymentReport) -> list[str]:
    chosen = [r for r in sorted(deployment.results, key=result_order) if r.status in ("fail", "waived")]
    if not chosen:
        return ["No findings.", ""]
    return [line for r in chosen for line in _finding_block(r)]


def _rule_row(result: RuleResult) -> list[str]:
    if result.status in ("fail", "waived"):
        shown = [f"{f.subject.id} ({f.subject.location})" + (" waived" if f.waived else "") for f in result.findings]
        detail = "; ".join(shown)
    elif result.status == "pass":
        detail = result.evidence
    else:
        detail = result.reason
    return [STATUS_LABELS[result.status], result.rule.id, result.rule.severity, cell(result.rule.title), cell(detail)]


def _trace(deployment: DeploymentReport) -> list[str]:
    rows = [
        [row.section, cell(row.objective), row.rule, STATUS_LABELS[row.status], cell("; ".join(row.controls) or "—"),
         cell("; ".join(row.elements) or "—")]
        for row in trace_rows(deployment)
    ]
    return _table(["§", "objective", "rule", "status", "controls", "elements"], rows)


def _deployment(deployment: DeploymentReport, fail_on: str) -> list[str]:
    word, why = verdict(deployment.results, fail_on)
    out = [
        f"## {inline(deployment.name or deployment.file)}",
        "",
        f"File `{deployment.file}` · sha256 `{deployment.sha256}`",
        "",
        f"**Verdict: {word}** — {inline(why)}",
        "",
        "### Counts by severity",
        "",
        *_counts(deployment),
        "### Findings",
        "",
        *_findings(deployment),
    ]
    if deployment.waiver_notes:
        out += ["### Waiver register", ""] + [f"- {n.kind}: {inline(n.message)}" for n in deployment.waiver_notes] + [""]
    out += ["### Rules", ""]
    out += _table(["status", "rule", "severity", "title", "elements or evidence"],
                  [_rule_row(r) for r in sorted(deployment.results, key=result_order)])
    out += ["### Traceability matrix", "", "Objective (AMI security architecture section) → rule → standard controls → deployment elements.", ""]
    out += _trace(deployment)
    if deployment.topology is not None:
        out += ["### Topology", "", "```mermaid", to_mermaid(deployment.topology).rstrip("\n"), "```", ""]
    return out


def to_text(report: Report, fail_on: str = "info") -> str:
    """The whole report as Markdown."""
    all_results = [r for d in report.deployments for r in d.results]
    word, why = verdict(all_results, fail_on)
    out = ["# amisec report", "", f"**Verdict: {word}** — {inline(why)}", ""]
    out += _table(["evidence", "value"], [[cell(k), f"`{cell(v)}`" if k != "tool" else cell(v)] for k, v in provenance(report)])
    for deployment in report.deployments:
        out += _deployment(deployment, fail_on)
    return "\n".join(out).rstrip("\n") + "\n"


def render(report: Report, out: TextIO, *, fail_on: str = "info", **options: Any) -> None:
    """Write the Markdown report."""
    out.write(to_text(report, fail_on))
