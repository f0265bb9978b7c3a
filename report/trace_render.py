"""Render a trace (`amisec trace`): `table` (terminal), `markdown`, `csv` (one record per row) and `json`.

Every renderer has the signature `render(trace, out, *, color)`; TRACE_FORMATS maps names to them.
The JSON schema is stable: `schema_version` changes only when a field is removed or changes meaning.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
from typing import Any, Callable, TextIO

from tabulate import tabulate

from amisec.report.common import standard_name
from amisec.traceability import (
    NOT_CHECKABLE,
    NOT_RUN,
    ControlGap,
    DeploymentTrace,
    TracedControl,
    TracedElement,
    TracedObjective,
    TracedRule,
    TraceReport,
)

SCHEMA_VERSION = "1.0"
SCOPE_MARK = "†"
_LABELS = {"fail": "FAIL", "waived": "waived", "pass": "pass", "not_applicable": "n/a",
           NOT_CHECKABLE: "not checkable", NOT_RUN: "not run"}
_COLOURS = {"fail": "31", "waived": "33", "pass": "32", "not_applicable": "2"}


def _shown_path(path: str) -> str:
    relative = os.path.relpath(path) if os.path.isabs(path) else path
    return path if relative.startswith("..") else relative


def _status(status: str, colour: bool = False) -> str:
    text = _LABELS.get(status, status)
    code = _COLOURS.get(status)
    return f"\x1b[{code}m{text}\x1b[0m" if colour and code else text


def _control_text(control: TracedControl | ControlGap) -> str:
    return control.label + (f" {SCOPE_MARK}" if control.scope_note else "")


def _element_text(element: TracedElement) -> str:
    return f"{element.id} ({_shown_path(element.file)}:{element.line}) {_LABELS[element.status]}"


def _elements(rule: TracedRule) -> list[str]:
    """The failing elements of a rule, or what it found when none fails (its evidence or reason)."""
    return [_element_text(e) for e in rule.elements] or ([rule.detail] if rule.detail else [])


def _standards_line(trace: DeploymentTrace) -> str:
    if not trace.standards:
        return "standards: none selected (the deployment has no standards line; choose with --standard KEY)"
    names = ", ".join(f"{standard_name(k)} ({k})" for k in trace.standards)
    source = "--standard" if trace.standards_from == "command line" else "the deployment's standards line"
    return f"standards: {names} (from {source})"


def _summary_line(trace: DeploymentTrace) -> str:
    s = trace.summary()
    by_status = ", ".join(f"{n} {_LABELS[k]}" for k, n in s["status"].items())
    controls = s["controls"]
    return (f"{s['objectives']} objectives: {s['checked']} checked by rules ({by_status}), "
            f"{s['not_checkable']} not checkable; {controls['uncovered']} of {controls['selected']} controls "
            f"of the selected standards covered by no rule")


def _objective_cell(item: TracedObjective) -> str:
    o = item.objective
    lines = [f"{o.id} [{_LABELS.get(item.status, item.status)}]", o.text]
    if o.note:
        lines.append(f"partly: {o.note}")
    return "\n".join(lines)


def _matrix_rows(trace: DeploymentTrace, colour: bool) -> list[list[str]]:
    """One row per objective and rule; the objective's cells only on its first row."""
    rows = []
    for item in trace.matrix:
        for n, rule in enumerate(item.rules):
            first = n == 0
            rows.append([item.objective.section if first else "", _objective_cell(item) if first else "", rule.id,
                         _status(rule.status, colour), "\n".join(_control_text(c) for c in rule.controls) or "—",
                         "\n".join(_elements(rule))])
    for rule in trace.untraced:
        rows.append([rule.section, f"(rule METADATA)\n{rule.objective}", rule.id, _status(rule.status, colour),
                     "\n".join(_control_text(c) for c in rule.controls) or "—", "\n".join(_elements(rule))])
    return rows


def _gap_rows(trace: DeploymentTrace) -> list[list[str]]:
    return [[g.objective.id, g.objective.text, g.objective.not_checkable] for g in trace.explained_gaps]


def _control_gap_rows(trace: DeploymentTrace) -> list[list[str]]:
    return [[_control_text(c), c.title] for c in trace.control_gaps]


def _notes(trace: DeploymentTrace) -> list[str]:
    return [f"{SCOPE_MARK} {name}: {note}" for name, note in trace.scope_notes().items()]


# --- table ------------------------------------------------------------------------------------

