"""Render a plan comparison: `table` (a terminal screen), `markdown` (a review comment), `json`.

Every renderer has the signature `render(diff, out, *, fail_on, color)`; DIFF_FORMATS maps names to them.
"""
from __future__ import annotations

import json
import os
import shutil
import textwrap
from typing import Any, Callable, Sequence, TextIO

from tabulate import tabulate

from amisec.report.common import control_label, standard_name
from amisec.results.model import Finding, count_statuses

from .diff import ControlChange, ElementChange, FindingChange, PlanDiff, RuleChange, WaiverChange

SCHEMA_VERSION = "1.0"
_LABELS = {"fail": "FAIL", "waived": "waived", "pass": "pass", "not_applicable": "n/a", None: "—"}
_HEADINGS = {"worse": "Worse", "better": "Better", "changed": "Changed"}
_COLOURS = {"worse": "31", "better": "32", "changed": "2", "fail": "31", "waived": "33", "pass": "32"}
_SHOWN = 4  # elements listed per rule before "… and N more"
_TITLE = 38


def _shown_path(path: str) -> str:
    relative = os.path.relpath(path) if os.path.isabs(path) else path
    return path if relative.startswith("..") else relative


def _paint(text: str, colour: str | None, on: bool) -> str:
    return f"\x1b[{colour}m{text}\x1b[0m" if on and colour else text


def _counts(diff_side: Any) -> str:
    counts = count_statuses(diff_side.report.results)
    return ", ".join(f"{n} {_LABELS[s] if s != 'fail' else 'fail'}" for s, n in counts.items())


def _where(finding: Finding) -> str:
    # Both versions' files are named in the header; the line is what a reader needs here.
    return f"line {finding.subject.line}"


def _finding_lines(change: RuleChange, limit: int | None) -> list[str]:
    lines = [f"+ {c.finding.subject.id} ({c.how}, {_where(c.finding)})" for c in change.introduced]
    lines += [f"~ {c.finding.subject.id} ({c.how}, {_where(c.finding)})" for c in change.waived]
    lines += [f"- {c.finding.subject.id} ({c.how})" for c in change.resolved]
    if limit is not None and len(lines) > limit:
        lines = lines[:limit] + [f"… and {len(lines) - limit} more"]
    return lines


def _status_move(change: RuleChange) -> str:
    return f"{_LABELS[change.old]} → {_LABELS[change.new]}"


def verdict(diff: PlanDiff, fail_on: str = "info") -> str:
    """One sentence: how many rules got worse and better, and the new failures that decide the exit code."""
    worse, better, changed = (len(diff.by_direction(d)) for d in ("worse", "better", "changed"))
    new = diff.new_failures(fail_on)
    threshold = "" if fail_on == "info" else f" at or above {fail_on}"
    tail = (f"{len(new)} new failure(s){threshold}: the new plan is worse" if new
            else f"no new failure{threshold}")
    return f"{worse} rule(s) worse, {better} better, {changed} changed; {tail}"


# --- table ------------------------------------------------------------------------------------

def _table_rules(changes: Sequence[RuleChange], colour: bool, width: int) -> str:
    rows = []
    for change in changes:
        title = textwrap.shorten(change.rule.title, _TITLE, placeholder="…")
        move = _paint(_status_move(change), _COLOURS.get(change.new or ""), colour)
        rows.append([change.rule.id, change.rule.severity, title, move, "\n".join(_finding_lines(change, _SHOWN))])
    return tabulate(rows, tablefmt="plain", maxcolwidths=[None, None, _TITLE, None, max(40, width - 80)])


def _wrap_list(prefix: str, items: Sequence[str], width: int, sep: str = "; ") -> list[str]:
    return textwrap.wrap(sep.join(items), width=max(60, width), initial_indent=prefix,
                         subsequent_indent=" " * len(prefix), break_on_hyphens=False)


def control_groups(changes: Sequence[ControlChange]) -> list[str]:
    """`NISTIR 7628 Rev. 1 SG.CP-10, SG.SC-8 (unverified): pass → FAIL`: one entry per standard and move."""
    groups: dict[tuple[str, str, str, bool], list[str]] = {}
    for c in changes:
        groups.setdefault((c.control.standard, c.old, c.new, c.control.verified), []).append(c.control.id)
    return [f"{standard_name(std)} {', '.join(ids)}{'' if verified else ' (unverified)'}: {_LABELS[old]} → {_LABELS[new]}"
            for (std, old, new, verified), ids in groups.items()]


