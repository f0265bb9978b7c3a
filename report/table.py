"""Terminal table: one row per rule, failures first, then a summary line of counts."""
from __future__ import annotations

import os
import shutil
from typing import Any, TextIO

from tabulate import tabulate

from amisec.results.model import STATUSES, DeploymentReport, Report, RuleResult, severity_rank

_COLOURS = {"fail": "31", "waived": "33", "pass": "32", "not_applicable": "2"}
_LABELS = {"fail": "FAIL", "waived": "WAIVED", "pass": "pass", "not_applicable": "n/a"}
_MAX_ELEMENTS = 8


def _status(status: str, colour: bool) -> str:
    label = _LABELS[status]
    return f"\x1b[{_COLOURS[status]}m{label}\x1b[0m" if colour else label


def _shown_path(path: str) -> str:
    """The path relative to the working directory when it lies below it, else as is."""
    relative = os.path.relpath(path) if os.path.isabs(path) else path
    return path if relative.startswith("..") else relative


def _elements(result: RuleResult, verbose: bool) -> str:
    lines = [f"{f.subject.id} ({_shown_path(f.subject.file)}:{f.subject.line})" for f in result.findings]
    if len(lines) > _MAX_ELEMENTS and not verbose:
        lines = lines[:_MAX_ELEMENTS] + [f"… and {len(lines) - _MAX_ELEMENTS} more"]
    return "\n".join(lines)


def _rationale(result: RuleResult, verbose: bool) -> str:
    if result.status == "pass":
        return result.evidence if verbose else ""
    if result.status != "fail":
        return result.reason
    messages = [f.message for f in result.findings if not f.waived]
    if len(messages) > _MAX_ELEMENTS and not verbose:
        messages = messages[:_MAX_ELEMENTS] + [f"… and {len(messages) - _MAX_ELEMENTS} more"]
    lines = [result.reason, *messages]
    if verbose:
        lines.append(f"fix: {result.rule.remediation}")
    return "\n".join(lines)


def _row(result: RuleResult, colour: bool, verbose: bool) -> list[str]:
    rule = result.rule
    return [_status(result.status, colour), rule.id, rule.severity, rule.title, _elements(result, verbose), _rationale(result, verbose)]


def _order(result: RuleResult) -> tuple[int, int, str]:
    return STATUSES.index(result.status), severity_rank(result.rule.severity), result.rule.id


def summary_line(counts: dict[str, int]) -> str:
    """`1 fail, 0 waived, 27 pass, 3 not applicable`."""
    return ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in counts.items())


def _deployment(deployment: DeploymentReport, out: TextIO, colour: bool, verbose: bool, width: int) -> None:
    rows = [_row(r, colour, verbose) for r in sorted(deployment.results, key=_order)]
    # element lines stay whole (they are clickable); title and rationale wrap into what is left
    element_width = min(60, max((len(line) for row in rows for line in row[4].split("\n")), default=8))
    title_width = 32
    rationale_width = max(30, width - element_width - title_width - 40)
    widths = [None, None, None, title_width, None, rationale_width]
    out.write(f"{deployment.name} ({_shown_path(deployment.file)})\n")
    table = tabulate(rows, headers=["status", "rule", "severity", "title", "elements", "rationale"], tablefmt="simple", maxcolwidths=widths)
    out.write(table + "\n")
    for note in deployment.waiver_notes:
        out.write(f"note: {note.message}\n")
    out.write(f"{_shown_path(deployment.file)}: {summary_line(deployment.counts())}\n")


def render(report: Report, out: TextIO, *, verbose: bool = False, color: bool | None = None, **options: Any) -> None:
    """Write one table per deployment; colour only on a terminal without NO_COLOR, or as `color` says."""
    terminal = bool(getattr(out, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")
    colour = terminal if color is None else color
    width = shutil.get_terminal_size((140, 24)).columns
    for number, deployment in enumerate(report.deployments):
        if number:
            out.write("\n")
        _deployment(deployment, out, colour, verbose, width)
    if len(report.deployments) > 1:
        out.write(f"total: {summary_line(report.counts())}\n")
    if report.baseline:
        out.write(f"{report.baseline}\n")
