"""Render `amisec standards [STANDARD]`: each control of the shipped catalogs with the rules that cover it.

`table` groups the rows by standard, under the catalog's name, version and note; `json` is a list
of rows. STANDARDS_FORMATS maps the format names to `render(rows, out)`.
"""
from __future__ import annotations

import json
from itertools import groupby
from typing import Any, Callable, Sequence, TextIO

from tabulate import tabulate

from amisec.standards import StandardsRow, load_catalogs


def _rules_text(row: StandardsRow) -> str:
    return ", ".join(row.rules) or "—"


def render_table(rows: Sequence[StandardsRow], out: TextIO, **_: Any) -> None:
    """One table per standard, with its name, version, note and how many controls rules cover."""
    catalogs = load_catalogs()
    for n, (key, group) in enumerate(groupby(rows, key=lambda r: r.standard)):
        mine = list(group)
        catalog = catalogs[key]
        covered = sum(1 for r in mine if r.rules)
        if n:
            out.write("\n")
        out.write(f"{catalog.name} ({key}) — {catalog.title}; {catalog.version}\n")
        if catalog.note:
            out.write(f"note: {catalog.note}\n")
        table = [[r.label, r.title, _rules_text(r)] for r in mine]
        out.write(tabulate(table, headers=["control", "title", "rules"], tablefmt="simple", maxcolwidths=[None, 60, 60], disable_numparse=True) + "\n")
        out.write(f"{key}: {len(mine)} controls, {covered} covered by rules, {len(mine) - covered} by none\n")


def render_json(rows: Sequence[StandardsRow], out: TextIO, **_: Any) -> None:
    """The rows as a JSON list; each has its display `label` (`SG.SC-8 (unverified)`) too."""
    out.write(json.dumps([{**r.as_dict(), "label": r.label} for r in rows], indent=2, ensure_ascii=False) + "\n")


STANDARDS_FORMATS: dict[str, Callable[..., None]] = {"table": render_table, "json": render_json}