def _table_controls(diff: PlanDiff, width: int) -> list[str]:
    out = []
    for direction in ("worse", "better", "changed"):
        chosen = [c for c in diff.controls if c.direction == direction]
        if chosen:
            out += _wrap_list(f"  {direction} ({len(chosen)}): ", control_groups(chosen), width)
    return out


def _element_line(sign: str, element: ElementChange, was: bool) -> str:
    status = _LABELS[element.status]
    failing = f" ({', '.join(element.failing)})" if element.failing else ""
    prefix = "was " if was else ""
    return f"  {sign} {element.kind} {element.id} ({element.detail}, line {element.line}): {prefix}{status}{failing}"


def _waiver_line(change: WaiverChange) -> str:
    sign = {"added": "+", "removed": "-"}.get(change.kind, "~")
    where = f"line {change.waiver.line}"
    return f"  {sign} {change.kind} {change.waiver.rule} on {change.waiver.on} ({where}): {change.message}"


def _context_lines(diff: PlanDiff) -> list[str]:
    out = []
    for label, change in (("use cases", diff.use_cases), ("standards", diff.standards)):
        words = [f"+{w}" for w in change.added] + [f"-{w}" for w in change.removed]
        if words:
            out.append(f"  {label}: {' '.join(words)}")
    return out


