"""One line per finding, `file:line:col: LEVEL RULE-ID message`: for pre-commit hooks and editors.

Levels are SARIF's (`error` for critical and high rules, `warning` for medium, `note` for low and
info). Waived findings are not printed; stale and expired waivers are, as `warning WAIVER`, at the
waiver's line, so the waiver register stays honest. Nothing is printed for a clean file.
"""
from __future__ import annotations

from typing import Any, TextIO

from amisec.results.model import Report

from .common import result_order, standing
from .sarif import LEVELS


def lines(report: Report) -> list[str]:
    """The lines, ordered by file, line, column, then rule id."""
    found: list[tuple[tuple[str, int, int, str], str]] = []
    for deployment in report.deployments:
        for result in sorted(deployment.results, key=result_order):
            for finding in standing(result):
                s = finding.subject
                message = " ".join(finding.message.split())  # one finding, one line
                text = f"{s.location}: {LEVELS[result.rule.severity]} {result.rule.id} {message}"
                found.append(((s.file, s.line, s.column, result.rule.id), text))
        for note in deployment.waiver_notes:
            w = note.waiver
            found.append(((w.file, w.line, w.column, w.rule), f"{w.location}: warning WAIVER {note.message}"))
    return [text for _, text in sorted(found, key=lambda item: item[0])]


def render(report: Report, out: TextIO, **options: Any) -> None:
    """Write one line per standing finding and per waiver note."""
    for line in lines(report):
        out.write(line + "\n")