def _table_deployment(trace: DeploymentTrace, out: TextIO, colour: bool, width: int) -> None:
    # control labels stay on one line where they fit; objective and elements share what is left
    labels = [_control_text(c) for item in trace.matrix for r in item.rules for c in r.controls]
    control_width = min(46, max((len(text) for text in labels), default=10))
    share = max(60, width - 40 - control_width)
    widths = [None, max(28, share // 2), None, None, control_width, max(28, share // 2)]
    out.write(f"{trace.name} ({_shown_path(trace.file)})\n{_standards_line(trace)}\n\n")
    out.write("Traceability matrix: objective (AMI security architecture section) → rule → controls → elements\n")
    out.write(tabulate(_matrix_rows(trace, colour), headers=["§", "objective", "rule", "status", "controls", "elements / evidence"],
                       tablefmt="simple", maxcolwidths=widths, disable_numparse=True) + "\n")
    if trace.explained_gaps:
        out.write(f"\nObjectives no rule checks ({len(trace.explained_gaps)}, explained)\n")
        text_width = max(30, (width - 20) // 2)
        out.write(tabulate(_gap_rows(trace), headers=["objective", "text", "why a deployment cannot show it"],
                           tablefmt="simple", maxcolwidths=[None, text_width, text_width], disable_numparse=True) + "\n")
    if trace.control_gaps:
        out.write(f"\nControls of the selected standards no rule covers ({len(trace.control_gaps)})\n")
        out.write(tabulate(_control_gap_rows(trace), headers=["control", "title"], tablefmt="simple",
                           maxcolwidths=[None, max(30, width - 50)], disable_numparse=True) + "\n")
    for note in _notes(trace):
        out.write(f"\n{note}\n")
    out.write(f"\n{_shown_path(trace.file)}: {_summary_line(trace)}\n")


def render_table(trace: TraceReport, out: TextIO, *, color: bool | None = None, **_: Any) -> None:
    """The matrix and the gaps for a terminal; colour only on a terminal without NO_COLOR, or as `color` says."""
    terminal = bool(getattr(out, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")
    colour = terminal if color is None else color
    width = shutil.get_terminal_size((160, 24)).columns
    for n, deployment in enumerate(trace.deployments):
        if n:
            out.write("\n")
        _table_deployment(deployment, out, colour, width)


# --- markdown ---------------------------------------------------------------------------------

def _md(text: str) -> str:
    """Text safe in a Markdown table cell; line breaks become <br>."""
    lines = text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").split("\n")
    return "<br>".join(lines)


def _md_table(headers: list[str], rows: list[list[str]]) -> str:
    return tabulate([[_md(c) for c in row] for row in rows], headers=headers, tablefmt="github", disable_numparse=True)


def _markdown_deployment(trace: DeploymentTrace) -> list[str]:
    out = [
        f"## Traceability: {_md(trace.name or trace.file)}",
        "",
        f"File `{trace.file}` · {_md(_standards_line(trace))}",
        "",
        f"**{_md(_summary_line(trace))}**",
        "",
        "### Matrix",
        "",
        "Objective (AMI security architecture section) → rule → standard controls → deployment elements.",
        "",
        _md_table(["§", "objective", "rule", "status", "controls", "elements / evidence"], _matrix_rows(trace, False)),
        "",
    ]
    if trace.explained_gaps:
        out += ["### Objectives no rule checks (explained gaps)", "",
                _md_table(["objective", "text", "why a deployment cannot show it"], _gap_rows(trace)), ""]
    if trace.control_gaps:
        out += ["### Controls of the selected standards no rule covers", "",
                _md_table(["control", "title"], _control_gap_rows(trace)), ""]
    out += [f"{_md(note)}\n" for note in _notes(trace)]
    return out


def render_markdown(trace: TraceReport, out: TextIO, **_: Any) -> None:
    """GitHub-flavoured Markdown: per deployment the summary, the matrix and the gaps."""
    lines = ["# amisec traceability", ""]
    for deployment in trace.deployments:
        lines += _markdown_deployment(deployment)
    out.write("\n".join(lines).rstrip("\n") + "\n")


# --- csv --------------------------------------------------------------------------------------

CSV_FIELDS = ("record", "deployment", "objective_id", "section", "context", "objective", "objective_status", "note",
              "rule", "rule_title", "status", "controls", "elements", "detail", "reason",
              "standard", "control", "control_title", "verified", "scope_note")


def _scope_notes_of(controls: tuple[TracedControl, ...]) -> str:
    notes = {c.standard_name: c.scope_note for c in controls if c.scope_note}
    return " ".join(f"{name}: {note}" for name, note in notes.items())


def _csv_rule(trace: DeploymentTrace, rule: TracedRule) -> dict[str, str]:
    return {
        "deployment": trace.file, "rule": rule.id, "rule_title": rule.title, "status": rule.status,
        "controls": "; ".join(c.label for c in rule.controls),
        "elements": "; ".join(f"{e.id} ({e.location}) {e.status}" for e in rule.elements),
        "detail": rule.detail, "scope_note": _scope_notes_of(rule.controls),
    }


def _csv_records(trace: DeploymentTrace) -> list[dict[str, str]]:
    records = []
    for item in trace.objectives:
        o = item.objective
        base = {"deployment": trace.file, "objective_id": o.id, "section": o.section, "context": o.context,
                "objective": o.text, "objective_status": item.status, "note": o.note}
        if not o.rules:
            records.append({**base, "record": "objective_gap", "reason": o.not_checkable})
        records += [{**_csv_rule(trace, rule), **base, "record": "matrix"} for rule in item.rules]
    records += [{**_csv_rule(trace, rule), "record": "untraced_rule", "section": rule.section, "objective": rule.objective}
                for rule in trace.untraced]
    records += [{"record": "control_gap", "deployment": trace.file, "standard": c.standard, "control": c.id,
                 "control_title": c.title, "verified": str(c.verified).lower(), "scope_note": c.scope_note}
                for c in trace.control_gaps]
    return records


def render_csv(trace: TraceReport, out: TextIO, **_: Any) -> None:
    """One CSV record per matrix row (objective × rule), explained gap, uncovered control and untraced rule."""
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, restval="", lineterminator="\n")
    writer.writeheader()
    for deployment in trace.deployments:
        writer.writerows(_csv_records(deployment))


# --- json -------------------------------------------------------------------------------------

def _json_control(control: TracedControl | ControlGap) -> dict[str, Any]:
    return {"standard": control.standard, "id": control.id, "title": control.title, "verified": control.verified,
            "label": control.label, "scope_note": control.scope_note or None}


def _json_element(element: TracedElement) -> dict[str, Any]:
    return {"id": element.id, "kind": element.kind, "status": element.status, "message": element.message,
            "location": {"file": element.file, "line": element.line, "column": element.column}}


def _json_rule(rule: TracedRule) -> dict[str, Any]:
    return {"id": rule.id, "title": rule.title, "severity": rule.severity, "section": rule.section,
            "objective": rule.objective, "status": rule.status, "detail": rule.detail,
            "controls": [_json_control(c) for c in rule.controls], "elements": [_json_element(e) for e in rule.elements]}


def _json_objective(item: TracedObjective) -> dict[str, Any]:
    o = item.objective
    return {"id": o.id, "section": o.section, "kind": o.kind, "context": o.context, "text": o.text,
            "status": item.status, "note": o.note or None, "not_checkable": o.not_checkable or None,
            "rules": [_json_rule(r) for r in item.rules]}


def _json_deployment(trace: DeploymentTrace) -> dict[str, Any]:
    return {
        "file": trace.file,
        "name": trace.name,
        "standards": list(trace.standards),
        "standards_from": trace.standards_from,
        "summary": trace.summary(),
        "objectives": [_json_objective(o) for o in trace.objectives],
        "gaps": {
            "objectives": [{"id": g.objective.id, "section": g.objective.section, "context": g.objective.context,
                            "text": g.objective.text, "reason": g.objective.not_checkable} for g in trace.explained_gaps],
            "controls": [_json_control(c) for c in trace.control_gaps],
        },
        "untraced_rules": [_json_rule(r) for r in trace.untraced],
    }


def to_json(trace: TraceReport) -> dict[str, Any]:
    """The trace as a JSON-ready document."""
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "amisec", "version": trace.tool_version},
        "engine": {"name": trace.engine, "version": trace.engine_version},
        "policy_digest": trace.policy_digest,
        "standards_digest": trace.standards_digest,
        "timestamp": trace.timestamp,
        "deployments": [_json_deployment(d) for d in trace.deployments],
    }


def render_json(trace: TraceReport, out: TextIO, **_: Any) -> None:
    """The trace as indented JSON."""
    out.write(json.dumps(to_json(trace), indent=2, ensure_ascii=False) + "\n")


TRACE_FORMATS: dict[str, Callable[..., None]] = {
    "table": render_table,
    "markdown": render_markdown,
    "csv": render_csv,
    "json": render_json,
}