def render_table(diff: PlanDiff, out: TextIO, *, fail_on: str = "info", color: bool | None = None, **_: Any) -> None:
    """A screen for the terminal: rules worse / better / changed, then controls, elements, waivers."""
    terminal = bool(getattr(out, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")
    colour = terminal if color is None else color
    width = shutil.get_terminal_size((140, 24)).columns
    out.write(f"old: {_shown_path(diff.old.label)}  {diff.old.report.name}: {_counts(diff.old)}\n")
    out.write(f"new: {_shown_path(diff.new.label)}  {diff.new.report.name}: {_counts(diff.new)}\n")
    if diff.unchanged:
        out.write("\nno change in results, elements or waivers\n")
    for direction in ("worse", "better", "changed"):
        chosen = diff.by_direction(direction)
        if chosen:
            out.write("\n" + _paint(f"{_HEADINGS[direction]} ({len(chosen)} rule(s))", _COLOURS[direction], colour) + "\n")
            out.write(_table_rules(chosen, colour, width) + "\n")
    sections = (
        ("Controls", _table_controls(diff, width)),
        ("Elements", [_element_line("+", e, False) for e in diff.added] + [_element_line("-", e, True) for e in diff.removed]),
        ("Waivers", [_waiver_line(w) for w in diff.waivers]),
        ("Scope", _context_lines(diff)),
        ("Unchanged failures", _wrap_list("  ", diff.still_failing(), width, ", ") if diff.still_failing() else []),
    )
    for heading, lines in sections:
        if lines:
            wrapped = [textwrap.fill(line, width=max(60, width), subsequent_indent="      ", break_on_hyphens=False)
                       for line in lines]
            out.write(f"\n{heading}\n" + "\n".join(wrapped) + "\n")
    verdict_colour = "31" if diff.exit_code(fail_on) else "32"
    out.write("\n" + _paint(verdict(diff, fail_on), verdict_colour, colour) + "\n")


# --- markdown ---------------------------------------------------------------------------------

def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_rules(changes: Sequence[RuleChange]) -> list[str]:
    out = ["| rule | severity | title | status | elements |", "|---|---|---|---|---|"]
    for c in changes:
        elements = "<br>".join(_md(line) for line in _finding_lines(c, None)) or ""
        out.append(f"| `{c.rule.id}` | {c.rule.severity} | {_md(c.rule.title)} | {_status_move(c)} | {elements} |")
    return out


def render_markdown(diff: PlanDiff, out: TextIO, *, fail_on: str = "info", **_: Any) -> None:
    """A review comment: a verdict, then a section per kind of change (GitHub-flavoured Markdown)."""
    lines = [
        f"## amisec diff: {_md(diff.new.report.name)}",
        "",
        f"**{'WORSE' if diff.exit_code(fail_on) else 'NO NEW FAILURES'}** — {verdict(diff, fail_on)}",
        "",
        f"- old: `{_shown_path(diff.old.label)}` — {_counts(diff.old)}",
        f"- new: `{_shown_path(diff.new.label)}` — {_counts(diff.new)}",
    ]
    for direction in ("worse", "better", "changed"):
        chosen = diff.by_direction(direction)
        if chosen:
            lines += ["", f"### {_HEADINGS[direction]} ({len(chosen)} rule(s))", "", *_md_rules(chosen)]
    if diff.controls:
        lines += ["", f"### Controls ({len(diff.controls)})", "", "| control | status | rules |", "|---|---|---|"]
        lines += [f"| {_md(control_label(c.control))} {_md(c.control.title)} | {_LABELS[c.old]} → {_LABELS[c.new]} | "
                  f"{', '.join(c.rules)} |" for c in diff.controls]
    if diff.added or diff.removed:
        lines += ["", "### Elements", ""]
        lines += [f"- {_md(_element_line('added', e, False).strip())}" for e in diff.added]
        lines += [f"- {_md(_element_line('removed', e, True).strip())}" for e in diff.removed]
    if diff.waivers:
        lines += ["", "### Waivers", ""] + [f"- {_md(_waiver_line(w).strip()[2:])}" for w in diff.waivers]
    context = _context_lines(diff)
    if context:
        lines += ["", "### Scope", ""] + [f"- {line.strip()}" for line in context]
    if diff.still_failing():
        lines += ["", "### Unchanged failures", "", ", ".join(f"`{i}`" for i in diff.still_failing())]
    out.write("\n".join(lines) + "\n")


# --- json -------------------------------------------------------------------------------------

def _finding_json(change: FindingChange) -> dict[str, Any]:
    s = change.finding.subject
    return {"element": s.id, "collection": s.collection, "kind": s.kind, "how": change.how, "message": change.finding.message,
            "location": {"file": s.file, "line": s.line, "column": s.column}}


def _element_json(e: ElementChange) -> dict[str, Any]:
    return {"collection": e.collection, "id": e.id, "kind": e.kind, "detail": e.detail, "line": e.line,
            "status": e.status, "failing_rules": list(e.failing)}


def _waiver_json(w: WaiverChange) -> dict[str, Any]:
    v = w.waiver
    return {"change": w.kind, "rule": v.rule, "on": v.on, "reason": v.reason, "approved_by": v.approved_by,
            "expires": v.expires, "expired": v.expired, "previous_expires": w.old.expires if w.old else None,
            "message": w.message, "location": {"file": v.file, "line": v.line, "column": v.column}}


def _side(snapshot: Any) -> dict[str, Any]:
    return {"label": snapshot.label, "file": snapshot.report.file, "sha256": snapshot.report.sha256,
            "name": snapshot.report.name, "summary": count_statuses(snapshot.report.results)}


def to_dict(diff: PlanDiff, fail_on: str = "info") -> dict[str, Any]:
    """The comparison as JSON-ready data."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "amisec", "command": "diff"},
        "old": _side(diff.old),
        "new": _side(diff.new),
        "verdict": verdict(diff, fail_on),
        "new_failures": len(diff.new_failures(fail_on)),
        "fail_on": fail_on,
        "rules": [{"id": c.rule.id, "title": c.rule.title, "severity": c.rule.severity, "direction": c.direction,
                   "old": c.old, "new": c.new, "introduced": [_finding_json(f) for f in c.introduced],
                   "resolved": [_finding_json(f) for f in c.resolved]} for c in diff.rules],
        "controls": [{"standard": c.control.standard, "id": c.control.id, "title": c.control.title,
                      "verified": c.control.verified, "old": c.old, "new": c.new, "direction": c.direction,
                      "rules": list(c.rules)} for c in diff.controls],
        "elements": {"added": [_element_json(e) for e in diff.added], "removed": [_element_json(e) for e in diff.removed]},
        "waivers": [_waiver_json(w) for w in diff.waivers],
        "still_failing": list(diff.still_failing()),
        "use_cases": {"added": list(diff.use_cases.added), "removed": list(diff.use_cases.removed)},
        "standards": {"added": list(diff.standards.added), "removed": list(diff.standards.removed)},
    }


def render_json(diff: PlanDiff, out: TextIO, *, fail_on: str = "info", **_: Any) -> None:
    """Indented JSON with a trailing newline."""
    json.dump(to_dict(diff, fail_on), out, indent=2, ensure_ascii=False)
    out.write("\n")


DIFF_FORMATS: dict[str, Callable[..., None]] = {"table": render_table, "markdown": render_markdown, "json": render_json}
